"""The delivery library without a receiver: targets, the retry loop, the report's lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from nipype_vinci.deliver.report import FAILED, STORED, SendReport, SeriesReport
from nipype_vinci.deliver.retry import PermanentFailure, TransientFailure, backoff, deliver
from nipype_vinci.deliver.series import Instance, Series
from nipype_vinci.deliver.target import DicomNode, DicomWebService, parse_target
from nipype_vinci.errors import VinciError


@pytest.mark.parametrize(
    "text, target",
    [
        ("ORTHANC@pacs.example.org:4242", DicomNode("ORTHANC", "pacs.example.org", 4242)),
        ("A@B@10.0.0.7:104", DicomNode("A@B", "10.0.0.7", 104)),
        ("STORE@[::1]:11112", DicomNode("STORE", "::1", 11112)),
        ("https://pacs/dicom-web/", DicomWebService("https://pacs/dicom-web")),
    ],
)
def test_targets(text: str, target) -> None:
    assert parse_target(text) == target


def test_a_password_stays_out_of_the_representation() -> None:
    service = parse_target("http://pacs:8042/dicom-web", user="ci", password="secret")
    assert service.password == "secret" and "secret" not in repr(service)


def series(count: int) -> SeriesReport:
    instances = [
        Instance(Path(f"/s/IM_{i:05d}.dcm"), "1.2.840.10008.5.1.4.1.1.2", f"1.2.{i}", "1.2.840")
        for i in range(1, count + 1)
    ]
    return SeriesReport.of(Series("1.2.3", "1.2", instances))


def test_transient_failures_are_retried_for_the_files_left() -> None:
    report, seen, waits = series(4), [], []

    def attempt(pending) -> None:
        seen.append([r.instance.path.name for r in pending])
        for result in pending[: 1 if len(seen) < 3 else None]:
            result.outcome = STORED
        if len(seen) < 3:
            raise TransientFailure("aborted")

    deliver(report, attempt, retries=5, sleep=waits.append)
    assert seen == [[f"IM_{i:05d}.dcm" for i in range(first, 5)] for first in (1, 2, 3)]
    assert waits == [backoff(1), backoff(2)] == [0.5, 1.0]
    assert report.attempts == 3 and not report.failed()


def test_retries_run_out_and_the_reason_stays() -> None:
    report = series(2)

    def attempt(pending) -> None:
        raise TransientFailure("cannot connect to A@h:1 (refused)")

    deliver(report, attempt, retries=2, sleep=lambda s: None)
    assert report.attempts == 3
    assert {r.reason for r in report.files} == {
        "not sent: cannot connect to A@h:1 (refused) (3 attempts)"
    }


def test_a_permanent_failure_is_not_retried() -> None:
    report = series(3)
    calls = []

    def attempt(pending) -> None:
        calls.append(1)
        raise PermanentFailure("rejected (Rejected Permanent: Called AE title not recognised)")

    deliver(report, attempt, retries=3, sleep=lambda s: None)
    assert len(calls) == 1 and {r.outcome for r in report.files} == {FAILED}


def test_problems_list_few_files_one_line_each_and_sum_up_many() -> None:
    few, many = series(3), series(9)
    for result in few.files:
        result.outcome = STORED
    few.files[1].outcome, few.files[1].reason = FAILED, "refused (0xA700)"
    for result in many.files:
        result.reason = "not sent: refused (2 attempts)"
    lines = SendReport("A@h:1", "C-STORE", [few, many]).problems()
    assert lines == [
        "/s/IM_00002.dcm: refused (0xA700)",
        "/s: 9 of 9 files (IM_00001.dcm ... IM_00009.dcm): not sent: refused (2 attempts) "
        "(the report lists each file)",
    ]


def test_retries_must_not_be_negative(tmp_path: Path) -> None:
    from nipype_vinci.deliver import send_series

    with pytest.raises(VinciError, match="retries -1: give 0 or more"):
        send_series([tmp_path], "A@h:104", retries=-1)
