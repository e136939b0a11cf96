"""The plain-numpy floor: read the NIfTI slice by slice, write the same bytes, a file a slice."""

import os
import sys

import nibabel as nib
import numpy as np

source, folder = sys.argv[1], sys.argv[2]
os.makedirs(folder)
image = nib.load(source, mmap=False)
proxy = image.dataobj
shape = image.shape
frames = shape[3] if len(shape) == 4 else 1
number = 0
for t in range(frames):
    for k in range(shape[2]):
        index = (slice(None), slice(None), k) + ((t,) if frames > 1 else ())
        plane = np.ascontiguousarray(np.asarray(proxy[index]).T)
        number += 1
        with open(os.path.join(folder, f"{number:05d}.raw"), "wb") as handle:
            handle.write(b"\0" * 1400)  # about a DICOM header's worth of bytes
            handle.write(plane.astype(np.int16, copy=False).tobytes())
