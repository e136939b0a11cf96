"""``send_series``: series folders to a DICOM node or a DICOMweb service, verified if asked."""

from __future__ import annotations

import math
import time
from functools import partial
from pathlib import Path

from ..errors import VinciError
from .cstore import store_files
from .report import SendReport, SeriesReport
from .retry import deliver
from .series import collect_series
from .stow import stow_files
from .target import DicomNode, DicomWebService, check_aet, parse_target
from .verify import cfind_receiver, check_stored, qido_receiver

CALLING_AET = "NIPYPE_VINCI"
RETRIES = 3  # after the first attempt: waits of 0.5, 1 and 2 s
TIMEOUT = 30.0  # seconds to connect, or to wait for one answer
ASSOCIATIONS = 2  # C-STORE associations a series goes over at once (a receiver may refuse more)
MAX_ASSOCIATIONS = 16


def send_series(
    folders: list[str | Path],
    target: str | DicomNode | DicomWebService,
    *,
    calling_aet: str = CALLING_AET,
    verify: bool = False,
    retries: int = RETRIES,
    timeout: float = TIMEOUT,
    associations: int = ASSOCIATIONS,
) -> SendReport:
    """Send every series in ``folders`` (series folders or DICOM files) to ``target``.

    ``target`` is ``AET@HOST:PORT`` (C-STORE; a series goes over up to ``associations``
    associations at once), a DICOMweb URL (STOW-RS) or a parsed target. A user mistake (bad
    target, unreadable file) raises a VinciError before anything is sent; what the receiver
    did is in the report, whose ``ok`` is False when a file failed or was not found by
    verification.
    """
    if isinstance(target, str):
        target = parse_target(target)
    check_aet(calling_aet, "calling AE title")
    if retries < 0:
        raise VinciError(f"retries {retries}: give 0 or more")
    if not 1 <= associations <= MAX_ASSOCIATIONS:
        raise VinciError(f"associations {associations}: give 1 to {MAX_ASSOCIATIONS}")
    if not (timeout > 0 and math.isfinite(timeout)):
        raise VinciError(f"timeout {timeout}: give a number of seconds above 0")
    started = time.perf_counter()
    series = collect_series(folders)
    if isinstance(target, DicomNode):
        protocol = "C-STORE"
        attempt = partial(
            store_files,
            target,
            calling_aet=calling_aet,
            timeout=timeout,
            associations=associations,
        )
        receiver = partial(cfind_receiver, target, calling_aet=calling_aet, timeout=timeout)
    else:
        protocol = "STOW-RS"
        attempt = partial(stow_files, target, timeout=timeout)
        receiver = partial(qido_receiver, target, timeout=timeout)
    report = SendReport(str(target), protocol)
    asked = receiver() if verify else None
    for one in series:
        series_report = SeriesReport.of(one)
        report.series.append(series_report)
        deliver(series_report, attempt, retries)
        if asked is not None:
            check_stored(series_report, asked)
    report.seconds = time.perf_counter() - started
    return report
