"""Nipype node SendDicom: series folders to a PACS (C-STORE or STOW-RS), the report out."""

from __future__ import annotations

import json
from pathlib import Path

from nipype.interfaces.base import (
    BaseInterfaceInputSpec,
    Directory,
    File,
    InputMultiObject,
    Str,
    TraitedSpec,
    traits,
)

from ..deliver import send_series
from ..deliver.send import ASSOCIATIONS, CALLING_AET, MAX_ASSOCIATIONS, RETRIES, TIMEOUT
from ..deliver.target import parse_target
from ..errors import VinciError
from .base import LibraryInterface, defined


class _SendDicomInputSpec(BaseInterfaceInputSpec):
    dicom_dirs = InputMultiObject(
        Directory(exists=True), mandatory=True, desc="series folders to send"
    )
    target = Str(mandatory=True, desc="AET@HOST:PORT (C-STORE) or a DICOMweb URL (STOW-RS)")
    user = Str(requires=["password"], desc="DICOMweb basic authentication user")
    password = Str(
        requires=["user"],
        desc="DICOMweb basic authentication password (kept in the node's inputs on disk)",
    )
    calling_aet = Str(CALLING_AET, usedefault=True, desc="our AE title (C-STORE, C-FIND)")
    verify = traits.Bool(
        False, usedefault=True, desc="ask the receiver afterwards whether it holds every file"
    )
    retries = traits.Range(
        low=0, value=RETRIES, usedefault=True, desc="retries after a transient failure"
    )
    timeout = traits.Float(
        TIMEOUT, usedefault=True, desc="seconds to connect, or to wait for one answer"
    )
    associations = traits.Range(
        low=1,
        high=MAX_ASSOCIATIONS,
        value=ASSOCIATIONS,
        usedefault=True,
        desc="C-STORE associations at once a series",
    )


class _SendDicomOutputSpec(TraitedSpec):
    report_file = File(exists=True, desc="the JSON report: every file's acknowledged status")
    stored_count = traits.Int(desc="how many files the receiver acknowledged (and holds)")


class SendDicom(LibraryInterface):
    """Send series folders with ``deliver.send_series``; fails, naming the files, unless
    every file was stored (and, with ``verify``, found on the receiver). Always runs: a
    send is an effect outside the node's folder, and sending again is harmless."""

    input_spec = _SendDicomInputSpec
    output_spec = _SendDicomOutputSpec
    _always_run = True

    def _run(self, runtime) -> dict:
        inputs = self.inputs
        report_file = Path(runtime.cwd) / "send_report.json"
        target = parse_target(
            inputs.target,
            user=defined(inputs.user),
            password=defined(inputs.password),
        )
        report = send_series(
            list(inputs.dicom_dirs),
            target,
            calling_aet=inputs.calling_aet,
            verify=inputs.verify,
            retries=inputs.retries,
            timeout=inputs.timeout,
            associations=inputs.associations,
        )
        report_file.write_text(json.dumps(report.as_dict(), indent=2))
        if not report.ok:
            raise VinciError(report.problems())
        return dict(
            report_file=str(report_file),
            stored_count=sum(len(s.files) for s in report.series) - len(report.failed),
        )
