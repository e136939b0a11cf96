"""Attempts and back-off: a transient failure is tried again for the files still not sent."""

from __future__ import annotations

import time
from collections.abc import Callable

from .report import FAILED, FileResult, SeriesReport

FIRST_DELAY = 0.5  # seconds before the first retry; doubled before each next one


class TransientFailure(Exception):
    """A failure worth another attempt: connection refused, rejected transiently, aborted,
    timed out. Files acknowledged before it keep their outcome."""


class PermanentFailure(Exception):
    """A failure that another attempt would repeat (e.g. rejected permanently)."""


def backoff(retry: int) -> float:
    """Seconds to wait before retry number ``retry`` (1, 2, ...)."""
    return FIRST_DELAY * 2 ** (retry - 1)


def deliver(
    report: SeriesReport,
    attempt: Callable[[list[FileResult]], None],
    retries: int,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Call ``attempt`` with the files not yet sent until none is left, a permanent failure,
    or ``retries`` retries; the files left say why."""
    reason = ""
    for retry in range(retries + 1):
        pending = report.pending()
        if not pending:
            return
        if retry:
            sleep(backoff(retry))
        report.attempts += 1
        try:
            attempt(pending)
        except TransientFailure as exc:
            reason = str(exc)
        except PermanentFailure as exc:
            for result in report.pending():
                result.outcome, result.reason = FAILED, str(exc)
            return
    tries = f"{report.attempts} attempt" + ("s" if report.attempts > 1 else "")
    for result in report.pending():
        result.reason = f"not sent: {reason} ({tries})"
