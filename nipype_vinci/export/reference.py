"""Joining the original study (DESIGN section 11): what a derived series takes from its
reference (a DICOM file or the folder of the original series) and how it points back."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from .. import __version__
from ..dicomio import read_dicom, read_series
from ..errors import VinciError, field_error
from ..fields import BY_NAME
from .geometry import Geometry
from .metadata import Metadata, build_metadata, given
from .quantize import ds_text

# Fields a derived series takes from its reference: its Patient and Study modules, and the
# radiopharmaceutical of a PET (an SUV map needs it). Flags and metadata files still win.
PATIENT_STUDY_FIELDS = (
    "patient_name",
    "patient_id",
    "patient_birth_date",
    "patient_sex",
    "patient_age",
    "patient_weight",
    "patient_size",
    "study_date",
    "study_time",
    "study_description",
    "study_id",
    "accession_number",
    "referring_physician_name",
    "study_instance_uid",
)
RADIOPHARMACEUTICAL_FIELDS = (
    "radiopharmaceutical",
    "injection_time",
    "injected_dose",
    "half_life",
    "positron_fraction",
)
SERIES_NUMBER_OFFSET = 1000
PROCESSING_EQUIPMENT = ("109102", "DCM", "Processing Equipment")  # CID 7005
POSITION_TOLERANCE_MM = 0.01
ORIENTATION_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Reference:
    """The original series: its first header and each instance's class, UID and position."""

    path: str
    header: Dataset
    instances: tuple[tuple[str, str, tuple[float, ...]], ...]

    @property
    def series_number(self) -> int | None:
        number = self.header.get("SeriesNumber")
        return None if number in (None, "") else int(number)


def read_reference(path: str | Path) -> Reference:
    """The reference at ``path``: one DICOM file or the folder of one series."""
    path = Path(path)
    datasets = read_series(path) if path.is_dir() else [read_dicom(path, pixels=False)]
    for needed in ("StudyInstanceUID", "SeriesInstanceUID", "PatientID"):
        if not datasets[0].get(needed):
            raise VinciError(f"{path}: the reference has no {needed}; give the original scan")
    instances = tuple(
        (
            str(d.get("SOPClassUID", "")),
            str(d.get("SOPInstanceUID", "")),
            tuple(float(v) for v in d.get("ImagePositionPatient") or ()),
        )
        for d in datasets
    )
    return Reference(str(path), datasets[0], instances)


@dataclass(frozen=True)
class SeriesIndex:
    """The DICOM series under a folder: each series folder by SeriesInstanceUID, and the
    series folders of each StudyInstanceUID."""

    by_series: dict[str, Path]
    by_study: dict[str, list[Path]]

    def match(self, study_uid: str | None, series_uid: str | None) -> Path | None:
        """The folder of the series, else the first series of the study, else None."""
        if series_uid and series_uid in self.by_series:
            return self.by_series[series_uid]
        found = self.by_study.get(study_uid or "", [])
        return found[0] if found else None


def index_series(root: str | Path) -> SeriesIndex:
    """Every folder under ``root`` that holds a DICOM series (one series a folder, as a
    series folder is), by the UIDs of its first DICOM file."""
    root = Path(root)
    if not root.is_dir():
        raise VinciError(f"{root}: not a folder; give the folder that holds the original series")
    by_series: dict[str, Path] = {}
    by_study: dict[str, list[Path]] = {}
    for top, _, names in sorted(os.walk(root, followlinks=True)):
        folder = Path(top)
        for path in sorted(folder / n for n in names if (folder / n).is_file()):
            try:
                header = read_dicom(path, pixels=False)
            except VinciError:
                continue
            series, study = (
                str(header.get("SeriesInstanceUID", "")),
                str(header.get("StudyInstanceUID", "")),
            )
            if series:
                by_series.setdefault(series, folder)
                by_study.setdefault(study, []).append(folder)
            break
    if not by_series:
        raise VinciError(f"{root}: holds no DICOM series; give the folder of the original scans")
    return SeriesIndex(by_series, by_study)


def reference_values(reference: Reference) -> dict[str, object]:
    """The field values the reference gives (raw, checked with the user's)."""
    header = reference.header
    values = {name: header.get(BY_NAME[name].dicom) for name in PATIENT_STUDY_FIELDS}
    drugs = header.get("RadiopharmaceuticalInformationSequence") or []
    if drugs:
        values |= {name: drugs[0].get(BY_NAME[name].dicom) for name in RADIOPHARMACEUTICAL_FIELDS}
    if reference.series_number is not None:
        values["series_number"] = reference.series_number + SERIES_NUMBER_OFFSET
    return {
        name: str(value) if not isinstance(value, (int, float)) else value
        for name, value in values.items()
        if value not in (None, "")
    }


def _corners(rows: int, columns: int, orientation, spacing, positions) -> np.ndarray:
    """The LPS corners of every slice of a grid."""
    row, column = np.asarray(orientation[:3]), np.asarray(orientation[3:])
    across, down = (columns - 1) * spacing[1] * row, (rows - 1) * spacing[0] * column
    return np.array([p + offset for p in positions for offset in (0, across, down, across + down)])


def same_space(reference: Reference, geometry: Geometry, shape) -> tuple[bool, str]:
    """Whether the image lies in the reference's space: its centre inside the box of the
    reference's volume. Returns the decision and why."""
    header = reference.header
    positions = [np.asarray(p) for _, _, p in reference.instances if len(p) == 3]
    orientation = header.get("ImageOrientationPatient")
    spacing = header.get("PixelSpacing")
    if not positions or not orientation or not spacing or not header.get("Rows"):
        return False, "the reference has no plane geometry"
    box = _corners(int(header.Rows), int(header.Columns), orientation, spacing, positions)
    low, high = box.min(axis=0) - 1.0, box.max(axis=0) + 1.0
    last = geometry.position(shape[2] - 1)
    row, column = np.asarray(geometry.orientation[:3]), np.asarray(geometry.orientation[3:])
    far = (shape[0] - 1) * geometry.spacing[0] * row + (shape[1] - 1) * geometry.spacing[1] * column
    centre = (geometry.position(0) + last + far) / 2
    inside = bool(np.all(centre >= low) and np.all(centre <= high))
    where = ", ".join(f"{v:.1f}" for v in centre)
    verdict = "inside" if inside else "outside"
    return inside, f"the image's centre ({where} mm, LPS) lies {verdict} the reference's volume"


def source_instances(reference: Reference, geometry: Geometry, shape) -> dict[int, tuple]:
    """Per slice k of the image, the reference instance whose plane it lies in (parallel
    planes less than 0.01 mm apart): (SOP class, SOP instance UID)."""
    orientation = reference.header.get("ImageOrientationPatient")
    if not orientation:
        return {}
    cosines = np.array([float(v) for v in orientation])
    normal = np.cross(cosines[:3], cosines[3:])
    if abs(float(normal @ geometry.normal)) < 1 - ORIENTATION_TOLERANCE:
        return {}
    planes = [
        (float(np.asarray(at) @ normal), sop_class, sop_uid)
        for sop_class, sop_uid, at in reference.instances
        if len(at) == 3
    ]
    found = {}
    for k in range(shape[2]):
        height = float(geometry.position(k) @ normal)
        distance, sop_class, sop_uid = min((abs(h - height), c, u) for h, c, u in planes)
        if distance < POSITION_TOLERANCE_MM:
            found[k] = (sop_class, sop_uid)
    return found


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def mark_derived(dataset: Dataset, reference: Reference, error_bound: float) -> None:
    """A derived series of the reference's patient: ImageType DERIVED (value 2 as the IOD
    allows), DerivationDescription, RelatedSeriesSequence and ContributingEquipmentSequence;
    no de-identification marks (it is the same patient)."""
    pet = str(dataset.get("SOPClassUID", "")) == "1.2.840.10008.5.1.4.1.1.128"
    image_type = list(dataset.get("ImageType") or ["DERIVED", "SECONDARY"])
    image_type[:2] = ["DERIVED", "PRIMARY" if pet else "SECONDARY"]
    dataset.ImageType = image_type
    dataset.DerivationDescription = (
        f"nipype_vinci {__version__}: image volume written from a template; largest "
        f"quantization error {ds_text(error_bound)}"
    )[:1024]
    related = Dataset()
    related.StudyInstanceUID = reference.header.StudyInstanceUID
    related.SeriesInstanceUID = reference.header.SeriesInstanceUID
    related.PurposeOfReferenceCodeSequence = Sequence(
        [_code("121322", "DCM", "Source image for image processing operation")]
    )
    dataset.RelatedSeriesSequence = Sequence([related])
    equipment = Dataset()
    equipment.PurposeOfReferenceCodeSequence = Sequence([_code(*PROCESSING_EQUIPMENT)])
    equipment.Manufacturer = "nipype_vinci"
    equipment.SoftwareVersions = __version__
    equipment.ContributionDescription = "written as a DICOM series from an image volume"
    dataset.ContributingEquipmentSequence = Sequence([equipment])
    for marker in ("PatientIdentityRemoved", "DeidentificationMethod"):
        if marker in dataset:
            del dataset[marker]


def source_image_item(sop_class: str, sop_uid: str) -> Dataset:
    """A SourceImageSequence item naming the reference instance a slice lies on."""
    item = Dataset()
    item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = sop_class, sop_uid
    item.PurposeOfReferenceCodeSequence = Sequence(
        [_code("121322", "DCM", "Source image for image processing operation")]
    )
    return item


SOURCE_IMAGE_SEQUENCE = 0x00082112


def joined(reference: Reference, metadata: Metadata) -> Metadata:
    """The user's metadata over the reference's Patient, Study and radiopharmaceutical."""
    from_reference = build_metadata(
        reference_values(reference),
        lambda name: f"{reference.path}: {BY_NAME[name].dicom} of the reference",
    )
    return Metadata(**{**given(from_reference), **given(metadata)})


def frame_of_reference(
    reference: Reference, metadata: Metadata, geometry: Geometry, shape, mode: str
) -> tuple[Metadata, dict[int, tuple], dict]:
    """The metadata with the reference's FrameOfReferenceUID when the image shares its
    space, the reference instances the slices lie on, and the decision for the report."""
    inside, reason = same_space(reference, geometry, shape)
    same = {"same": True, "new": False}.get(mode, inside)
    if mode != "auto":
        reason = f"{mode} was asked for"
    uid = str(reference.header.get("FrameOfReferenceUID", ""))
    if same and not uid:
        raise field_error("frame_of_reference", f"{reference.path} has no FrameOfReferenceUID")
    given_uid = metadata.frame_of_reference_uid
    if same and given_uid is None:
        metadata = Metadata(**{**given(metadata), "frame_of_reference_uid": uid})
    sources = source_instances(reference, geometry, shape) if same else {}
    decision = {
        "path": reference.path,
        "study_instance_uid": str(reference.header.StudyInstanceUID),
        "series_instance_uid": str(reference.header.SeriesInstanceUID),
        "frame_of_reference": {"mode": mode, "same": same, "reason": reason},
        "source_images": len(sources),
    }
    return metadata, sources, decision


def source_image_elements(source: tuple | None) -> dict[int, DataElement] | None:
    """The SourceImageSequence element of one file (None: the slice lies on no reference
    slice)."""
    if source is None:
        return None
    return {
        SOURCE_IMAGE_SEQUENCE: DataElement(
            SOURCE_IMAGE_SEQUENCE, "SQ", Sequence([source_image_item(*source)])
        )
    }
