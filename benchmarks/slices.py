"""The slices of a NIfTI as the benchmark's plain writers read them: one nibabel read each."""

from collections.abc import Iterator

import nibabel as nib
import numpy as np


def slices(source: str) -> Iterator[tuple[int, int, np.ndarray]]:
    """(file number from 1, slice index, rows by columns array), frame-major."""
    image = nib.load(source, mmap=False)
    shape = image.shape
    frames = shape[3] if len(shape) == 4 else 1
    number = 0
    for t in range(frames):
        for k in range(shape[2]):
            index = (slice(None), slice(None), k) + ((t,) if frames > 1 else ())
            number += 1
            yield number, k, np.ascontiguousarray(np.asarray(image.dataobj[index]).T)
