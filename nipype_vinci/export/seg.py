"""A DICOM Segmentation (highdicom) from a label map on the grid of a reference series."""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
)

from .. import __version__
from ..dicomio import read_series
from ..encode import TRANSFER_SYNTAXES, transfer_syntax
from ..encode.compressed import require_codec
from ..errors import VinciError, field_error
from ..fields import checked_kind_fields
from .digest import files_digest
from .fill import IMPLEMENTATION_VERSION
from .grid import require_voxel_map, series_grid
from .labels import Label, read_label_table
from .output import atomic_folder, file_name
from .uids import IMPLEMENTATION_CLASS_UID, UidSource, run_clock
from .volume import open_volume

SERIES_NUMBER_OFFSET = 1000  # a derived series: the reference's number + 1000 (DESIGN 11)
DESCRIPTION = "Segmentation"  # the series description unless one is given
DEFLATED = DeflatedExplicitVRLittleEndian
# What a BINARY (bit-packed) Segmentation is written in: highdicom encodes no RLE or JPEG-LS
# of packed bits; Deflated is pydicom's, on highdicom's Explicit VR data set.
SEG_SYNTAXES = (ExplicitVRLittleEndian, ImplicitVRLittleEndian, DEFLATED, JPEG2000Lossless)
MAX_LISTED = 10


@dataclass
class SegOptions:
    """How to write the Segmentation: UIDs, series number and description, overwrite."""

    uid_seed: str | None = None
    series_number: int | None = None
    series_description: str | None = None  # default: DESCRIPTION
    transfer_syntax: str | None = None  # explicit (default), implicit, deflated or j2k
    overwrite: bool = False
    reproducible: bool = False  # UIDs derived from the inputs even without a seed
    clock: datetime | None = None  # content date and time; fixed for reproducible runs


@dataclass
class SegReport:
    """What was written (``--json``, the node's report file)."""

    input: str
    reference: str
    labels: str
    output: str
    files: list[str]
    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    frame_of_reference_uid: str
    segments: list[dict]
    absent_labels: list[dict]
    transfer_syntax: str = ExplicitVRLittleEndian
    kind: str = "seg"
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _listed(values: list[int]) -> str:
    shown = ", ".join(str(v) for v in values[:MAX_LISTED])
    return shown + (f" and {len(values) - MAX_LISTED} more" if len(values) > MAX_LISTED else "")


def label_volume(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The label map's voxels (x, y, z) as non-negative whole numbers (integer type kept,
    floats made int32), and its affine."""
    volume = open_volume(path)
    if volume.frames > 1:
        raise VinciError(f"{path}: a label map is 3D; this image has {volume.frames} frames")
    data = np.asarray(volume.dataobj)
    if data.dtype.kind == "f":
        if not np.all(np.isfinite(data)) or np.any(data != np.round(data)):
            raise VinciError(
                f"{path}: holds values that are not whole numbers; a label map holds "
                "0 (background) and the label values of the labels file"
            )
        data = data.astype(np.int32)
    elif data.dtype.kind not in "iub":
        raise VinciError(f"{path}: voxels of type {data.dtype} are not label values")
    if data.size and data.min() < 0:
        raise VinciError(f"{path}: holds negative values; label values are 0 and up")
    return data.reshape(volume.shape[:3]), volume.affine


def labels_on_reference(
    label_file: str | Path, reference: list, reference_dir: str | Path
) -> np.ndarray:
    """The label map as one (rows, columns) plane per reference instance, in their order;
    a map off the reference's grid is an error naming both grids."""
    data, affine = label_volume(label_file)
    voxels = require_voxel_map(
        affine,
        data.shape,
        series_grid(reference, str(reference_dir)),
        f"{label_file}: the label map",
        str(reference_dir),
    )
    stack = np.empty((len(reference), voxels.rows, voxels.columns), dtype=data.dtype)
    for s in range(len(reference)):
        stack[s] = voxels.plane(data, s)
    return stack


def present_labels(
    stack: np.ndarray, table: dict[int, Label], source: str, labels_file: str
) -> dict[int, int]:
    """The voxel count of each label value in the stack (0 left out); a value the table
    lacks is an error naming it."""
    top = max(table)
    if int(stack.max()) <= top:  # count plane by plane: no copy of the whole stack
        counts = sum(np.bincount(plane.ravel(), minlength=top + 1) for plane in stack)
        found = {int(v): int(counts[v]) for v in np.flatnonzero(counts) if v != 0}
    else:  # some value lies above the table: an error, which names every such value
        found = {int(v): 0 for v in np.unique(stack) if v != 0}
    unknown = [v for v in found if v not in table]
    if unknown:
        raise VinciError(
            f"{source}: label value(s) {_listed(unknown)} are not in {labels_file}; "
            "add them to the labels file"
        )
    if not found:
        raise VinciError(f"{source}: holds no labelled voxel (every voxel is 0)")
    return found


def segment_numbers(stack: np.ndarray, values: list[int]) -> np.ndarray:
    """The stack with label values replaced by segment numbers 1..n in ``values`` order."""
    lookup = np.zeros(max(values) + 1, dtype=np.uint8 if len(values) < 256 else np.uint16)
    lookup[values] = np.arange(1, len(values) + 1)
    return lookup[stack]


def _description(number: int, label: Label):
    from highdicom.color import CIELabColor
    from highdicom.seg import SegmentDescription
    from pydicom.sr.coding import Code

    description = SegmentDescription(
        segment_number=number,
        segment_label=label.name,
        segmented_property_category=Code(*label.category),
        segmented_property_type=Code(*label.type),
        algorithm_type="MANUAL",
        display_color=CIELabColor.from_rgb(*label.color) if label.color else None,
    )
    if label.abbreviation:
        description.SegmentDescription = label.abbreviation
    return description


def _segmentation(reference: list, numbers: np.ndarray, descriptions: list, **values):
    """highdicom's Segmentation; its warnings returned (for the report), its refusals one
    line each."""
    from highdicom.seg import Segmentation

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            seg = Segmentation(
                source_images=reference,
                pixel_array=numbers,
                segmentation_type="BINARY",
                segment_descriptions=descriptions,
                instance_number=1,
                manufacturer="nipype_vinci",
                manufacturer_model_name="nipype-vinci",
                software_versions=__version__,
                device_serial_number="1",
                **values,
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise VinciError(f"highdicom cannot build the segmentation: {exc}") from None
    return seg, sorted({"highdicom: " + str(w.message).split(". ")[0] for w in caught})


def _pin(seg, now: datetime, dimension_uid: str) -> None:
    """What highdicom takes from the clock and a random UID, set from the run's clock and
    UIDs (a seeded run gives the same bytes), and the file meta naming this package."""
    seg.InstanceCreationDate, seg.InstanceCreationTime = (
        now.strftime("%Y%m%d"),
        now.strftime("%H%M%S"),
    )
    for item in seg.get("ContributingEquipmentSequence", []):
        if "ContributionDateTime" in item:
            item.ContributionDateTime = now.strftime("%Y%m%d%H%M%S")
    for name in ("DimensionOrganizationSequence", "DimensionIndexSequence"):
        for item in seg.get(name, []):
            if "DimensionOrganizationUID" in item:
                item.DimensionOrganizationUID = dimension_uid
    seg.file_meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    seg.file_meta.ImplementationVersionName = IMPLEMENTATION_VERSION


def save_seg(
    label_file: str | Path,
    out_dir: str | Path,
    reference_dir: str | Path,
    labels_file: str | Path,
    options: SegOptions | None = None,
) -> SegReport:
    """Write the label map as one DICOM Segmentation instance referencing the reference
    series, into ``out_dir`` (made atomically)."""
    options = checked_kind_fields(options or SegOptions())
    description = options.series_description or DESCRIPTION
    syntax = transfer_syntax(options.transfer_syntax, None, str(label_file))
    if syntax not in SEG_SYNTAXES:
        *names, last = (n for n, uid in TRANSFER_SYNTAXES.items() if uid in SEG_SYNTAXES)
        raise field_error(
            "transfer_syntax",
            f"{UID(syntax).name}: a (BINARY, bit-packed) Segmentation is written in "
            f"{', '.join(names)} or {last}",
        )
    started = time.perf_counter()
    table = read_label_table(labels_file)
    reference = read_series(reference_dir)
    if syntax == JPEG2000Lossless:
        rows, columns = int(reference[0].Rows), int(reference[0].Columns)
        require_codec(syntax, rows, columns, instead="deflated")
    stack = labels_on_reference(label_file, reference, reference_dir)
    counts = present_labels(stack, table, str(label_file), str(labels_file))
    values = sorted(counts)
    numbers = segment_numbers(stack, values)
    series_number = options.series_number
    if series_number is None:
        series_number = int(reference[0].get("SeriesNumber", 0) or 0) + SERIES_NUMBER_OFFSET
    parts = (
        files_digest(label_file),
        files_digest(labels_file),
        files_digest(*(d.filename for d in reference)),
        series_number,
        description,
    )
    uids = UidSource.of_run(options.uid_seed, options.reproducible)
    series_uid, sop_uid = uids.uid("seg-series", *parts), uids.uid("seg-instance", *parts)
    now = run_clock(options.clock, uids.derived, label_file)
    seg, warned = _segmentation(
        reference,
        numbers,
        [_description(n, table[v]) for n, v in enumerate(values, 1)],
        series_instance_uid=series_uid,
        series_number=series_number,
        sop_instance_uid=sop_uid,
        series_description=description,
        content_date=now.date(),
        content_time=now.time().replace(microsecond=0),
        transfer_syntax_uid=ExplicitVRLittleEndian if syntax == DEFLATED else syntax,
    )
    seg.file_meta.TransferSyntaxUID = syntax  # Deflated: pydicom deflates the data set
    _pin(seg, now, uids.uid("seg-dimensions", *parts))
    name = file_name(1, 1)
    with atomic_folder(out_dir, options.overwrite) as work:
        seg.save_as(work / name)
    return SegReport(
        input=str(label_file),
        reference=str(reference_dir),
        labels=str(labels_file),
        output=str(out_dir),
        files=[name],
        study_instance_uid=str(seg.StudyInstanceUID),
        series_instance_uid=series_uid,
        sop_instance_uid=sop_uid,
        frame_of_reference_uid=str(seg.FrameOfReferenceUID),
        transfer_syntax=syntax,
        segments=[
            {"number": n, "value": v, "name": table[v].name, "voxels": counts[v]}
            for n, v in enumerate(values, 1)
        ],
        absent_labels=[
            {"value": v, "name": label.name}
            for v, label in sorted(table.items())
            if v not in counts
        ],
        seconds=round(time.perf_counter() - started, 3),
        warnings=warned,
    )
