"""Nipype nodes of the other output kinds: SaveSeg (DICOM Segmentation) and SaveOverlay
(RGB fused overlay). Each calls one library function and writes under its working folder;
UIDs are derived from the inputs' contents unless a seed is given (reruns give the same)."""

from __future__ import annotations

import json
from pathlib import Path

from nipype.interfaces.base import (
    BaseInterfaceInputSpec,
    Directory,
    File,
    OutputMultiObject,
    Str,
    TraitedSpec,
    traits,
)

from ..export.colormaps import COLORMAPS
from ..export.overlay import OverlayOptions, save_overlay
from ..export.seg import SegOptions, save_seg
from ..fields import KIND_FIELDS
from .base import LibraryInterface, defined
from .dicom import field_trait


def _write_report(report, cwd: str) -> str:
    report.seconds = 0.0  # keep the report reproducible
    path = Path(cwd) / "report.json"
    path.write_text(json.dumps(report.as_dict(), indent=2))
    return str(path)


def _series_fields(inputs) -> dict:
    """The series' identity as given (unset: None, the library's default), UIDs derived from
    the inputs' contents when no seed is given, and dates from the input's time stamp
    (reruns give identical files)."""
    given = {f.name: defined(getattr(inputs, f.name)) for f in KIND_FIELDS}
    return {**given, "reproducible": True}


class _SaveSegInputSpec(BaseInterfaceInputSpec):
    in_file = File(exists=True, mandatory=True, desc="a 3D label map on the reference's grid")
    reference_dir = Directory(
        exists=True, mandatory=True, desc="the DICOM series the labels were drawn on"
    )
    labels_file = File(
        exists=True, mandatory=True, desc="a BIDS dseg.tsv, a FreeSurfer colour table or a JSON"
    )


for _field in KIND_FIELDS:  # uid_seed, series_number, series_description, transfer_syntax
    _SaveSegInputSpec.add_class_trait(_field.name, field_trait(_field))


class _SaveSegOutputSpec(TraitedSpec):
    dicom_dir = Directory(exists=True, desc="the folder holding the Segmentation")
    seg_file = File(exists=True, desc="the Segmentation instance")
    series_instance_uid = Str(desc="SeriesInstanceUID")
    report_file = File(exists=True, desc="the JSON report")


class SaveSeg(LibraryInterface):
    """Write a label map as a DICOM Segmentation of a reference series."""

    input_spec = _SaveSegInputSpec
    output_spec = _SaveSegOutputSpec

    def _run(self, runtime) -> dict:
        inputs = self.inputs
        out = Path(runtime.cwd) / "seg"
        report = save_seg(
            inputs.in_file,
            out,
            inputs.reference_dir,
            inputs.labels_file,
            SegOptions(
                **_series_fields(inputs),
                overwrite=True,
            ),
        )
        return dict(
            dicom_dir=str(out),
            seg_file=str(out / report.files[0]),
            series_instance_uid=report.series_instance_uid,
            report_file=_write_report(report, runtime.cwd),
        )


class _SaveOverlayInputSpec(BaseInterfaceInputSpec):
    base_file = File(exists=True, mandatory=True, desc="the grey base (CT, MR), 3D")
    in_file = File(exists=True, mandatory=True, desc="the coloured image (PET, a map), 3D")
    colormap = traits.Enum(*COLORMAPS, usedefault=True, desc="the colour map")
    alpha = traits.Range(0.0, 1.0, 0.5, usedefault=True, desc="opacity of the colour")
    base_window = traits.Tuple(
        traits.Float, traits.Float, desc="window centre and width of the base"
    )
    value_range = traits.Tuple(
        traits.Float, traits.Float, desc="image values at the colour map's ends (low, high)"
    )
    reference_dir = Directory(exists=True, desc="a DICOM series whose patient and study to join")


for _field in KIND_FIELDS:
    _SaveOverlayInputSpec.add_class_trait(_field.name, field_trait(_field))


class _SaveOverlayOutputSpec(TraitedSpec):
    dicom_dir = Directory(exists=True, desc="the series folder")
    dicom_files = OutputMultiObject(File(exists=True), desc="all files, in instance order")
    series_instance_uid = Str(desc="SeriesInstanceUID")
    report_file = File(exists=True, desc="the JSON report")


class SaveOverlay(LibraryInterface):
    """Write an image fused in colour over a base as an RGB Secondary Capture series."""

    input_spec = _SaveOverlayInputSpec
    output_spec = _SaveOverlayOutputSpec

    def _run(self, runtime) -> dict:
        inputs = self.inputs
        out = Path(runtime.cwd) / "dicom"
        report = save_overlay(
            inputs.base_file,
            inputs.in_file,
            out,
            OverlayOptions(
                colormap=inputs.colormap,
                alpha=inputs.alpha,
                base_window=defined(inputs.base_window),
                value_range=defined(inputs.value_range),
                reference=defined(inputs.reference_dir),
                **_series_fields(inputs),
                overwrite=True,
            ),
        )
        return dict(
            dicom_dir=str(out),
            dicom_files=[str(out / name) for name in report.files],
            series_instance_uid=report.series_instance_uid,
            report_file=_write_report(report, runtime.cwd),
        )
