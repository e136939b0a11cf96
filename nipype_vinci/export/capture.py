"""RGB Secondary Capture instances, one per slice, with the plane geometry of a volume.

The SC Image IOD holds any picture; the Image Plane attributes (position, orientation,
spacing) and the Frame of Reference are added as Standard Extended SOP Class attributes so
that viewers place and link each slice. Multi-frame True Color SC would need one file for
the whole series and has no per-frame position: viewers could not place its slices.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian

from .. import __version__
from .fill import IMPLEMENTATION_VERSION
from .geometry import Geometry
from .quantize import ds_text
from .uids import IMPLEMENTATION_CLASS_UID

SC_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.7"
# Patient and General Study attributes a derived series takes from its reference (DESIGN 11)
JOINED = (
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientSex",
    "PatientAge",
    "PatientSize",
    "PatientWeight",
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "StudyID",
    "AccessionNumber",
    "ReferringPhysicianName",
    "StudyDescription",
)
AXIS_LETTERS = (("L", "R"), ("P", "A"), ("H", "F"))  # LPS +/- per axis


def patient_orientation(direction: np.ndarray) -> str:
    """PatientOrientation letters of a direction (LPS), most significant axis first."""
    order = np.argsort(-np.abs(direction))
    return "".join(
        AXIS_LETTERS[axis][0 if direction[axis] > 0 else 1]
        for axis in order
        if abs(direction[axis]) > 0.25
    )


def series_header(
    reference: Dataset | None,
    study_uid: str,
    series_uid: str,
    frame_of_reference_uid: str,
    series_number: int,
    description: str,
    now: datetime,
) -> Dataset:
    """The attributes every instance of the series shares: patient, study (the reference's
    when given, else a new study), series, equipment and frame of reference."""
    header = Dataset()
    header.SpecificCharacterSet = "ISO_IR 192"  # values are Unicode; UTF-8 holds them all
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex"):
        setattr(header, keyword, "")
    header.StudyInstanceUID = study_uid
    header.StudyDate, header.StudyTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    header.StudyID = header.AccessionNumber = header.ReferringPhysicianName = ""
    for keyword in JOINED if reference is not None else ():
        if keyword in reference:
            setattr(header, keyword, reference[keyword].value)
    header.Modality = "OT"
    header.SeriesInstanceUID = series_uid
    header.SeriesNumber = series_number
    header.SeriesDescription = description
    header.SeriesDate, header.SeriesTime = header.StudyDate, header.StudyTime
    header.Laterality = ""  # unknown: dciodvfy asks for this 2C attribute, empty or not
    header.Manufacturer = "nipype_vinci"
    header.ConversionType = "WSD"
    header.SecondaryCaptureDeviceManufacturer = "nipype_vinci"
    header.SecondaryCaptureDeviceManufacturerModelName = "nipype-vinci"
    header.SecondaryCaptureDeviceSoftwareVersions = __version__
    header.FrameOfReferenceUID = frame_of_reference_uid
    header.PositionReferenceIndicator = ""
    header.ImageType = ["DERIVED", "SECONDARY"]
    header.BurnedInAnnotation = "YES"
    header.ContentDate, header.ContentTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    header.SOPClassUID = SC_IMAGE_STORAGE
    return header


def rgb_instance(
    header: Dataset,
    rgb: np.ndarray,
    geometry: Geometry,
    k: int,
    sop_uid: str,
    comments: dict[str, str],
) -> Dataset:
    """One slice (rows x columns x 3 uint8) as an RGB SC instance at slice k of ``geometry``."""
    ds = Dataset()
    ds.update(header)
    ds.SOPInstanceUID = sop_uid
    ds.InstanceNumber = k + 1
    ds.PatientOrientation = [
        patient_orientation(np.asarray(geometry.orientation[:3])),
        patient_orientation(np.asarray(geometry.orientation[3:])),
    ]
    ds.ImagePositionPatient = [ds_text(float(v)) for v in geometry.position(k)]
    ds.ImageOrientationPatient = [ds_text(v) for v in geometry.orientation]
    ds.PixelSpacing = [ds_text(v) for v in geometry.pixel_spacing]
    ds.SliceThickness = ds_text(geometry.spacing[2])
    ds.SliceLocation = ds_text(geometry.location(k))
    for keyword, value in comments.items():
        setattr(ds, keyword, value)
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.Rows, ds.Columns = rgb.shape[:2]
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    data = np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()
    ds.PixelData = data + b"\0" * (len(data) % 2)
    return ds


def write_instance(ds: Dataset, path: Path, syntax: str = ExplicitVRLittleEndian) -> None:
    """Save as a DICOM file in ``syntax`` (pixel data compressed by pydicom's encoders for an
    encapsulated one, already checked with ``encode.require_codec``) with its file meta
    information."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian if UID(syntax).is_encapsulated else syntax
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION
    ds.file_meta = meta
    if UID(syntax).is_encapsulated:
        ds.compress(syntax)  # sets the transfer syntax
    ds.save_as(path, enforce_file_format=True)
