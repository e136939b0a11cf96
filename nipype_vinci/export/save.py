"""Save one image as a DICOM series: the data path of DESIGN section 2, one straight line."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path

from ..errors import VinciError
from ..template.keywords import KEYWORDS
from ..template.model import Slot, Template
from .encoder import SeriesEncoder
from .fill import (
    IMPLEMENTATION_VERSION,
    SeriesContext,
    fill_series,
    frame_timing,
    frame_values,
    plane_values,
    series_values,
    slice_values,
)
from .geometry import geometry_from_affine
from .metadata import Metadata
from .output import BackgroundWriter, atomic_folder, file_name
from .quantize import PixelFormat, Quantizer, Scaling, choose_scaling
from .uids import UidSource
from .volume import open_volume, value_range

PET_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.128"
TIMING_KEYWORDS = {"FRAMEREFERENCETIME", "ACTUALFRAMEDURATION"}
EXTREMES = frozenset(["SMALLESTPIXELVALUE", "LARGESTPIXELVALUE"])
SCALING_MODES = ("global", "per-slice")


@dataclass
class SaveOptions:
    """How to save: scaling, NaN replacement, UIDs, overwrite, progress, clock."""

    scaling: str = "global"
    nan_value: float | None = None
    uid_seed: str | None = None
    series_index: int = 0
    overwrite: bool = False
    progress: Callable[[int, int], None] | None = None
    clock: datetime | None = None  # the "now" of dates and times; fixed for reproducible runs


@dataclass
class Report:
    """What was written, for people (--json) and for Nipype outputs."""

    input: str
    output: str
    files: list[str]
    template: str
    study_instance_uid: str
    series_instance_uid: str
    scaling_mode: str
    slope_min: float
    slope_max: float
    max_quantization_error: float
    pixel_format: dict
    shape: list[int]
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def template_format(template: Template) -> PixelFormat:
    ds = template.dataset
    bits = int(ds.get("BitsAllocated", 16) or 16)
    if bits not in (8, 16, 32):
        raise VinciError(f"{template.source}: BitsAllocated {bits} is not 8, 16 or 32")
    stored = int(ds.get("BitsStored", bits) or bits)
    return PixelFormat(bits, min(max(stored, 2), bits), int(ds.get("PixelRepresentation", 0)) == 1)


def _scalings(volume, template: Template, mode: str) -> tuple[list[Scaling], PixelFormat, tuple]:
    """One scaling per plane (frame-major) and the stored format, from one range pass."""
    if mode not in SCALING_MODES:
        raise VinciError(f"--scaling {mode!r} is not one of {', '.join(SCALING_MODES)}")
    zero_intercept = str(template.dataset.get("SOPClassUID", "")) == PET_IMAGE_STORAGE
    low, high, planes = value_range(volume, mode == "per-slice")
    options = {"zero_intercept": zero_intercept, "integral": volume.integral}
    scaling, fmt = choose_scaling(low, high, template_format(template), **options)
    if mode == "global":
        return [scaling] * (volume.frames * volume.slices), fmt, (low, high)
    return [choose_scaling(lo, hi, fmt, **options)[0] for lo, hi in planes], fmt, (low, high)


def _per_file_slots(template: Template) -> list[Slot]:
    """The slots filled file by file (never inside a sequence)."""
    slots = [s for s in template.slots if s.keyword in KEYWORDS and KEYWORDS[s.keyword].per_slice]
    nested = [s for s in slots if not s.top_level]
    if nested:
        raise VinciError(
            f"{template.source}:{nested[0].line}: keyword {nested[0].keyword} "
            "changes from file to file and cannot stand inside a sequence"
        )
    return slots


def _in_stored_vr(slots: list[Slot], fmt: PixelFormat) -> list[Slot]:
    """The slots with the stored-value extremes in the VR of the stored pixels."""
    extremes_vr = "SS" if fmt.signed else "US"
    return [replace(s, vr=extremes_vr) if s.keyword in EXTREMES else s for s in slots]


def save_series(
    in_file: str | Path,
    out_dir: str | Path,
    template: Template,
    metadata: Metadata,
    options: SaveOptions | None = None,
) -> Report:
    """Write ``in_file`` as a DICOM series in ``out_dir`` (made atomically)."""
    options = options or SaveOptions()
    started = time.perf_counter()
    per_file_slots = _per_file_slots(template)
    volume = open_volume(in_file, options.nan_value)
    geometry = geometry_from_affine(volume.affine, str(in_file))
    scalings, fmt, window = _scalings(volume, template, options.scaling)
    uids = UidSource(options.uid_seed)
    ctx = SeriesContext(
        metadata,
        geometry,
        volume.shape,
        template.modality,
        Path(in_file).name.split(".")[0],
        options.series_index,
        window,
        uids,
        options.clock or datetime.now(),
    )
    timing = frame_timing(metadata, volume.frames, bool(TIMING_KEYWORDS & template.keywords))
    values = series_values(ctx)
    header = fill_series(template, values, fmt, volume.frames, metadata.decay_correction)
    encoder = SeriesEncoder(header, _in_stored_vr(per_file_slots, fmt), IMPLEMENTATION_VERSION)
    wants_extremes = bool(EXTREMES & template.keywords)
    by_slice = [slice_values(ctx, k) for k in range(volume.slices)]
    by_frame = [frame_values(ctx, timing, t) for t in range(volume.frames)]
    total = volume.frames * volume.slices
    names, worst = [], 0.0
    with atomic_folder(out_dir, options.overwrite) as work, BackgroundWriter() as writer:
        quantize = Quantizer((volume.shape[1], volume.shape[0]), fmt, ring=writer.depth + 1)
        for number, (frame, k, data) in enumerate(volume.planes()):
            scaling = scalings[number]
            worst = max(worst, quantize(data, scaling))
            stored = quantize.stored
            uid = uids.uid("instance", options.series_index, number)
            extremes = (int(stored.min()), int(stored.max())) if wants_extremes else (0, 0)
            plane = plane_values(ctx, number, uid, scaling, extremes, stored.nbytes)
            names.append(file_name(number + 1, total))
            pieces = encoder.pieces({**by_slice[k], **by_frame[frame], **plane}, stored)
            writer.submit(work / names[-1], pieces)
            if options.progress:
                options.progress(number + 1, total)
    slopes = [s.slope for s in scalings]
    return Report(
        input=str(in_file),
        output=str(out_dir),
        files=names,
        template=template.name,
        study_instance_uid=values["STUDYINSTANCEUID"],
        series_instance_uid=values["SERIESINSTANCEUID"],
        scaling_mode=options.scaling,
        slope_min=min(slopes),
        slope_max=max(slopes),
        max_quantization_error=worst,
        pixel_format={
            "bits_allocated": fmt.bits_allocated,
            "bits_stored": fmt.bits_stored,
            "signed": fmt.signed,
        },
        shape=list(volume.shape),
        seconds=round(time.perf_counter() - started, 3),
    )
