"""Save one image as a DICOM series: the data path of DESIGN section 2, one straight line."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path

from ..encode import encoder_for, transfer_syntax
from ..errors import VinciError
from ..template.keywords import KEYWORDS
from ..template.model import Slot, Template
from ..template.semantics import image_problems
from ..template.writer import dump_template
from .charset import choose_charset
from .fill import (
    IMPLEMENTATION_VERSION,
    Plane,
    SeriesContext,
    fill_series,
    frame_timing,
    values_at,
    written_fields,
)
from .geometry import geometry_from_affine
from .metadata import Metadata, given
from .output import BackgroundWriter, atomic_folder, file_name
from .quantize import PixelFormat, Quantizer, Scaling, choose_scaling
from .reference import (
    SOURCE_IMAGE_SEQUENCE,
    frame_of_reference,
    joined,
    mark_derived,
    read_reference,
    source_image_elements,
)
from .uids import UidSource, run_clock, series_seed
from .volume import open_volume, value_range

PET_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.128"
OUTPUT_KIND = "series"


@dataclass
class SaveOptions:
    """How to save: scaling, NaN replacement, UIDs, overwrite, syntax, progress, clock."""

    scaling: str | None = None  # None: per-slice for PET, global otherwise
    nan_value: float | None = None
    uid_seed: str | None = None
    reproducible: bool = False  # UIDs derived from the inputs even without a seed
    series_index: int = 0
    overwrite: bool = False
    transfer_syntax: str | None = None  # a name of encode.TRANSFER_SYNTAXES; None: template's
    reference_dicom: str | None = None  # the original scan (file or series folder) to join
    frame_of_reference: str = "auto"  # with a reference: auto, same or new
    progress: Callable[[int, int], None] | None = None
    clock: datetime | None = None  # the "now" of dates and times; fixed for reproducible runs
    not_written: tuple[str, ...] = ()  # metadata keys the caller read that nothing writes


@dataclass
class Report:
    """What was written, for people (--json) and for Nipype outputs."""

    input: str
    output: str
    files: list[str]
    template: str
    study_instance_uid: str
    series_instance_uid: str
    frame_of_reference_uid: str
    transfer_syntax: str
    scaling_mode: str
    slope_min: float
    slope_max: float
    max_quantization_error: float
    pixel_format: dict
    shape: list[int]
    seconds: float = 0.0
    not_written: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reference: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def template_format(template: Template) -> PixelFormat:
    """The template's stored format: BitsAllocated, BitsStored, signedness."""
    ds = template.dataset
    bits = int(ds.get("BitsAllocated", 16) or 16)
    if bits not in (8, 16, 32):
        raise VinciError(f"{template.source}: BitsAllocated {bits} is not 8, 16 or 32")
    stored = (
        int(ds.get("BitsStored", bits) or bits) if "BITSSTORED" not in template.keywords else bits
    )
    return PixelFormat(bits, min(max(stored, 2), bits), int(ds.get("PixelRepresentation", 0)) == 1)


def scaling_mode(requested: str | None, template: Template) -> str:
    """The scaling mode: the one asked for, else per-slice for PET (as PET scanners write
    each image), else global."""
    if requested is not None:
        return requested
    return "per-slice" if template.modality == "PT" else "global"


def _scalings(volume, template: Template, mode: str) -> tuple[list[Scaling], PixelFormat, tuple]:
    """One scaling per plane (frame-major) and the stored format, from one range pass:
    integer data that fit keep the template's BitsStored, anything else uses every
    allocated bit."""
    zero_intercept = str(template.dataset.get("SOPClassUID", "")) == PET_IMAGE_STORAGE
    low, high, planes = value_range(volume)
    options = {"zero_intercept": zero_intercept, "integral": volume.integral}
    base = template_format(template)
    scaling, fmt = choose_scaling(low, high, base, **options)
    if not scaling.identity or not volume.integral:
        full = PixelFormat(base.bits_allocated, base.bits_allocated, base.signed)
        scaling, fmt = choose_scaling(low, high, full, **options)
    if mode == "global":
        return [scaling] * len(planes), fmt, (low, high)
    if mode == "per-frame":
        per_frame = []
        for t in range(volume.frames):
            frame = planes[t * volume.slices : (t + 1) * volume.slices]
            lo, hi = min(p[0] for p in frame), max(p[1] for p in frame)
            per_frame += [choose_scaling(lo, hi, fmt, **options)[0]] * volume.slices
        return per_frame, fmt, (low, high)
    return [choose_scaling(lo, hi, fmt, **options)[0] for lo, hi in planes], fmt, (low, high)


def _per_file_slots(template: Template, fmt: PixelFormat) -> list[Slot]:
    """The slots filled file by file (never inside a sequence), the stored-value extremes in
    the VR of the stored pixels."""
    slots = [s for s in template.slots if s.keyword in KEYWORDS and KEYWORDS[s.keyword].per_file]
    nested = [s for s in slots if not s.top_level]
    if nested:
        raise VinciError(
            f"{template.source}:{nested[0].line}: keyword {nested[0].keyword} "
            "changes from file to file and cannot stand inside a sequence"
        )
    stored_vr = "SS" if fmt.signed else "US"
    return [replace(s, vr=stored_vr) if KEYWORDS[s.keyword].stored_vr else s for s in slots]


def _texts(metadata: Metadata, label: str) -> list[str]:
    return [v for v in given(metadata).values() if isinstance(v, str)] + [label]


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
    mode = scaling_mode(options.scaling, template)
    syntax = transfer_syntax(
        options.transfer_syntax,
        template.dataset.file_meta.get("TransferSyntaxUID"),
        template.source,
    )
    reference = read_reference(options.reference_dicom) if options.reference_dicom else None
    if reference is not None:
        metadata = joined(reference, metadata)
    seeded = options.uid_seed is not None or options.reproducible
    volume = open_volume(in_file, options.nan_value, digest=seeded)
    geometry = geometry_from_affine(volume.affine, str(in_file))
    scalings, fmt, window = _scalings(volume, template, mode)
    problems = image_problems(template, volume.integral, all(s.identity for s in scalings))
    if problems:
        raise VinciError(problems)
    label = Path(in_file).name.split(".")[0]
    seed = None
    if seeded:
        seed = series_seed(
            options.uid_seed,
            image_digest=volume.content_digest(),
            template_text=dump_template(template),
            metadata_values=given(metadata),
            series_index=options.series_index,
            kind=OUTPUT_KIND,
        )
    clock = run_clock(options.clock, seeded, in_file)
    sources: dict[int, tuple] = {}
    joining: dict = {}
    if reference is not None:
        metadata, sources, joining = frame_of_reference(
            reference, metadata, geometry, volume.shape, options.frame_of_reference
        )
    ctx = SeriesContext(
        metadata=metadata,
        geometry=geometry,
        shape=volume.shape,
        modality=template.modality,
        series_label=label,
        series_index=options.series_index,
        window=window,
        uids=UidSource(seed),
        now=clock,
        fmt=fmt,
        charset=choose_charset(template.dataset, _texts(metadata, label)),
        timing=frame_timing(metadata, volume.frames, "frame_durations" in written_fields(template)),
    )
    header = fill_series(template, ctx)
    if reference is not None:
        mark_derived(header, reference, max(s.slope for s in scalings) / 2)
    element_tags = frozenset([SOURCE_IMAGE_SEQUENCE]) if sources else frozenset()
    total = volume.frames * volume.slices
    slots = _per_file_slots(template, fmt)
    encoder = encoder_for(syntax)(
        header, slots, IMPLEMENTATION_VERSION, syntax, element_tags, total
    )
    keywords = template.keywords
    wants_extremes = bool({"SMALLESTPIXELVALUE", "LARGESTPIXELVALUE"} & keywords)
    by_slice = [values_at("slice", keywords, ctx, k) for k in range(volume.slices)]
    by_frame = [values_at("frame", keywords, ctx, t) for t in range(volume.frames)]
    names, worst = [], 0.0
    with (
        closing(encoder),
        atomic_folder(out_dir, options.overwrite, protected=(in_file,)) as work,
        BackgroundWriter() as writer,
    ):
        quantize = Quantizer((volume.shape[1], volume.shape[0]), fmt, ring=writer.depth + 1)
        for number, (frame, k, data) in enumerate(volume.planes()):
            scaling = scalings[number]
            worst = max(worst, quantize(data, scaling))
            stored = quantize.stored
            uid = ctx.uids.uid("instance", options.series_index, number)
            extremes = (int(stored.min()), int(stored.max())) if wants_extremes else (0, 0)
            plane = values_at(
                "file", keywords, ctx, Plane(number, uid, scaling, extremes, stored.nbytes)
            )
            plane["SOPINSTANCEUID"] = uid
            names.append(file_name(number + 1, total))
            extra = source_image_elements(sources.get(k))
            pieces = encoder.pieces({**by_slice[k], **by_frame[frame], **plane}, stored, extra)
            writer.submit(work / names[-1], pieces)
            if options.progress:
                options.progress(number + 1, total)
    slopes = [s.slope for s in scalings]
    unslotted = sorted(set(given(metadata)) - written_fields(template))
    return Report(
        input=str(in_file),
        output=str(out_dir),
        files=names,
        template=template.name,
        study_instance_uid=str(header.get("StudyInstanceUID", "")),
        series_instance_uid=str(header.get("SeriesInstanceUID", "")),
        frame_of_reference_uid=str(header.get("FrameOfReferenceUID", "")),
        transfer_syntax=syntax,
        scaling_mode=mode,
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
        not_written=[*unslotted, *options.not_written],
        reference=joining,
    )
