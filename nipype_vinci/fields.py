"""The registry of user fields: each field the user may set is declared once, here.

From it come the command-line flags, the Nipype traits, the export workflow's inputs, the
keys accepted in a ``--metadata`` JSON file (our names, DICOM keywords, template keywords,
BIDS keys), the typed ``Metadata`` and the way errors name a field in each front end.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from . import field_checks as c
from .encode import TRANSFER_SYNTAXES
from .errors import Problem, VinciError

# How a field's value is held: the Python type of the clean value and of its Nipype trait.
KINDS = ("text", "float", "int", "floats", "bool")


@dataclass(frozen=True)
class Field:
    """One user field: its name, kind, check, help, and the other names it is known by."""

    name: str
    kind: str
    check: c.Check
    help: str
    dicom: str | None = None  # DICOM keyword (PatientWeight), accepted in --metadata
    bids: str | None = None  # BIDS sidecar key that maps to it one to one
    unit: str | None = None
    header: bool = True  # False: how to save (an option), not a value of the header
    choices: tuple[str, ...] = ()
    default: object = None
    flag_name: str | None = None  # the command line's name when it is shorter than ours

    @property
    def flag(self) -> str:
        return "--" + (self.flag_name or self.name).replace("_", "-")


SCALING_MODES = ("global", "per-frame", "per-slice")
TRANSFER_SYNTAX_NAMES = tuple(TRANSFER_SYNTAXES)
FRAME_OF_REFERENCE_MODES = ("auto", "same", "new")

FIELDS: tuple[Field, ...] = (
    Field("patient_name", "text", c.text("PN"), "Family^Given", "PatientName"),
    Field("patient_id", "text", c.text("LO"), "patient ID", "PatientID"),
    Field("patient_birth_date", "text", c.date, "YYYYMMDD", "PatientBirthDate"),
    Field("patient_sex", "text", c.one_of("M", "F", "O"), "M, F or O", "PatientSex"),
    Field("patient_age", "text", c.age, "045Y or 45", "PatientAge"),
    Field("patient_weight", "float", c.positive, "kg", "PatientWeight", unit="kg"),
    Field("patient_size", "float", c.positive, "height in m", "PatientSize", unit="m"),
    Field("study_date", "text", c.date, "YYYYMMDD", "StudyDate"),
    Field("study_time", "text", c.time_of_day, "HHMMSS", "StudyTime"),
    Field("acquisition_date", "text", c.date, "YYYYMMDD (scan start)", "AcquisitionDate"),
    Field("acquisition_time", "text", c.time_of_day, "HHMMSS (scan start)", "AcquisitionTime"),
    Field("study_description", "text", c.text("LO"), "study description", "StudyDescription"),
    Field("series_description", "text", c.text("LO"), "series description", "SeriesDescription"),
    Field("protocol_name", "text", c.text("LO"), "protocol name", "ProtocolName"),
    Field("study_id", "text", c.text("SH"), "study ID", "StudyID"),
    Field("accession_number", "text", c.text("SH"), "accession number", "AccessionNumber"),
    Field(
        "referring_physician_name",
        "text",
        c.text("PN"),
        "Family^Given",
        "ReferringPhysicianName",
    ),
    Field("series_number", "int", c.integer(0, 2**31 - 1), "0..2147483647", "SeriesNumber"),
    Field(
        "study_instance_uid",
        "text",
        c.text("UI"),
        "share a study between series",
        "StudyInstanceUID",
    ),
    Field(
        "frame_of_reference_uid",
        "text",
        c.text("UI"),
        "share a frame of reference (the image lies in that space)",
        "FrameOfReferenceUID",
    ),
    Field(
        "radiopharmaceutical",
        "text",
        c.text("LO"),
        "tracer name",
        "Radiopharmaceutical",
        bids="TracerName",
    ),
    Field(
        "injection_time",
        "text",
        c.time_of_day,
        "HHMMSS (injection / dosage start)",
        "RadiopharmaceuticalStartTime",
    ),
    Field(
        "injected_dose",
        "float",
        c.dose,
        "with units: 370MBq, 10mCi (a bare number: Bq)",
        "RadionuclideTotalDose",
        unit="Bq",
    ),
    Field(
        "half_life",
        "float",
        c.positive,
        "seconds",
        "RadionuclideHalfLife",
        unit="s",
    ),
    Field(
        "positron_fraction",
        "float",
        c.fraction,
        "0..1",
        "RadionuclidePositronFraction",
    ),
    Field(
        "units",
        "text",
        c.units,
        "BQML, CNTS, GML, ... (BIDS Bq/mL accepted)",
        "Units",
        bids="Units",
    ),
    Field(
        "frame_times",
        "floats",
        c.numbers,
        "frame starts in s after the scan start (after the injection when no acquisition "
        "time is given), comma-separated",
        bids="FrameTimesStart",
        unit="s",
    ),
    Field(
        "frame_durations",
        "floats",
        c.frame_durations,
        "frame durations in s, comma-separated (one value: a static image)",
        bids="FrameDuration",
        unit="s",
    ),
    Field(
        "decay_factors",
        "floats",
        c.numbers,
        "decay correction factor per frame",
        bids="DecayCorrectionFactor",
    ),
    Field(
        "decay_correction",
        "text",
        c.one_of("NONE", "START", "ADMIN"),
        "NONE, START (to the scan start) or ADMIN (to the injection)",
        "DecayCorrection",
    ),
    # How to save: options, not header values.
    Field(
        "scaling",
        "text",
        c.choice(*SCALING_MODES),
        "one slope a series, a frame or a slice (default: per-slice for PET, else global)",
        header=False,
        choices=SCALING_MODES,
    ),
    Field(
        "nan_value",
        "float",
        c.finite,
        "store NaN and infinite voxels as this value (default: refuse them)",
        header=False,
    ),
    Field(
        "uid_seed",
        "text",
        c.text_value,
        "derive UIDs from this seed and every input (reruns give identical files)",
        header=False,
    ),
    Field(
        "reference_dicom",
        "text",
        c.text_value,
        "a DICOM file or series folder of the original scan: the output joins its patient "
        "and study (flags still win)",
        header=False,
        flag_name="reference",
    ),
    Field(
        "frame_of_reference",
        "text",
        c.choice(*FRAME_OF_REFERENCE_MODES),
        "with a reference: share its frame of reference (same), not (new), or decide from "
        "the geometry (auto, the default)",
        header=False,
        choices=FRAME_OF_REFERENCE_MODES,
    ),
    Field(
        "transfer_syntax",
        "text",
        c.choice(*TRANSFER_SYNTAX_NAMES),
        "how the files are encoded (default: a template's (0002,0010), else explicit)",
        header=False,
        choices=TRANSFER_SYNTAX_NAMES,
    ),
    Field(
        "series_index",
        "int",
        c.integer(0, 2**31 - 2),
        "index of this image in a multi-image export (series number index+1)",
        header=False,
        default=0,
    ),
)

BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
HEADER_FIELDS: tuple[Field, ...] = tuple(f for f in FIELDS if f.header)
OPTION_FIELDS: tuple[Field, ...] = tuple(f for f in FIELDS if not f.header)


def flag_label(name: str) -> str:
    """How the command line names a field."""
    return BY_NAME[name].flag if name in BY_NAME else "--" + name.replace("_", "-")


def input_label(name: str) -> str:
    """How Nipype names a field: the input (trait) of the node."""
    return f"input {name}"


def check_fields(values: dict[str, object]) -> dict[str, object]:
    """The given values (None: not given) checked by their fields; errors name the field."""
    clean, problems = {}, []
    for name, raw in values.items():
        if raw is None:
            continue
        try:
            clean[name] = BY_NAME[name].check(raw)
        except (ValueError, TypeError) as exc:
            problems.append(Problem(str(exc), name))
    if problems:
        raise VinciError(problems)
    return clean


def clean_options(values: dict[str, object]) -> dict[str, object]:
    """The option fields among ``values`` checked (None: not given); errors name the field."""
    return check_fields({f.name: values.get(f.name) for f in OPTION_FIELDS})


# The fields the other output kinds (SEG, overlay) take: their series' identity and encoding.
KIND_FIELDS: tuple[Field, ...] = tuple(
    BY_NAME[name] for name in ("uid_seed", "series_number", "series_description", "transfer_syntax")
)


def checked_kind_fields(options):
    """A copy of a kind's options (a dataclass with the KIND_FIELDS) whose values are
    checked; errors name the field."""
    values = {f.name: getattr(options, f.name) for f in KIND_FIELDS}
    return dataclasses.replace(options, **check_fields(values))
