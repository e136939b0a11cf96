"""What a send did: for every file, what the receiver acknowledged (or why it was not sent)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .series import Instance, Series

STORED = "stored"  # the receiver acknowledged success
WARNING = "stored with warning"  # acknowledged, with a warning status
FAILED = "failed"  # the receiver answered a failure status, or refused the context
NOT_SENT = "not sent"  # no attempt reached the receiver with this file
MISSING = "missing"  # acknowledged, but the receiver's query does not find it
ACKNOWLEDGED = (STORED, WARNING)
LISTED_PER_FILE = 5  # a group of failed files longer than this is summed up in one line


@dataclass
class FileResult:
    """One file: its outcome, the receiver's status (``0x0000``, ``referenced``, ...), why."""

    instance: Instance
    outcome: str = NOT_SENT
    status: str = ""
    reason: str = ""
    unanswered: bool = False  # sent whole, its answer lost (with the association)
    sent_as: str = ""  # the transfer syntax it went in when converted; empty: as on disk

    def as_dict(self) -> dict:
        return {
            "path": str(self.instance.path),
            "sop_instance_uid": self.instance.sop_instance_uid,
            "outcome": self.outcome,
            "status": self.status,
            "reason": self.reason,
            "sent_as": self.sent_as,
        }


@dataclass
class SeriesReport:
    """One series: its files, the attempts it took and what verification found."""

    series: Series
    files: list[FileResult]
    attempts: int = 0
    verified: bool | None = None  # None: not asked
    receiver_count: int | None = None  # instances of the series the receiver holds
    verify_error: str = ""  # why the receiver could not be asked

    @classmethod
    def of(cls, series: Series) -> SeriesReport:
        return cls(series, [FileResult(instance) for instance in series.instances])

    def pending(self) -> list[FileResult]:
        return [f for f in self.files if f.outcome == NOT_SENT]

    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.outcome not in ACKNOWLEDGED]

    def as_dict(self) -> dict:
        return {
            "series_instance_uid": self.series.series_instance_uid,
            "study_instance_uid": self.series.study_instance_uid,
            "folder": str(self.series.folder),
            "files": len(self.files),
            "acknowledged": sum(f.outcome in ACKNOWLEDGED for f in self.files),
            "attempts": self.attempts,
            "verified": self.verified,
            "receiver_count": self.receiver_count,
            "verify_error": self.verify_error,
            "results": [f.as_dict() for f in self.files],
        }


@dataclass
class SendReport:
    """A whole send: the target, the protocol and every series' report."""

    target: str
    protocol: str  # "C-STORE" or "STOW-RS"
    series: list[SeriesReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[FileResult]:
        return [f for s in self.series for f in s.failed()]

    @property
    def ok(self) -> bool:
        return not self.failed and all(s.verified is not False for s in self.series)

    def as_dict(self) -> dict:
        return {
            "target": self.target,
            "protocol": self.protocol,
            "ok": self.ok,
            "files": sum(len(s.files) for s in self.series),
            "failed": [str(f.instance.path) for f in self.failed],
            "seconds": round(self.seconds, 3),
            "series": [s.as_dict() for s in self.series],
        }

    def summary(self) -> str:
        files = sum(len(s.files) for s in self.series)
        verified = " (verified)" if all(s.verified for s in self.series) else ""
        return (
            f"{files - len(self.failed)} of {files} files in {len(self.series)} series stored "
            f"on {self.target} by {self.protocol}{verified}, {self.seconds:.2f} s"
        )

    def problems(self) -> list[str]:
        """One line per failed file, or per group of files that failed for one reason."""
        lines = []
        for report in self.series:
            if report.verify_error:
                lines.append(f"{report.series.folder}: {report.verify_error}")
            groups: dict[str, list[FileResult]] = {}
            for result in report.failed():
                groups.setdefault(result.reason, []).append(result)
            for reason, results in groups.items():
                if len(results) <= LISTED_PER_FILE:
                    lines += [f"{r.instance.path}: {reason}" for r in results]
                else:
                    lines.append(
                        f"{report.series.folder}: {len(results)} of {len(report.files)} files "
                        f"({results[0].instance.path.name} ... {results[-1].instance.path.name}): "
                        f"{reason} (the report lists each file)"
                    )
        return lines
