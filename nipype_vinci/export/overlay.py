"""A fused overlay: an image (PET, a statistical map) in colour over a windowed base (CT, MR),
written as RGB Secondary Capture, one file per slice of the base, with a colour bar."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from pydicom.uid import UID, ExplicitVRLittleEndian

from ..dicomio import read_series
from ..encode import transfer_syntax
from ..encode.compressed import require_codec
from ..errors import Problem, VinciError
from ..fields import checked_kind_fields
from .capture import rgb_instance, series_header, write_instance
from .colormaps import LEVELS, colormap
from .digest import files_digest
from .geometry import geometry_from_affine
from .grid import series_grid, voxel_map
from .output import atomic_folder, file_name
from .seg import SERIES_NUMBER_OFFSET
from .uids import UidSource, run_clock
from .volume import open_volume

DESCRIPTION = "Fused overlay"  # the series description unless one is given
DEFAULT_PERCENTILES = (1.0, 99.0)  # base window and image range when not given
PERCENTILE_SAMPLE = 1_000_000  # voxels (evenly strided) the default percentiles come from


@dataclass
class OverlayOptions:
    """How to fuse: colour map, opacity, base window, image range, reference, UIDs."""

    colormap: str = "hot"
    alpha: float = 0.5
    base_window: tuple[float, float] | None = None  # centre, width
    value_range: tuple[float, float] | None = None  # low, high
    reference: str | Path | None = None
    uid_seed: str | None = None
    series_number: int | None = None
    series_description: str | None = None  # default: DESCRIPTION
    transfer_syntax: str | None = None  # a name of encode.TRANSFER_SYNTAXES; default explicit
    overwrite: bool = False
    reproducible: bool = False  # UIDs derived from the inputs even without a seed
    clock: datetime | None = None


@dataclass
class OverlayReport:
    """What was written (``--json``, the node's report file)."""

    base: str
    image: str
    output: str
    files: list[str]
    study_instance_uid: str
    series_instance_uid: str
    frame_of_reference_uid: str
    colormap: str
    alpha: float
    base_window: list[float]
    value_range: list[float]
    colorbar: dict
    shape: list[int]
    reference: str | None = None
    transfer_syntax: str = ExplicitVRLittleEndian
    kind: str = "overlay"
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def to_gray(plane: np.ndarray, centre: float, width: float) -> np.ndarray:
    """Base values to grey levels 0..255 (float): linear from centre - width/2 to + width/2."""
    return np.clip((plane - (centre - width / 2)) / width, 0.0, 1.0) * (LEVELS - 1)


def blend(
    gray: np.ndarray,
    values: np.ndarray,
    table: np.ndarray,
    value_range: tuple[float, float],
    alpha: float,
) -> np.ndarray:
    """RGB uint8: the colour of each value over the grey base with opacity ``alpha``; values
    at or below the low end of the range, NaN (outside the image) included, stay
    transparent."""
    low, high = value_range
    with np.errstate(invalid="ignore"):
        shown = np.isfinite(values) & (values > low)
        level = np.clip((np.nan_to_num(values, nan=low) - low) / (high - low), 0.0, 1.0)
    colour = table[np.rint(level * (LEVELS - 1)).astype(np.intp)]
    weight = np.where(shown, np.float32(alpha), np.float32(0))[..., None]
    out = gray.astype(np.float32)[..., None] * (1 - weight) + colour * weight
    return np.rint(out).astype(np.uint8)


def colorbar_box(rows: int, columns: int) -> dict:
    """Where the colour bar goes: a strip near the right edge, a sixth of the height short."""
    width = max(3, columns // 32)
    right = columns - max(1, columns // 64)
    margin = rows // 12
    return {"top": margin, "bottom": rows - margin, "left": right - width, "right": right}


def burn_colorbar(rgb: np.ndarray, table: np.ndarray, box: dict) -> None:
    """Paint the colour map into ``box`` of the slice: the high end at the top."""
    height = box["bottom"] - box["top"]
    levels = np.rint(np.linspace(LEVELS - 1, 0, height)).astype(np.intp)
    rgb[box["top"] : box["bottom"], box["left"] : box["right"]] = table[levels][:, None, :]


class Resampler:
    """The image's values on each slice of the base grid (linear; NaN outside the image)."""

    def __init__(self, data: np.ndarray, image_affine: np.ndarray, base_affine: np.ndarray):
        self.data = data
        self.mapping = np.linalg.solve(image_affine, base_affine)  # base voxel -> image voxel

    def plane(self, k: int, shape: tuple[int, int]) -> np.ndarray:
        """Slice k of the base grid as rows x columns."""
        from scipy.ndimage import affine_transform

        matrix, offset = self.mapping[:3, :3], self.mapping[:3, 3] + k * self.mapping[:3, 2]
        if not np.any(matrix - np.diag(np.diagonal(matrix))):
            matrix = np.diagonal(matrix)  # axes aligned: scipy's faster zoom-and-shift path
        out = affine_transform(
            self.data,
            matrix,
            offset=offset,
            output_shape=(shape[0], shape[1], 1),
            order=1,
            mode="constant",
            cval=np.nan,
        )
        return out[:, :, 0].T


def _volume_data(path: str | Path, what: str) -> tuple[np.ndarray, np.ndarray]:
    volume = open_volume(path)
    if volume.frames > 1:
        raise VinciError(f"{path}: the {what} has {volume.frames} frames; give a 3D image")
    data = np.asarray(volume.dataobj, dtype=np.float32)
    return data.reshape(volume.shape[:3]), volume.affine


def _percentiles(data: np.ndarray, what: str) -> tuple[float, float]:
    sample = data.ravel(order="K")[:: max(1, data.size // PERCENTILE_SAMPLE)]
    finite = sample[np.isfinite(sample)]
    if not finite.size:
        raise VinciError(f"{what}: holds no finite value")
    low, high = np.percentile(finite, DEFAULT_PERCENTILES)
    return float(low), float(high)


def _default_window(base: np.ndarray, what: str) -> tuple[float, float]:
    low, high = _percentiles(base, what)
    return (low + high) / 2, max(high - low, 1e-6)


def _check(window: tuple[float, float], value_range: tuple[float, float]) -> None:
    centre, width = window
    low, high = value_range
    problems = []
    if not (np.isfinite(centre) and np.isfinite(width) and width > 0):
        text = f"{centre:g} {width:g}: give a finite centre and a width above 0"
        problems.append(Problem(text, "base_window"))
    if not (np.isfinite(low) and np.isfinite(high) and high > low):
        text = f"{low:g} {high:g}: give finite ends, the high one above the low"
        problems.append(Problem(text, "value_range"))
    if problems:
        raise VinciError(problems)


def _joined_frame(
    reference: list, affine: np.ndarray, shape: tuple[int, ...], where: str
) -> tuple[str | None, list[str]]:
    """The reference's FrameOfReferenceUID when the base lies on its grid, else a warning."""
    try:
        same = voxel_map(affine, shape, series_grid(reference, where)) is not None
    except VinciError as exc:
        return None, [f"{exc}; the overlay gets its own frame of reference"]
    uid = str(reference[0].get("FrameOfReferenceUID", ""))
    if same and uid:
        return uid, []
    why = "does not lie on the grid of" if not same else "has no FrameOfReferenceUID in"
    return None, [
        f"the base {why} the reference {where}; "
        "the overlay joins its study with its own frame of reference"
    ]


def _header(
    options: OverlayOptions,
    base_affine: np.ndarray,
    base_shape: tuple[int, ...],
    parts: list,
    image_file: str | Path,
):
    """The series header (joined to the reference when given), its warnings, and the UID
    source and parts (the reference's contents added) for the instances; dates and times
    from the run's clock (``image_file``'s time stamp for derived UIDs)."""
    uids = UidSource.of_run(options.uid_seed, options.reproducible)
    reference = read_series(options.reference) if options.reference else None
    frame_uid, warnings, number = None, [], options.series_number
    if reference:
        parts = [*parts, files_digest(*(d.filename for d in reference))]
        where = str(options.reference)
        frame_uid, warnings = _joined_frame(reference, base_affine, base_shape, where)
    if number is None:
        number = int(reference[0].get("SeriesNumber", 0) or 0) if reference else 0
        number += SERIES_NUMBER_OFFSET
    header = series_header(
        reference[0] if reference else None,
        uids.uid("overlay-study", *parts),
        uids.uid("overlay-series", *parts),
        frame_uid or uids.uid("overlay-frame-of-reference", *parts),
        number,
        options.series_description,
        run_clock(options.clock, uids.derived, image_file),
    )
    return header, warnings, uids, parts


def save_overlay(
    base_file: str | Path,
    image_file: str | Path,
    out_dir: str | Path,
    options: OverlayOptions | None = None,
) -> OverlayReport:
    """Write the fused overlay of ``image_file`` on ``base_file`` into ``out_dir`` (atomic)."""
    options = checked_kind_fields(options or OverlayOptions())
    options.series_description = options.series_description or DESCRIPTION
    started = time.perf_counter()
    table = colormap(options.colormap)
    if not 0.0 <= options.alpha <= 1.0:
        raise VinciError(Problem(f"{options.alpha:g} is not between 0 and 1", "alpha"))
    base, base_affine = _volume_data(base_file, "base")
    image, image_affine = _volume_data(image_file, "image")
    geometry = geometry_from_affine(base_affine, str(base_file))
    window = options.base_window or _default_window(base, str(base_file))
    value_range = options.value_range or _percentiles(image, str(image_file))
    _check(window, value_range)
    header, warnings, uids, parts = _header(
        options,
        base_affine,
        base.shape,
        [
            files_digest(base_file),
            files_digest(image_file),
            options.colormap,
            options.alpha,
            window,
            value_range,
            options.series_number,
            options.series_description,
        ],
        image_file,
    )
    rows, columns, slices = base.shape[1], base.shape[0], base.shape[2]
    syntax = transfer_syntax(options.transfer_syntax, None, str(base_file))
    if UID(syntax).is_encapsulated:
        require_codec(syntax, rows, columns)
    box = colorbar_box(rows, columns)
    comments = {
        "DerivationDescription": (
            f"{Path(image_file).name} in colour map {options.colormap} (alpha "
            f"{options.alpha:g}) over {Path(base_file).name} (window centre {window[0]:g}, "
            f"width {window[1]:g})"
        ),
        "ImageComments": (
            f"colour bar at the right: {value_range[0]:g} (bottom) to {value_range[1]:g} (top)"
        ),
    }
    resample = Resampler(image, image_affine, base_affine)
    names = [file_name(k + 1, slices) for k in range(slices)]
    with atomic_folder(out_dir, options.overwrite) as work:
        for k in range(slices):
            gray = to_gray(base[:, :, k].T.astype(np.float64), *window)
            rgb = blend(gray, resample.plane(k, base.shape[:2]), table, value_range, options.alpha)
            burn_colorbar(rgb, table, box)
            ds = rgb_instance(
                header, rgb, geometry, k, uids.uid("overlay-instance", *parts, k), comments
            )
            write_instance(ds, work / names[k], syntax)
    return OverlayReport(
        base=str(base_file),
        image=str(image_file),
        output=str(out_dir),
        files=names,
        study_instance_uid=str(header.StudyInstanceUID),
        series_instance_uid=str(header.SeriesInstanceUID),
        frame_of_reference_uid=str(header.FrameOfReferenceUID),
        colormap=options.colormap,
        alpha=options.alpha,
        base_window=list(window),
        value_range=list(value_range),
        colorbar=box,
        shape=[rows, columns, slices],
        reference=str(options.reference) if options.reference else None,
        transfer_syntax=syntax,
        seconds=round(time.perf_counter() - started, 3),
        warnings=warnings,
    )
