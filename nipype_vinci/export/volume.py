"""Read an image lazily, one slice at a time, with its value range (never the whole volume)."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import VinciError, field_error

CHUNK_BYTES = 8 * 2**20


@dataclass
class Volume:
    """A 3D or 4D image: nibabel's lazy data object, its affine and shape (x, y, z, t)."""

    dataobj: object
    affine: np.ndarray
    shape: tuple[int, int, int, int]
    integral: bool
    source: str
    itemsize: int
    nan_value: float | None = None
    digest: object | None = None  # a hash of the voxels, fed by value_range when asked

    def content_digest(self) -> str:
        """What the image holds: its voxels (hashed as value_range read them), affine and
        shape."""
        if self.digest is None:
            raise RuntimeError("the voxels were not hashed: open the volume with digest=True")
        self.digest.update(np.ascontiguousarray(self.affine, dtype="<f8").tobytes())
        self.digest.update(repr(self.shape).encode())
        return self.digest.hexdigest()

    @property
    def frames(self) -> int:
        return self.shape[3]

    @property
    def slices(self) -> int:
        return self.shape[2]

    def chunks(self) -> Iterator[tuple[int, int, np.ndarray]]:
        """Runs of slices, frame-major, as (frame, first slice, x by y by n array), a few
        megabytes at a time (one read per slice costs more than the bytes); NaN replaced
        when asked."""
        plane_bytes = self.shape[0] * self.shape[1] * self.itemsize
        step = max(1, CHUNK_BYTES // plane_bytes)
        four_d = len(self.dataobj.shape) == 4
        for t in range(self.frames):
            for first in range(0, self.slices, step):
                index = (slice(None), slice(None), slice(first, first + step))
                chunk = self._read(index + ((t,) if four_d else ()))
                if self.nan_value is not None and chunk.dtype.kind == "f":
                    chunk = np.where(np.isfinite(chunk), chunk, self.nan_value)
                yield t, first, chunk

    def _read(self, index: tuple) -> np.ndarray:
        try:
            return np.asarray(self.dataobj[index])
        except (OSError, EOFError, ValueError, zlib.error) as exc:
            raise VinciError(
                f"{self.source}: its voxels cannot be read ({exc}); the file is cut short "
                "or damaged: write or copy it again"
            ) from None

    def planes(self) -> Iterator[tuple[int, int, np.ndarray]]:
        """Every slice, frame-major, as (frame, slice, rows=y by columns=x array)."""
        for t, first, chunk in self.chunks():
            for j in range(chunk.shape[2]):
                yield t, first + j, chunk[:, :, j].T


def open_volume(path: str | Path, nan_value: float | None = None, digest: bool = False) -> Volume:
    """Open any image nibabel reads, lazily; 2D, 5D and unreadable files are refused. With
    ``digest``, the value range pass also hashes the voxels."""
    import nibabel as nib
    from nibabel.filebasedimages import ImageFileError
    from nibabel.spatialimages import HeaderDataError

    path = Path(path)
    if not path.exists():
        raise VinciError(f"{path}: no such file; give an image file (NIfTI, MGH, Analyze, ...)")
    if path.is_dir():
        raise VinciError(f"{path}: is a folder; give an image file (NIfTI, MGH, Analyze, ...)")
    try:
        image = _load(nib, path)
        dtype = np.dtype(image.get_data_dtype())
    except (ImageFileError, HeaderDataError, OSError, ValueError, EOFError, zlib.error) as exc:
        raise VinciError(
            f"{path}: nibabel cannot read it ({exc}); give a NIfTI, MGH, "
            "Analyze, MINC or ECAT image"
        ) from None
    _check_voxel_type(path, dtype)
    shape = tuple(int(n) for n in image.shape)
    if len(shape) == 4 and shape[3] == 1:
        shape = shape[:3]
    if len(shape) not in (3, 4) or min(shape) < 1:
        raise VinciError(
            f"{path}: the image is {len(shape)}D {shape}; only 3D and 4D images "
            "can be written as a DICOM series"
        )
    dataobj = image.dataobj if len(image.shape) == len(shape) else _Squeezed(image.dataobj)
    slope, intercept = getattr(image.dataobj, "slope", 1.0), getattr(image.dataobj, "inter", 0.0)
    integral = dtype.kind in "iub" and _is_identity(slope, intercept)
    full = shape + (1,) * (4 - len(shape))
    hasher = hashlib.blake2b(digest_size=32) if digest else None
    return Volume(
        dataobj, image.affine, full, integral, str(path), dtype.itemsize, nan_value, hasher
    )


def _check_voxel_type(path: Path, dtype: np.dtype) -> None:
    """Only numbers of one channel can be stored as grey-scale pixels."""
    if dtype.kind == "c":
        raise VinciError(f"{path}: complex voxels cannot be stored; export magnitude or phase")
    if dtype.fields is not None or dtype.subdtype is not None:
        raise VinciError(
            f"{path}: colour (RGB) or multi-channel voxels cannot be stored as one "
            "grey-scale series; export one channel or a grey-scale image"
        )
    if dtype.kind not in "iufb":
        raise VinciError(f"{path}: voxels of type {dtype} cannot be stored; give numbers")


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


def value_range(volume: Volume) -> tuple[float, float, list[tuple[float, float]]]:
    """Global (low, high) and each plane's, frame-major; NaN/Inf refused."""
    low, high = np.inf, -np.inf
    planes: list[tuple[float, float]] = []
    for t, first, chunk in volume.chunks():
        if volume.digest is not None:
            volume.digest.update(np.ascontiguousarray(chunk))
        lows, highs = chunk.min(axis=(0, 1)), chunk.max(axis=(0, 1))  # NaN and Inf show here
        finite = np.isfinite(lows) & np.isfinite(highs)
        if not finite.all():
            raise field_error(
                "nan_value",
                f"{volume.source}: slice {first + int(np.argmin(finite))} of frame {t} holds "
                "NaN or infinite voxels; replace them first or give a value to store instead",
            )
        low, high = min(low, float(lows.min())), max(high, float(highs.max()))
        planes += [(float(a), float(b)) for a, b in zip(lows, highs)]
    return low, high, planes
