"""DICOMweb STOW-RS through dicomweb-client: the series' files in a few requests, each file's
outcome taken from the response's Referenced and Failed SOP sequences."""

from __future__ import annotations

from .report import FAILED, STORED, WARNING, FileResult
from .retry import PermanentFailure, TransientFailure
from .target import DicomWebService

BATCH_BYTES = 64 << 20  # files per STOW-RS request: up to this many bytes (at least one file)
TRANSIENT_HTTP = {408, 429, 500, 502, 503, 504}


def web_client(service: DicomWebService, timeout: float):
    """A dicomweb-client for the service (basic auth when a user is given), retrying nothing
    itself: the caller's back-off decides."""
    from dicomweb_client import DICOMwebClient
    from dicomweb_client.session_utils import create_session_from_user_pass

    session = None
    if service.user is not None:
        session = create_session_from_user_pass(service.user, service.password or "")
    client = DICOMwebClient(service.url, session=session, timeout=timeout)
    client.set_http_retry_params(retry=False)
    return client


def http_failure(service: DicomWebService, exc: Exception) -> Exception:
    """A requests error as a transient or a permanent failure, in one line."""
    import requests

    response = getattr(exc, "response", None)
    if response is None:
        kind = "timed out" if isinstance(exc, requests.Timeout) else "cannot connect"
        return TransientFailure(f"{service}: {kind} ({type(exc).__name__})")
    text = f"{service} answered HTTP {response.status_code} {response.reason}"
    if response.status_code in (401, 403):
        return PermanentFailure(f"{text}: check the user and password")
    if response.status_code in TRANSIENT_HTTP:
        return TransientFailure(text)
    return PermanentFailure(text)


def _batches(results: list[FileResult]):
    batch, size = [], 0
    for result in results:
        length = result.instance.path.stat().st_size
        if batch and size + length > BATCH_BYTES:
            yield batch
            batch, size = [], 0
        batch.append(result)
        size += length
    if batch:
        yield batch


def _answer(exc: Exception):
    """The STOW-RS response body of a refused request (409: every instance failed)."""
    from pydicom import Dataset

    response = exc.response
    if response.status_code == 409 and "json" in response.headers.get("Content-Type", ""):
        return Dataset.from_json(response.json())
    return None


def _record(service: DicomWebService, batch: list[FileResult], answer) -> None:
    by_uid = {r.instance.sop_instance_uid: r for r in batch}
    for item in answer.get("ReferencedSOPSequence", []):
        result = by_uid.pop(str(item.ReferencedSOPInstanceUID), None)
        if result is None:
            continue
        warning = item.get("WarningReason")
        result.outcome = WARNING if warning is not None else STORED
        result.status = "referenced" if warning is None else f"warning 0x{int(warning):04X}"
        if warning is not None:
            result.reason = f"{service} stored it with warning 0x{int(warning):04X}"
    for item in answer.get("FailedSOPSequence", []):
        result = by_uid.pop(str(item.ReferencedSOPInstanceUID), None)
        if result is None:
            continue
        code = int(item.get("FailureReason", 0x0110))
        result.outcome, result.status = FAILED, f"failed 0x{code:04X}"
        result.reason = f"{service} refused it (failure reason 0x{code:04X})"
    for result in by_uid.values():
        result.outcome = FAILED
        result.reason = f"{service} did not list it in the STOW-RS response"


def stow_files(service: DicomWebService, results: list[FileResult], *, timeout: float) -> None:
    """POST the files to URL/studies; each result gets what the response says of it.

    Raises TransientFailure for a lost connection, a time-out or a 5xx/408/429 answer (the
    batches answered before keep their outcomes), PermanentFailure for other refusals.
    """
    import pydicom
    import requests

    client = web_client(service, timeout)
    for batch in _batches(results):
        datasets = [pydicom.dcmread(r.instance.path) for r in batch]
        try:
            answer = client.store_instances(datasets)
        except requests.HTTPError as exc:
            answer = _answer(exc)
            if answer is None:
                raise http_failure(service, exc) from None
        except requests.RequestException as exc:
            raise http_failure(service, exc) from None
        _record(service, batch, answer)
