"""Nipype nodes: SelectTemplate, MakeTemplate, SaveDicom and SinkDicom.

Each node checks its inputs with traits, calls one library function and lists every file it
writes, all under its own working directory (SinkDicom, the sink, excepted).
"""

from __future__ import annotations

import json
from pathlib import Path

from nipype.interfaces.base import (
    BaseInterfaceInputSpec,
    Directory,
    File,
    InputMultiObject,
    OutputMultiObject,
    Str,
    TraitedSpec,
    isdefined,
    traits,
)

from ..errors import VinciError
from ..export.metadata import metadata_from
from ..export.output import copy_series, same_series
from ..export.save import SaveOptions, save_series
from ..fields import FIELDS, HEADER_FIELDS, OPTION_FIELDS, Field, clean_options
from ..template import read_template
from ..template.from_scan import make_template_file, template_for_scan
from ..template.library import find_template, read_info, select_template
from .base import LibraryInterface, defined

SELECTORS = ["template_name", "modality", "reference_dicom", "template_file"]


class _SelectTemplateInputSpec(BaseInterfaceInputSpec):
    template_name = Str(
        desc="a template of the library, by name",
        xor=[s for s in SELECTORS if s != "template_name"],
    )
    modality = Str(
        desc="choose by modality (PT, CT, MR), with manufacturer and model",
        xor=[s for s in SELECTORS if s not in ("modality",)],
    )
    manufacturer = Str(
        requires=["modality"], desc="part of the manufacturer's name (with modality)"
    )
    model = Str(requires=["modality"], desc="part of the scanner model's name (with modality)")
    reference_dicom = File(
        exists=True,
        xor=[s for s in SELECTORS if s != "reference_dicom"],
        desc="a DICOM file of the scanner: its bundled template, else one made from it",
    )
    template_file = File(
        exists=True,
        xor=[s for s in SELECTORS if s != "template_file"],
        desc="a template file, checked and passed through",
    )
    template_dirs = InputMultiObject(
        Directory(exists=True), desc="folders searched before the bundled templates"
    )


class _SelectTemplateOutputSpec(TraitedSpec):
    template_file = File(exists=True, desc="the chosen template")
    template_name = Str(desc="its name")
    modality = Str(desc="its modality")
    manufacturer = Str(desc="its manufacturer")
    model = Str(desc="its scanner model")


class SelectTemplate(LibraryInterface):
    """Choose a template by name, by modality/manufacturer/model, from a reference DICOM
    file, or pass a template file through after checking it."""

    input_spec = _SelectTemplateInputSpec
    output_spec = _SelectTemplateOutputSpec

    def _run(self, runtime) -> dict:
        inputs, dirs = self.inputs, defined(self.inputs.template_dirs, [])
        if isdefined(inputs.template_name):
            path = find_template(inputs.template_name, dirs)
        elif isdefined(inputs.modality):
            path = Path(
                select_template(
                    inputs.modality,
                    defined(inputs.manufacturer, ""),
                    defined(inputs.model, ""),
                    dirs,
                ).path
            )
        elif isdefined(inputs.reference_dicom):
            made = Path(runtime.cwd) / "reference_template.dump"
            path = template_for_scan(inputs.reference_dicom, made, dirs)
        elif isdefined(inputs.template_file):
            path = Path(inputs.template_file)
        else:
            raise VinciError(f"give one of the inputs {', '.join(SELECTORS)}")
        read_template(path)  # every template leaves the node checked
        info = read_info(path)
        return dict(
            template_file=str(path),
            template_name=info.name,
            modality=info.modality,
            manufacturer=info.manufacturer,
            model=info.model,
        )


class _MakeTemplateInputSpec(BaseInterfaceInputSpec):
    in_file = File(exists=True, mandatory=True, desc="a DICOM file of the scanner")
    template_name = Str("template", usedefault=True, desc="name of the new template")
    keep_private = traits.Bool(False, usedefault=True, desc="keep private tags")
    source = Str("", usedefault=True, desc="where the scan came from (metadata line)")
    licence = Str("", usedefault=True, desc="the scan's licence (metadata line)")


class _MakeTemplateOutputSpec(TraitedSpec):
    out_file = File(exists=True, desc="the de-identified template")


class MakeTemplate(LibraryInterface):
    """``nipype-vinci make-template`` as a node."""

    input_spec = _MakeTemplateInputSpec
    output_spec = _MakeTemplateOutputSpec

    def _run(self, runtime) -> dict:
        inputs = self.inputs
        out = Path(runtime.cwd) / f"{inputs.template_name}.dump"
        make_template_file(
            inputs.in_file,
            out,
            name=inputs.template_name,
            keep_private=inputs.keep_private,
            source=inputs.source,
            licence=inputs.licence,
            overwrite=True,  # the node's own folder
        )
        return {"out_file": str(out)}


_TRAITS = {"text": Str, "float": traits.Float, "int": traits.Int, "bool": traits.Bool}


def field_trait(field: Field):
    """The Nipype trait of a registry field."""
    name = field.name.replace("_", " ")
    desc = name if field.help == name else f"{name} ({field.help})"
    if field.choices:
        return traits.Enum(*field.choices, desc=desc)
    if field.kind == "floats":
        return traits.List(traits.Float(), desc=desc)
    if field.default is not None:
        return _TRAITS[field.kind](field.default, usedefault=True, desc=desc)
    return _TRAITS[field.kind](desc=desc)


class _SaveDicomInputSpec(BaseInterfaceInputSpec):
    in_file = File(exists=True, mandatory=True, desc="a 3D or 4D image nibabel reads")
    template_file = File(exists=True, mandatory=True, desc="the template (.dump)")
    metadata_file = File(
        exists=True, desc="keyword values or a BIDS sidecar (JSON); the inputs win"
    )
    not_written = traits.List(
        Str(), desc="metadata keys the caller read that nothing writes (listed in the report)"
    )


for _field in FIELDS:
    _SaveDicomInputSpec.add_class_trait(_field.name, field_trait(_field))


class _SaveDicomOutputSpec(TraitedSpec):
    dicom_dir = Directory(exists=True, desc="the series folder")
    dicom_files = OutputMultiObject(File(exists=True), desc="all files, in instance order")
    series_instance_uid = Str(desc="SeriesInstanceUID")
    study_instance_uid = Str(desc="StudyInstanceUID")
    report_file = File(exists=True, desc="the JSON report")


class SaveDicom(LibraryInterface):
    """Write an image as a DICOM series from a template, in the node's working directory."""

    input_spec = _SaveDicomInputSpec
    output_spec = _SaveDicomOutputSpec

    def _run(self, runtime) -> dict:
        inputs = self.inputs
        values = {f.name: defined(getattr(inputs, f.name)) for f in HEADER_FIELDS}
        chosen = {f.name: defined(getattr(inputs, f.name)) for f in OPTION_FIELDS}
        out = Path(runtime.cwd) / "dicom"
        metadata, not_written = metadata_from(values, defined(inputs.metadata_file))
        options = SaveOptions(
            **clean_options(chosen),
            reproducible=True,  # reruns give identical files: UIDs from the inputs
            overwrite=True,  # the node's own folder
            not_written=(*defined(inputs.not_written, []), *not_written),
        )
        report = save_series(
            inputs.in_file, out, read_template(inputs.template_file), metadata, options
        )
        report_file = Path(runtime.cwd) / "report.json"
        report.seconds = 0.0  # keep the report reproducible
        report_file.write_text(json.dumps(report.as_dict(), indent=2))
        return dict(
            dicom_dir=str(out),
            dicom_files=[str(out / name) for name in report.files],
            series_instance_uid=report.series_instance_uid,
            study_instance_uid=report.study_instance_uid,
            report_file=str(report_file),
        )


class _SinkDicomInputSpec(BaseInterfaceInputSpec):
    dicom_dir = Directory(exists=True, mandatory=True, desc="a finished series folder")
    base_directory = Directory(mandatory=True, desc="where the series goes")
    out_name = Str(mandatory=True, desc="relative path of the series folder under base_directory")
    report_file = File(exists=True, desc="a report copied beside the folder as <out_name>.json")
    overwrite = traits.Bool(False, usedefault=True, desc="replace an existing folder")


class _SinkDicomOutputSpec(TraitedSpec):
    out_dir = Directory(exists=True, desc="the copied series")


class SinkDicom(LibraryInterface):
    """Copy a finished series to its destination atomically; never overwrites unless asked."""

    input_spec = _SinkDicomInputSpec
    output_spec = _SinkDicomOutputSpec
    _always_run = True

    def _run(self, runtime) -> dict:
        inputs = self.inputs
        relative = Path(inputs.out_name)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ValueError(
                f"SinkDicom: input out_name {inputs.out_name!r} must be a "
                "relative path inside base_directory"
            )
        target = Path(inputs.base_directory) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not same_series(inputs.dicom_dir, target):  # a rerun finds its own copy
            copy_series(inputs.dicom_dir, target, inputs.overwrite)
        if isdefined(inputs.report_file):
            report = json.loads(Path(inputs.report_file).read_text())
            report["output"] = str(target)  # the final series folder, not the node's
            (target.parent / f"{target.name}.json").write_text(json.dumps(report, indent=2))
        return {"out_dir": str(target)}
