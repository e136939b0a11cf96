"""The series to send: DICOM files found in the given folders (or files), grouped by series."""

from __future__ import annotations

import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import VinciError

_TAGS = ["SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"]
_META_TAGS = ["MediaStorageSOPClassUID", "MediaStorageSOPInstanceUID", "TransferSyntaxUID"]


@dataclass(frozen=True)
class Instance:
    """One DICOM file and what a receiver needs to know before it arrives."""

    path: Path
    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str


@dataclass
class Series:
    """The instances of one series, in file-name order (the export's instance order)."""

    series_instance_uid: str
    study_instance_uid: str
    instances: list[Instance]

    @property
    def folder(self) -> Path:
        return self.instances[0].path.parent


def is_dicom_file(path: Path) -> bool:
    """Whether the file has the DICOM preamble (128 bytes, then ``DICM``)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(132)[128:] == b"DICM"
    except OSError:
        return False


_LONG_VRS = set(b"OB OD OF OL OV OW SQ SV UC UN UR UT UV".split())  # 4-byte lengths


DEFLATED = "1.2.840.10008.1.2.1.99"


def data_set(path: Path) -> memoryview:
    """The bytes of a DICOM file's data set, in its transfer syntax: what follows the preamble
    and the file meta elements (group 0002, Explicit VR Little Endian). The elements are
    walked, as readers do (a data set holds no group 0002, and a wrong group length is
    common). A deflated data set's compressed bytes may happen to begin like a group 0002
    element: where the walk and the group length (PS3.10 7.1) disagree, the start that
    inflates to a data set's first tag wins."""
    raw = memoryview(path.read_bytes())
    offset, syntax, length_end = 132, "", None
    while offset + 8 <= len(raw) and raw[offset : offset + 2] == b"\x02\x00":
        element = struct.unpack_from("<H", raw, offset + 2)[0]
        if bytes(raw[offset + 4 : offset + 6]) in _LONG_VRS:
            header, length = 12, struct.unpack_from("<I", raw, offset + 8)[0]
        else:
            header, length = 8, struct.unpack_from("<H", raw, offset + 6)[0]
        value = bytes(raw[offset + header : offset + header + length])
        if element == 0x0000 and length == 4 and length_end is None:
            length_end = offset + header + 4 + struct.unpack("<I", value)[0]
        elif element == 0x0010 and not syntax:  # the first: a deflated stream may mimic one
            syntax = value.decode("ascii", "replace").rstrip("\0 ")
        offset += header + length
    if syntax == DEFLATED and length_end is not None and length_end != offset:
        # the walk may have run into compressed bytes, or the group length be wrong: the
        # start that inflates to a data set's first tag is the right one
        return raw[length_end if _inflates_to_a_tag(raw[length_end:]) else offset :]
    return raw[offset:]


def _inflates_to_a_tag(data: memoryview) -> bool:
    """Whether a raw deflate stream starts with a data set element (group 0008 or above)."""
    try:
        head = zlib.decompressobj(-zlib.MAX_WBITS).decompress(bytes(data[:256]), 4)
    except zlib.error:
        return False
    return len(head) == 4 and struct.unpack("<H", head[:2])[0] >= 0x0008


def _read(path: Path) -> tuple[Instance, str, str]:
    import pydicom

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dataset = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=_TAGS)
        uids = [str(dataset.get(tag, "")).strip() for tag in _TAGS]
        meta = [str(dataset.file_meta.get(tag, "")).strip() for tag in _META_TAGS]
    except Exception as exc:  # pydicom raises many kinds for a broken file
        raise VinciError(f"{path}: not a readable DICOM file ({exc})") from None
    missing = [tag for tag, uid in zip(_TAGS + _META_TAGS, uids + meta) if not uid]
    if missing:
        raise VinciError(f"{path}: has no {', '.join(missing)}; a receiver cannot store it")
    if meta[:2] != uids[:2]:  # the file is sent as it is: its meta header must be right
        raise VinciError(
            f"{path}: its file meta header names SOP class/instance {meta[0]} / {meta[1]}, "
            f"its data set {uids[0]} / {uids[1]}; rewrite the file"
        )
    return Instance(path, uids[0], uids[1], meta[2]), uids[2], uids[3]


def _files(paths: list[str | Path]) -> list[Path]:
    found: dict[Path, None] = {}
    for given in map(Path, paths):
        if given.is_dir():
            inside = sorted(p for p in given.iterdir() if p.is_file() and is_dicom_file(p))
            if not inside:
                raise VinciError(f"{given}: holds no DICOM file; give a folder of a DICOM series")
            found.update(dict.fromkeys(p.absolute() for p in inside))
        elif given.is_file():
            if not is_dicom_file(given):
                raise VinciError(f"{given}: not a DICOM file (no DICM preamble)")
            found[given.absolute()] = None
        else:
            raise VinciError(f"{given}: no such file or folder; give a DICOM series folder")
    return list(found)


def collect_series(paths: list[str | Path]) -> list[Series]:
    """The series held by the given folders and files, each file read up to its pixel data.

    Every unreadable file and every SOPInstanceUID shared by two files is one problem line.
    """
    if not paths:
        raise VinciError("no series to send; give at least one DICOM series folder")
    series: dict[str, Series] = {}
    owners: dict[str, Path] = {}
    problems = []
    for path in _files(paths):
        try:
            instance, study, series_uid = _read(path)
        except VinciError as error:
            problems += error.problems
            continue
        first = owners.setdefault(instance.sop_instance_uid, path)
        if first != path:
            problems.append(
                f"{path}: same SOPInstanceUID as {first}; a receiver keeps only one of them"
            )
            continue
        series.setdefault(series_uid, Series(series_uid, study, [])).instances.append(instance)
    if problems:
        raise VinciError(problems)
    return list(series.values())
