"""Verification: ask the receiver what it holds, because a receiver may answer success and
store nothing. One series-level count; when it differs, an instance-level list names the
files that are missing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .association import Association
from .dimse import (
    C_FIND_RSP,
    COMMAND_FIELD,
    IMPLICIT_LITTLE_ENDIAN,
    STATUS,
    find_request,
    implicit_data_set,
    status_category,
    status_meaning,
)
from .report import ACKNOWLEDGED, MISSING, SeriesReport
from .retry import PermanentFailure, TransientFailure
from .series import Series
from .stow import http_failure, web_client
from .target import DicomNode, DicomWebService


@dataclass(frozen=True)
class Receiver:
    """How to ask one receiver about a series: the count of its instances, and their UIDs."""

    name: str
    count: Callable[[Series], int]
    uids: Callable[[Series], set[str]]


def check_stored(report: SeriesReport, receiver: Receiver) -> None:
    """Mark acknowledged files the receiver does not hold as missing; set ``verified``."""
    try:
        report.receiver_count = receiver.count(report.series)
        held = None
        if report.receiver_count != len(report.files):
            held = receiver.uids(report.series)
    except (TransientFailure, PermanentFailure) as exc:
        report.verified, report.verify_error = False, f"cannot verify: {exc}"
        return
    for result in report.files:
        found = held is None or result.instance.sop_instance_uid in held
        if result.outcome in ACKNOWLEDGED and not found:
            result.outcome = MISSING
            result.reason = (
                f"acknowledged ({result.status}) but not stored: {receiver.name} holds "
                f"{report.receiver_count} of the series' {len(report.files)} instances"
            )
    report.verified = not report.failed()


def cfind_receiver(node: DicomNode, *, calling_aet: str, timeout: float) -> Receiver:
    """C-FIND (Study Root) at SERIES level for the count, at IMAGE level for the UIDs."""

    def count(series: Series) -> int:
        answers = _cfind(node, calling_aet, timeout, series, "SERIES")
        return int(answers[0].get("NumberOfSeriesRelatedInstances", 0) or 0) if answers else 0

    def uids(series: Series) -> set[str]:
        return {str(a.SOPInstanceUID) for a in _cfind(node, calling_aet, timeout, series, "IMAGE")}

    return Receiver(f"{node} (C-FIND)", count, uids)


STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"


def _cfind(node: DicomNode, calling_aet: str, timeout: float, series: Series, level: str):
    query = {
        "QueryRetrieveLevel": level,
        "StudyInstanceUID": series.study_instance_uid,
        "SeriesInstanceUID": series.series_instance_uid,
        "NumberOfSeriesRelatedInstances" if level == "SERIES" else "SOPInstanceUID": "",
    }
    context = (STUDY_ROOT_FIND, IMPLICIT_LITTLE_ENDIAN)
    answers = []
    with Association.open(node, calling_aet, [context], timeout) as association:
        if context not in association.accepted:
            raise PermanentFailure(f"{node} accepts no Study Root C-FIND")
        request = find_request(1, STUDY_ROOT_FIND)
        association.send_message(association.accepted[context], request, _identifier(query))
        while True:
            response, identifier = association.receive_message()
            code = response.get(STATUS)
            if response.get(COMMAND_FIELD) != C_FIND_RSP or not isinstance(code, int):
                raise TransientFailure(f"{node} answered the C-FIND with something else")
            if status_category(code) != "Pending":
                break
            if identifier is not None:
                answers.append(_read_identifier(identifier))
    if code != 0x0000:
        raise PermanentFailure(f"{node} answered C-FIND with 0x{code:04X} ({status_meaning(code)})")
    return answers


def _identifier(elements: dict[str, str]) -> bytes:
    """A query's identifier, Implicit VR Little Endian."""
    from pydicom import Dataset

    query = Dataset()
    for keyword, value in elements.items():
        setattr(query, keyword, value)
    return implicit_data_set(query)


def _read_identifier(raw: bytes):
    from io import BytesIO

    from pydicom.filereader import read_dataset

    return read_dataset(BytesIO(raw), is_implicit_VR=True, is_little_endian=True)


def qido_receiver(service: DicomWebService, *, timeout: float) -> Receiver:
    """QIDO-RS: the series' NumberOfSeriesRelatedInstances, then its instances' UIDs."""
    client = web_client(service, timeout)

    def count(series: Series) -> int:
        answers = _qido(
            service,
            client.search_for_series,
            series.study_instance_uid,
            search_filters={"SeriesInstanceUID": series.series_instance_uid},
            fields=["NumberOfSeriesRelatedInstances"],
        )
        values = answers[0].get(_NUMBER_OF_INSTANCES, {}).get("Value", [0]) if answers else [0]
        return int(values[0])

    def uids(series: Series) -> set[str]:
        answers = _qido(
            service,
            client.search_for_instances,
            series.study_instance_uid,
            series.series_instance_uid,
            fields=["SOPInstanceUID"],
            get_remaining=True,
        )
        return {a[_SOP_INSTANCE_UID]["Value"][0] for a in answers if _SOP_INSTANCE_UID in a}

    return Receiver(f"{service} (QIDO-RS)", count, uids)


_NUMBER_OF_INSTANCES = "00201209"
_SOP_INSTANCE_UID = "00080018"


def _qido(service: DicomWebService, search: Callable, *args, **kwargs) -> list[dict]:
    import requests

    try:
        return search(*args, **kwargs)
    except requests.RequestException as exc:
        raise http_failure(service, exc) from None
