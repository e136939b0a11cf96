"""The plain-numpy floor: read the NIfTI slice by slice, write the same bytes, a file a slice."""

import os
import sys

import numpy as np
from slices import slices

source, folder = sys.argv[1], sys.argv[2]
os.makedirs(folder)
for number, _, plane in slices(source):
    with open(os.path.join(folder, f"{number:05d}.raw"), "wb") as handle:
        handle.write(b"\0" * 1400)  # about a DICOM header's worth of bytes
        handle.write(plane.astype(np.int16, copy=False).tobytes())
