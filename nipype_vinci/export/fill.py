"""Keyword values of one series (DESIGN section 4): one producer per keyword.

A producer takes the series context and, by its keyword's level (template/keywords.py), the
frame, the slice or the plane: ``series(ctx)``, ``frame(ctx, t)``, ``slice(ctx, k)``,
``file(ctx, plane)``. Only the producers of keywords the template holds are called.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np
from pydicom import config
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from .. import __version__
from ..errors import field_error
from ..template.keywords import KEYWORDS
from ..template.model import Template, container
from ..template.values import checked_value
from .charset import CharacterSet
from .geometry import Geometry
from .metadata import Metadata
from .quantize import PixelFormat, Scaling, ds_text
from .uids import UidSource

IMPLEMENTATION_VERSION = "NIPYPE_VINCI_" + __version__.replace(".", "")[:3]
DEFAULT_DECAY_CORRECTION = "START"  # what PET scanners write for decay-corrected images


@dataclass(frozen=True)
class SeriesContext:
    """Everything the keyword values of one series are computed from."""

    metadata: Metadata
    geometry: Geometry
    shape: tuple[int, int, int, int]
    modality: str
    series_label: str
    series_index: int
    window: tuple[float, float]
    uids: UidSource
    now: datetime
    fmt: PixelFormat
    charset: CharacterSet
    timing: tuple[tuple[float, float], ...]  # (reference time, duration) in ms per frame

    @property
    def frame_count(self) -> int:
        return self.shape[3]

    @property
    def scan_start(self) -> datetime:
        """When the acquisition started: the user's acquisition (or study) date and time,
        else the first frame's start after the injection, else now."""
        meta = self.metadata
        day = meta.acquisition_date or meta.study_date or self.now.strftime("%Y%m%d")
        if meta.acquisition_time:
            return _at(day, meta.acquisition_time)
        if _frames_from_injection(meta):
            return _at(day, meta.injection_time) + timedelta(seconds=meta.frame_times[0])
        clock = meta.study_time or meta.injection_time
        return _at(day, clock) if clock else self.now


class Plane(NamedTuple):
    """What the file-level keywords of one plane are computed from."""

    index: int  # counts from 0, frame-major
    uid: str
    scaling: Scaling
    stored_range: tuple[int, int]
    pixel_bytes: int


def _at(day: str, clock: str) -> datetime:
    whole, _, fraction = clock.partition(".")
    whole = whole.ljust(6, "0")
    moment = datetime.strptime(day + whole, "%Y%m%d%H%M%S")
    return moment + timedelta(seconds=float(f"0.{fraction or 0}"))


def _ds(values) -> list[str] | str:
    texts = [ds_text(float(v)) for v in np.atleast_1d(values)]
    return texts if len(texts) > 1 else texts[0]


def _ds_given(value) -> str | None:
    return None if value is None else _ds(value)


def _window(ctx: SeriesContext) -> tuple[float, float]:
    low, high = ctx.window
    return (low + high) / 2, max(high - low, 1.0)


SeriesProducer = Callable[[SeriesContext], object]
SERIES: dict[str, SeriesProducer] = {
    "IMPLEMENTATIONVERSIONNAME": lambda ctx: IMPLEMENTATION_VERSION,
    "SPECIFICCHARACTERSET": lambda ctx: ctx.charset.value,
    "STUDYDATE": lambda ctx: ctx.metadata.study_date or ctx.scan_start.strftime("%Y%m%d"),
    "STUDYTIME": lambda ctx: ctx.metadata.study_time or ctx.scan_start.strftime("%H%M%S"),
    "SERIESDATE": lambda ctx: ctx.scan_start.strftime("%Y%m%d"),
    "SERIESTIME": lambda ctx: ctx.scan_start.strftime("%H%M%S"),
    "ACQUISITIONDATE": lambda ctx: ctx.scan_start.strftime("%Y%m%d"),
    "ACQUISITIONTIME": lambda ctx: ctx.scan_start.strftime("%H%M%S"),
    "CONTENTDATE": lambda ctx: ctx.now.strftime("%Y%m%d"),
    "CONTENTTIME": lambda ctx: ctx.now.strftime("%H%M%S"),
    "ACCESSIONNUMBER": lambda ctx: ctx.metadata.accession_number,
    "REFERRINGPHYSICIANNAME": lambda ctx: ctx.metadata.referring_physician_name,
    "STUDYDESCRIPTION": lambda ctx: ctx.metadata.study_description,
    "SERIESDESCRIPTION": lambda ctx: ctx.metadata.series_description or ctx.series_label[:64],
    "PROTOCOLNAME": lambda ctx: ctx.metadata.protocol_name,
    "PATIENTNAME": lambda ctx: ctx.metadata.patient_name,
    "PATIENTID": lambda ctx: ctx.metadata.patient_id,
    "PATIENTDOB": lambda ctx: ctx.metadata.patient_birth_date,
    "PATIENTSEX": lambda ctx: ctx.metadata.patient_sex,
    "PATIENTAGE": lambda ctx: ctx.metadata.patient_age,
    "PATIENTSIZE": lambda ctx: _ds_given(ctx.metadata.patient_size),
    "PATIENTWEIGHT": lambda ctx: _ds_given(ctx.metadata.patient_weight),
    "SLICETHICKNESS": lambda ctx: _ds(ctx.geometry.spacing[2]),
    "SPACINGBETWEENSLICES": lambda ctx: _ds(ctx.geometry.spacing[2]),
    "STUDYINSTANCEUID": lambda ctx: ctx.metadata.study_instance_uid or ctx.uids.uid("study"),
    "SERIESINSTANCEUID": lambda ctx: ctx.uids.uid("series", ctx.series_index),
    "FRAMEOFREFERENCEUID": lambda ctx: (
        ctx.metadata.frame_of_reference_uid or ctx.uids.uid("frame-of-reference", ctx.series_index)
    ),
    "STUDYID": lambda ctx: ctx.metadata.study_id,
    "SERIESNUMBER": lambda ctx: str(
        ctx.metadata.series_number
        if ctx.metadata.series_number is not None
        else 1 + ctx.series_index
    ),
    "ACQUISITIONNUMBER": lambda ctx: str(1 + ctx.series_index),
    "IMAGEORIENTATIONPATIENT": lambda ctx: _ds(ctx.geometry.orientation),
    "ROWS": lambda ctx: ctx.shape[1],
    "COLUMNS": lambda ctx: ctx.shape[0],
    "BITSSTORED": lambda ctx: ctx.fmt.bits_stored,
    "HIGHBIT": lambda ctx: ctx.fmt.bits_stored - 1,
    "PIXELSPACING": lambda ctx: _ds(ctx.geometry.pixel_spacing),
    "WINDOWCENTER": lambda ctx: _ds(_window(ctx)[0]),
    "WINDOWWIDTH": lambda ctx: _ds(_window(ctx)[1]),
    "RADIOPHARMACEUTICAL": lambda ctx: ctx.metadata.radiopharmaceutical,
    "DOSAGESTARTTIME": lambda ctx: ctx.metadata.injection_time,
    "DOSAGE_BQ": lambda ctx: _ds_given(ctx.metadata.injected_dose),
    "HALFLIFE_SECS": lambda ctx: _ds_given(ctx.metadata.half_life),
    "FRACTION": lambda ctx: _ds_given(ctx.metadata.positron_fraction),
    "NUMBEROFSLICES": lambda ctx: ctx.shape[2],
    "NUMBEROFTIMESLICES": lambda ctx: ctx.frame_count,
    "UNITS": lambda ctx: ctx.metadata.units or ("BQML" if ctx.modality == "PT" else "NONE"),
    "DECAYCORRECTION": lambda ctx: ctx.metadata.decay_correction or DEFAULT_DECAY_CORRECTION,
    "NUMBEROFFRAMES": lambda ctx: "1",
}
FRAME: dict[str, Callable[[SeriesContext, int], object]] = {
    "FRAMEREFERENCETIME": lambda ctx, t: _ds(ctx.timing[t][0]),
    "ACTUALFRAMEDURATION": lambda ctx, t: str(round(ctx.timing[t][1])),
    "DECAYFACTOR": lambda ctx, t: _ds(
        ctx.metadata.decay_factors[t]
        if ctx.metadata.decay_factors and len(ctx.metadata.decay_factors) > t
        else 1.0
    ),
}
SLICE: dict[str, Callable[[SeriesContext, int], object]] = {
    "IMAGEPOSITIONPATIENT": lambda ctx, k: _ds(ctx.geometry.position(k)),
    "SLICELOCATION": lambda ctx, k: _ds(ctx.geometry.location(k)),
}
FILE: dict[str, Callable[[SeriesContext, Plane], object]] = {
    "SOPINSTANCEUID": lambda ctx, plane: plane.uid,
    "INSTANCENUMBER": lambda ctx, plane: str(plane.index + 1),
    "IMAGEINDEX": lambda ctx, plane: plane.index + 1,
    "RESCALESLOPE": lambda ctx, plane: plane.scaling.slope_text,
    "RESCALEINTERCEPT": lambda ctx, plane: plane.scaling.intercept_text,
    "SMALLESTPIXELVALUE": lambda ctx, plane: plane.stored_range[0],
    "LARGESTPIXELVALUE": lambda ctx, plane: plane.stored_range[1],
    "PIXELDATAGROUPLENGTH": lambda ctx, plane: 12 + plane.pixel_bytes + plane.pixel_bytes % 2,
}
PRODUCERS: dict[str, dict] = {"series": SERIES, "frame": FRAME, "slice": SLICE, "file": FILE}


def _frames_from_injection(meta: Metadata) -> bool:
    """Whether the frame times count from the injection: when no acquisition time is given
    (else they count from it; BIDS frame times are made so), and the scan then starts with
    the first frame."""
    return not meta.acquisition_time and bool(meta.injection_time) and bool(meta.frame_times)


def scan_start_offset(meta: Metadata) -> float:
    """The frame time of the scan start, in s."""
    return meta.frame_times[0] if _frames_from_injection(meta) else 0.0


def frame_timing(meta: Metadata, frames: int, needed: bool) -> tuple[tuple[float, float], ...]:
    """(reference time, duration) in ms per frame, the reference time (the frame's middle)
    counted from the series time, which is the scan start. Without frame starts, frames
    follow each other from 0; a 4D image needs durations when the template has timing
    keywords."""
    starts, durations = meta.frame_times, meta.frame_durations
    if durations is None:
        if frames > 1 and needed:
            raise field_error(
                "frame_durations",
                "a 4D image needs the frame durations (and frame times, or FrameTimesStart "
                "and FrameDuration in the metadata file)",
            )
        return ((0.0, 0.0),) * frames
    if starts is None:
        starts = tuple(np.concatenate([[0.0], np.cumsum(durations)[:-1]]))
    if len(starts) != frames or len(durations) != frames:
        raise field_error(
            "frame_durations",
            f"the image has {frames} frame(s) but {len(starts)} frame time(s) and "
            f"{len(durations)} frame duration(s) were given",
        )
    zero = scan_start_offset(meta)
    return tuple((1000 * (s - zero) + 500 * d, 1000 * d) for s, d in zip(starts, durations))


def values_at(level: str, keywords: set[str], ctx: SeriesContext, *at) -> dict[str, object]:
    """The values of the template's keywords of one level (``at``: frame, slice or plane)."""
    return {name: make(ctx, *at) for name, make in PRODUCERS[level].items() if name in keywords}


def element_for(keyword: str, tag: int, vr: str, value: object) -> DataElement:
    """The element a keyword's value fills, checked against its VR first (strictly, by our
    rules: pydicom's own, laxer check would only repeat the work)."""
    return DataElement(tag, vr, checked_value(keyword, vr, value), validation_mode=config.IGNORE)


def fill_series(template: Template, ctx: SeriesContext) -> Dataset:
    """A copy of the template data set with every series-level keyword filled; literal
    values at a keyword's home that the user's fields replace; the pixel format, the
    character set and the PET series type and decay correction made consistent."""
    dataset = deepcopy(template.dataset)
    values = values_at("series", template.keywords, ctx)
    for slot in template.slots:
        if slot.keyword in values:
            holder = container(dataset, slot.parents)
            holder[slot.tag] = element_for(slot.keyword, slot.tag, slot.vr, values[slot.keyword])
    _override_literals(template, dataset, ctx)
    fmt = ctx.fmt
    dataset.PixelRepresentation = int(fmt.signed)
    dataset.BitsAllocated, dataset.BitsStored = fmt.bits_allocated, fmt.bits_stored
    dataset.HighBit = fmt.bits_stored - 1
    ctx.charset.apply(dataset)
    _set_time_series(dataset, ctx.frame_count)
    _set_decay_correction(dataset, ctx.metadata.decay_correction)
    return dataset


def _override_literals(template: Template, dataset: Dataset, ctx: SeriesContext) -> None:
    """A field the user gave wins over a literal value at its keyword's top-level home."""
    slotted = {slot.tag for slot in template.slots if slot.top_level}
    meta = ctx.metadata
    for keyword in KEYWORDS.values():
        if keyword.level != "series" or not keyword.fields or keyword.home in slotted:
            continue
        if keyword.home not in dataset or any(getattr(meta, f) is None for f in keyword.fields):
            continue
        vr = dataset[keyword.home].VR
        value = SERIES[keyword.name](ctx)
        dataset[keyword.home] = element_for(keyword.name, keyword.home, vr, value)


def written_fields(template: Template) -> set[str]:
    """The user fields a template writes: those of its keywords and of the keywords whose
    home it holds as a literal value (which the field replaces)."""
    homes = {int(e.tag) for e in template.dataset}
    return {
        name
        for keyword in KEYWORDS.values()
        if keyword.name in template.keywords or keyword.home in homes
        for name in keyword.fields
    }


def _set_time_series(dataset: Dataset, frames: int) -> None:
    """PET Series: SeriesType DYNAMIC with NumberOfTimeSlices for 4D, STATIC without it."""
    series_type = list(dataset.get("SeriesType", []) or [])
    if not series_type:
        return
    series_type[0] = "DYNAMIC" if frames > 1 else "STATIC"
    dataset.SeriesType = series_type
    if frames > 1:
        dataset.NumberOfTimeSlices = frames
    elif "NumberOfTimeSlices" in dataset:
        del dataset.NumberOfTimeSlices


def _set_decay_correction(dataset: Dataset, decay_correction: str | None) -> None:
    """CorrectedImage lists DECY exactly when the images are decay corrected."""
    if decay_correction is None or "CorrectedImage" not in dataset:
        return
    current = dataset.CorrectedImage
    current = [current] if isinstance(current, str) else list(current or [])
    corrections = [c for c in current if c != "DECY"]
    if decay_correction != "NONE":
        corrections.append("DECY")
    dataset.CorrectedImage = corrections
