"""Read an image lazily, one slice at a time, with its value range (never the whole volume)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import VinciError


@dataclass
class Volume:
    """A 3D or 4D image: nibabel's lazy data object, its affine and shape (x, y, z, t)."""

    dataobj: object
    affine: np.ndarray
    shape: tuple[int, int, int, int]
    integral: bool
    source: str
    nan_value: float | None = None

    @property
    def frames(self) -> int:
        return self.shape[3]

    @property
    def slices(self) -> int:
        return self.shape[2]

    def slice(self, k: int, t: int = 0) -> np.ndarray:
        """Slice k of frame t as a (rows=y, columns=x) array, NaN replaced when asked."""
        index = (slice(None), slice(None), k) + ((t,) if len(self.dataobj.shape) == 4 else ())
        data = np.asarray(self.dataobj[index]).T
        if self.nan_value is not None and data.dtype.kind == "f":
            data = np.where(np.isfinite(data), data, self.nan_value)
        return data

    def planes(self) -> Iterator[tuple[int, int, np.ndarray]]:
        """Every slice, frame-major: (frame, slice, data)."""
        for t in range(self.frames):
            for k in range(self.slices):
                yield t, k, self.slice(k, t)


def open_volume(path: str | Path, nan_value: float | None = None) -> Volume:
    """Open any image nibabel reads, lazily; 2D, 5D and unreadable files are refused."""
    import nibabel as nib
    from nibabel.filebasedimages import ImageFileError

    path = Path(path)
    if not path.exists():
        raise VinciError(f"{path}: no such file; give an image file (NIfTI, MGH, Analyze, ...)")
    try:
        image = _load(nib, path)
    except (ImageFileError, OSError, ValueError, EOFError) as exc:
        raise VinciError(
            f"{path}: nibabel cannot read it ({exc}); give a NIfTI, MGH, "
            "Analyze, MINC or ECAT image"
        ) from None
    shape = tuple(int(n) for n in image.shape)
    if len(shape) == 4 and shape[3] == 1:
        shape = shape[:3]
    if len(shape) not in (3, 4) or min(shape) < 1:
        raise VinciError(
            f"{path}: the image is {len(shape)}D {shape}; only 3D and 4D images "
            "can be written as a DICOM series"
        )
    dataobj = image.dataobj if len(image.shape) == len(shape) else _Squeezed(image.dataobj)
    if np.dtype(image.get_data_dtype()).kind == "c":
        raise VinciError(f"{path}: complex voxels cannot be stored; export magnitude or phase")
    slope, intercept = getattr(image.dataobj, "slope", 1.0), getattr(image.dataobj, "inter", 0.0)
    integral = np.dtype(image.get_data_dtype()).kind in "iub" and _is_identity(slope, intercept)
    full = shape + (1,) * (4 - len(shape))
    return Volume(dataobj, image.affine, full, integral, str(path), nan_value)


def _load(nib, path: Path):
    """Load without memory-mapping (mapped pages count in RSS); keep .gz files open so that
    slices read in order decompress once."""
    try:
        return nib.load(str(path), mmap=False, keep_file_open=True)
    except TypeError:  # formats without those options
        return nib.load(str(path))


def _is_identity(slope: object, intercept: object) -> bool:
    slope = 1.0 if slope is None or not np.isfinite(slope) else float(slope)
    intercept = 0.0 if intercept is None or not np.isfinite(intercept) else float(intercept)
    return slope == 1.0 and intercept == 0.0


class _Squeezed:
    """A 4D data object with one frame, seen as 3D."""

    def __init__(self, dataobj):
        self.dataobj = dataobj
        self.shape = tuple(dataobj.shape[:3])

    def __getitem__(self, index):
        return self.dataobj[index + (0,)]


def value_range(volume: Volume, per_slice: bool) -> tuple[float, float, list[tuple[float, float]]]:
    """Global (low, high) and, when asked, each plane's, frame-major; NaN/Inf refused."""
    low, high = np.inf, -np.inf
    planes = []
    for t, k, data in volume.planes():
        if data.dtype.kind == "f" and not np.all(np.isfinite(data)):
            raise VinciError(
                f"{volume.source}: slice {k} of frame {t} holds NaN or infinite voxels; "
                "replace them first or pass --nan-value V"
            )
        plane = (float(data.min()), float(data.max()))
        low, high = min(low, plane[0]), max(high, plane[1])
        if per_slice:
            planes.append(plane)
    return low, high, planes
