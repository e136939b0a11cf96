"""DICOM C-STORE through pynetdicom: one association a series, for exactly the pairs of SOP
class and transfer syntax its files hold, every response status checked."""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterator

from .report import FAILED, STORED, WARNING, FileResult
from .retry import PermanentFailure, TransientFailure
from .target import DicomNode

MAX_CONTEXTS = 128  # presentation contexts one association can propose (PS3.8 9.3.2.2)
RELEASE_SECONDS = 5.0  # wait for the release answer (it comes in milliseconds) at most this


def _no_delay(event) -> None:
    """Switch Nagle's algorithm off as the connection opens (pynetdicom 3.0 leaves it on:
    each C-STORE then waits for the peer's delayed acknowledgement)."""
    event.assoc.dul.socket.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _ErrorLines(logging.Handler):
    """pynetdicom's error log lines while one attempt runs: the only place it says why
    a connection failed."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextlib.contextmanager
def _pynetdicom_errors() -> Iterator[_ErrorLines]:
    logger = logging.getLogger("pynetdicom")
    handler = _ErrorLines()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@contextlib.contextmanager
def _files_as_they_are() -> Iterator[None]:
    """pynetdicom's documented switch to send a file's bytes as they are, in PDU-sized chunks:
    no decoding and re-encoding (1.5 ms of each 512 KB file here). It needs an accepted
    context of exactly the file's transfer syntax: the only kind proposed here."""
    from pynetdicom import _config

    before = _config.STORE_SEND_CHUNKED_DATASET
    _config.STORE_SEND_CHUNKED_DATASET = True
    try:
        yield
    finally:
        _config.STORE_SEND_CHUNKED_DATASET = before


def _uid_name(uid: str) -> str:
    from pydicom.uid import UID

    name = UID(uid).name
    return uid if name == uid else f"{name} ({uid})"


def _not_established(assoc, node: DicomNode, errors: list[str]) -> Exception:
    if assoc.is_rejected:
        answer = assoc.acceptor.primitive
        text = f"{node} rejected the association ({answer.result_str}: {answer.reason_str})"
        return TransientFailure(text) if answer.result == 2 else PermanentFailure(text)
    if "No accepted presentation contexts" in errors:
        pairs = "; ".join(
            f"{_uid_name(cx.abstract_syntax)} in {_uid_name(cx.transfer_syntax[0])}"
            for cx in assoc.requestor.requested_contexts
        )
        return PermanentFailure(f"{node} accepts none of the SOP classes sent: {pairs}")
    refused = [e.split(": ", 1)[-1] for e in errors if "TCP Initialisation" in e]
    if refused:
        return TransientFailure(f"cannot connect to {node} ({refused[-1]})")
    return TransientFailure(f"{node} aborted the association while it was negotiated")


def _lost(assoc, node: DicomNode, timeout: float) -> TransientFailure:
    if assoc.is_aborted:
        return TransientFailure(f"{node} aborted the association")
    return TransientFailure(f"{node} did not answer within {timeout:g} s")


def _record(result: FileResult, status, node: DicomNode) -> None:
    from pynetdicom.status import STORAGE_SERVICE_CLASS_STATUS, code_to_category

    code = int(status.Status)
    result.status = f"0x{code:04X}"
    category = code_to_category(code)
    meaning = STORAGE_SERVICE_CLASS_STATUS.get(code, ("", "unknown status"))[1]
    comment = str(status.get("ErrorComment", "")).strip()
    said = f"{node} answered {result.status} ({meaning}{'; ' + comment if comment else ''})"
    if category == "Success":
        result.outcome = STORED
    elif category == "Warning":
        result.outcome, result.reason = WARNING, said
    else:
        result.outcome, result.reason = FAILED, said


def store_files(
    node: DicomNode, results: list[FileResult], *, calling_aet: str, timeout: float
) -> None:
    """Send the files over one association; each result gets the receiver's status.

    Raises TransientFailure when the association cannot be made or is lost (results not yet
    answered stay "not sent"), PermanentFailure when another attempt would fail the same way.
    """
    from pynetdicom import AE, build_context, evt

    pairs = sorted({(r.instance.sop_class_uid, r.instance.transfer_syntax_uid) for r in results})
    if len(pairs) > MAX_CONTEXTS:
        raise PermanentFailure(
            f"the series holds {len(pairs)} pairs of SOP class and transfer syntax; "
            f"one association carries at most {MAX_CONTEXTS}"
        )
    ae = AE(ae_title=calling_aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = ae.connection_timeout = timeout
    ae.requested_contexts = [build_context(sop, [syntax]) for sop, syntax in pairs]
    with _pynetdicom_errors() as errors, _files_as_they_are():
        assoc = ae.associate(
            node.host, node.port, ae_title=node.aet, evt_handlers=[(evt.EVT_CONN_OPEN, _no_delay)]
        )
        if not assoc.is_established:
            raise _not_established(assoc, node, errors.lines)
        try:
            _store_over(assoc, node, results, timeout)
        finally:
            release(assoc)


def release(assoc) -> None:
    """Release an association still established. Every answer is in by then, so a lost
    release answer costs at most RELEASE_SECONDS (pynetdicom would wait its ACSE time-out)."""
    if assoc.is_established:
        assoc.acse_timeout = min(assoc.acse_timeout or RELEASE_SECONDS, RELEASE_SECONDS)
        assoc.release()


def _store_over(assoc, node: DicomNode, results: list[FileResult], timeout: float) -> None:
    accepted = {(cx.abstract_syntax, cx.transfer_syntax[0]) for cx in assoc.accepted_contexts}
    for result in results:
        instance = result.instance
        if (instance.sop_class_uid, instance.transfer_syntax_uid) not in accepted:
            result.outcome = FAILED
            result.reason = (
                f"{node} refused {_uid_name(instance.sop_class_uid)} "
                f"in {_uid_name(instance.transfer_syntax_uid)}"
            )
            continue
        if not assoc.is_established:
            raise _lost(assoc, node, timeout)
        status = assoc.send_c_store(instance.path)
        if "Status" not in status:  # no response: aborted, or timed out (pynetdicom aborts)
            raise _lost(assoc, node, timeout)
        _record(result, status, node)
