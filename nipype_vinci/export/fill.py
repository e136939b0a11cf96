"""Keyword values for one series (DESIGN section 4): per series once, per plane the rest."""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from pydicom import config
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from .. import __version__
from ..errors import VinciError
from ..template.keywords import KEYWORDS, PIXEL_KEYWORD
from ..template.model import Template, container
from ..template.values import checked_value
from .geometry import Geometry
from .metadata import Metadata
from .quantize import PixelFormat, Scaling, ds_text
from .uids import UidSource

IMPLEMENTATION_VERSION = "NIPYPE_VINCI_" + __version__.replace(".", "")[:3]


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

    @property
    def frame_count(self) -> int:
        return self.shape[3]


def _ds(values) -> list[str] | str:
    texts = [ds_text(float(v)) for v in np.atleast_1d(values)]
    return texts if len(texts) > 1 else texts[0]


def series_values(ctx: SeriesContext) -> dict[str, object]:
    """Values of the keywords that are the same for every file of the series."""
    meta, geo, now = ctx.metadata, ctx.geometry, ctx.now
    date, time = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    study_date, study_time = meta.study_date or date, meta.study_time or time
    centre, width = (ctx.window[0] + ctx.window[1]) / 2, max(ctx.window[1] - ctx.window[0], 1.0)
    return {
        "IMPLEMENTATIONVERSIONNAME": IMPLEMENTATION_VERSION,
        "STUDYDATE": study_date,
        "STUDYTIME": study_time,
        "SERIESDATE": study_date,
        "SERIESTIME": study_time,
        "ACQUISITIONDATE": study_date,
        "ACQUISITIONTIME": study_time,
        "CONTENTDATE": date,
        "CONTENTTIME": time,
        "STUDYDESCRIPTION": meta.study_description,
        "SERIESDESCRIPTION": meta.series_description or ctx.series_label[:64],
        "PROTOCOLNAME": meta.protocol_name,
        "PATIENTNAME": meta.patient_name,
        "PATIENTID": meta.patient_id,
        "PATIENTDOB": meta.patient_birth_date,
        "PATIENTSEX": meta.patient_sex,
        "PATIENTAGE": meta.patient_age,
        "PATIENTWEIGHT": _ds(meta.patient_weight) if meta.patient_weight else None,
        "SLICETHICKNESS": _ds(geo.spacing[2]),
        "SPACINGBETWEENSLICES": _ds(geo.spacing[2]),
        "STUDYINSTANCEUID": meta.study_instance_uid or ctx.uids.uid("study"),
        "SERIESINSTANCEUID": ctx.uids.uid("series", ctx.series_index),
        "FRAMEOFREFERENCEUID": ctx.uids.uid("frame-of-reference", ctx.series_index),
        "STUDYID": meta.study_id,
        "SERIESNUMBER": str(
            meta.series_number if meta.series_number is not None else 1 + ctx.series_index
        ),
        "ACQUISITIONNUMBER": str(1 + ctx.series_index),
        "IMAGEORIENTATIONPATIENT": _ds(geo.orientation),
        "ROWS": ctx.shape[1],
        "COLUMNS": ctx.shape[0],
        "PIXELSPACING": _ds(geo.pixel_spacing),
        "WINDOWCENTER": _ds(centre),
        "WINDOWWIDTH": _ds(width),
        "RADIOPHARMACEUTICAL": meta.radiopharmaceutical,
        "DOSAGESTARTTIME": meta.injection_time,
        "DOSAGE_BQ": _ds(meta.injected_dose_bq) if meta.injected_dose_bq else None,
        "HALFLIFE_SECS": _ds(meta.half_life) if meta.half_life else None,
        "FRACTION": _ds(meta.positron_fraction) if meta.positron_fraction else None,
        "NUMBEROFSLICES": ctx.shape[2],
        "NUMBEROFTIMESLICES": ctx.frame_count,
        "UNITS": meta.units or ("BQML" if ctx.modality == "PT" else "NONE"),
        "NUMBEROFFRAMES": "1",
    }


def frame_timing(meta: Metadata, frames: int, needed: bool) -> list[tuple[float, float]]:
    """(reference time, duration) in ms per frame; a 4D image needs them when ``needed``."""
    starts, durations = meta.frame_times, meta.frame_durations
    if starts is None or durations is None:
        if frames > 1 and needed:
            raise VinciError(
                "a 4D image needs --frame-times and --frame-durations (or "
                "FrameTimesStart and FrameDuration in --metadata)"
            )
        return [(0.0, 0.0)] * frames
    if len(starts) != frames or len(durations) != frames:
        raise VinciError(
            f"the image has {frames} frames but {len(starts)} frame times and "
            f"{len(durations)} frame durations were given"
        )
    return [(1000 * s + 500 * d, 1000 * d) for s, d in zip(starts, durations)]


def slice_values(ctx: SeriesContext, k: int) -> dict[str, object]:
    """Values of the keywords that depend only on where slice ``k`` lies."""
    return {
        "IMAGEPOSITIONPATIENT": _ds(ctx.geometry.position(k)),
        "SLICELOCATION": _ds(ctx.geometry.location(k)),
    }


def frame_values(
    ctx: SeriesContext, timing: list[tuple[float, float]], frame: int
) -> dict[str, object]:
    """Values of the keywords that depend only on the frame."""
    reference, duration = timing[frame]
    decay = ctx.metadata.decay_factors
    return {
        "FRAMEREFERENCETIME": _ds(reference),
        "ACTUALFRAMEDURATION": str(round(duration)),
        "DECAYFACTOR": _ds(decay[frame] if decay and len(decay) > frame else 1.0),
    }


def plane_values(
    ctx: SeriesContext,
    index: int,
    uid: str,
    scaling: Scaling,
    stored_range: tuple[int, int],
    pixel_bytes: int,
) -> dict[str, object]:
    """Values of the keywords that change from file to file (``index`` counts from 0,
    frame-major)."""
    return {
        "SOPINSTANCEUID": uid,
        "INSTANCENUMBER": str(index + 1),
        "IMAGEINDEX": index + 1,
        "RESCALESLOPE": scaling.slope_text,
        "RESCALEINTERCEPT": scaling.intercept_text,
        "SMALLESTPIXELVALUE": stored_range[0],
        "LARGESTPIXELVALUE": stored_range[1],
        "PIXELDATAGROUPLENGTH": 12 + pixel_bytes + pixel_bytes % 2,
    }


def element_for(keyword: str, tag: int, vr: str, value: object) -> DataElement:
    """The element a keyword's value fills, checked against its VR first (strictly, by our
    rules: pydicom's own, laxer check would only repeat the work)."""
    return DataElement(tag, vr, checked_value(keyword, vr, value), validation_mode=config.IGNORE)


def fill_series(
    template: Template,
    values: dict[str, object],
    fmt: PixelFormat,
    frames: int,
    decay_correction: str | None = None,
) -> Dataset:
    """A copy of the template data set with every series-level keyword filled, the pixel
    format, the PET series type and (when known) the PET DecayCorrection set."""
    dataset = deepcopy(template.dataset)
    for slot in template.slots:
        keyword = KEYWORDS.get(slot.keyword)
        if keyword is None or keyword.per_slice or slot.keyword == PIXEL_KEYWORD:
            continue
        holder = container(dataset, slot.parents)
        holder[slot.tag] = element_for(slot.keyword, slot.tag, slot.vr, values[slot.keyword])
    dataset.PixelRepresentation = int(fmt.signed)
    dataset.BitsAllocated, dataset.BitsStored = fmt.bits_allocated, fmt.bits_stored
    dataset.HighBit = fmt.bits_stored - 1
    _set_time_series(dataset, frames)
    if decay_correction and "DecayCorrection" in dataset:
        dataset.DecayCorrection = decay_correction
    return dataset


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
