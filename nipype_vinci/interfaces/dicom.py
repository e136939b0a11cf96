"""Nipype nodes: SelectTemplate, MakeTemplate, SaveDicom and SinkDicom.

Each node checks its inputs with traits, calls one library function and lists every file it
writes, all under its own working directory (SinkDicom, the sink, excepted).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import datetime
from pathlib import Path

from nipype.interfaces.base import (
    BaseInterfaceInputSpec,
    Directory,
    File,
    InputMultiObject,
    OutputMultiObject,
    SimpleInterface,
    Str,
    TraitedSpec,
    isdefined,
    traits,
)

from ..dicomio import read_dicom
from ..errors import VinciError
from ..export.metadata import CHECKS, FIELD_HELP, metadata_from
from ..export.output import copy_series, same_series
from ..export.save import SCALING_MODES, SaveOptions, save_series
from ..template import dump_template, parse_template, read_template
from ..template.library import find_template, read_info, select_template
from ..template.make import make_template

SELECTORS = ["template_name", "modality", "reference_dicom", "template_file"]


def _defined(value, default=None):
    return value if isdefined(value) else default


def _failure(interface: str, error: VinciError) -> ValueError:
    """A Nipype-facing error: the node's name, then each problem (naming the trait)."""
    return ValueError(f"{interface}: " + "; ".join(error.problems))


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


class SelectTemplate(SimpleInterface):
    """Choose a template by name, by modality/manufacturer/model, from a reference DICOM
    file, or pass a template file through after checking it."""

    input_spec = _SelectTemplateInputSpec
    output_spec = _SelectTemplateOutputSpec

    def _run_interface(self, runtime):
        inputs, dirs = self.inputs, _defined(self.inputs.template_dirs, [])
        try:
            if isdefined(inputs.template_name):
                path = find_template(inputs.template_name, dirs)
            elif isdefined(inputs.modality):
                path = Path(
                    select_template(
                        inputs.modality,
                        _defined(inputs.manufacturer, ""),
                        _defined(inputs.model, ""),
                        dirs,
                    ).path
                )
            elif isdefined(inputs.reference_dicom):
                path = self._from_reference(Path(runtime.cwd), dirs)
            elif isdefined(inputs.template_file):
                path = Path(inputs.template_file)
            else:
                raise VinciError(f"give one of the inputs {', '.join(SELECTORS)}")
            read_template(path)  # every template leaves the node checked
        except VinciError as error:
            raise _failure("SelectTemplate", error) from None
        info = read_info(path)
        self._results.update(
            template_file=str(path),
            template_name=info.name,
            modality=info.modality,
            manufacturer=info.manufacturer,
            model=info.model,
        )
        return runtime

    def _from_reference(self, cwd: Path, dirs: list[str]) -> Path:
        scan = read_dicom(self.inputs.reference_dicom)
        try:
            return Path(
                select_template(
                    str(scan.get("Modality", "")),
                    str(scan.get("Manufacturer", "")),
                    str(scan.get("ManufacturerModelName", "")),
                    dirs,
                ).path
            )
        except VinciError:
            out = cwd / "reference_template.dump"
            out.write_bytes(
                dump_template(
                    make_template(
                        scan, "reference-template", source=Path(self.inputs.reference_dicom).name
                    )
                )
            )
            return out


class _MakeTemplateInputSpec(BaseInterfaceInputSpec):
    in_file = File(exists=True, mandatory=True, desc="a DICOM file of the scanner")
    template_name = Str("template", usedefault=True, desc="name of the new template")
    keep_private = traits.Bool(False, usedefault=True, desc="keep private tags")
    source = Str("", usedefault=True, desc="where the scan came from (metadata line)")
    licence = Str("", usedefault=True, desc="the scan's licence (metadata line)")


class _MakeTemplateOutputSpec(TraitedSpec):
    out_file = File(exists=True, desc="the de-identified template")


class MakeTemplate(SimpleInterface):
    """``nipype-vinci make-template`` as a node."""

    input_spec = _MakeTemplateInputSpec
    output_spec = _MakeTemplateOutputSpec

    def _run_interface(self, runtime):
        inputs = self.inputs
        template = make_template(
            read_dicom(inputs.in_file),
            inputs.template_name,
            keep_private=inputs.keep_private,
            source=inputs.source or Path(inputs.in_file).name,
            licence=inputs.licence,
        )
        text = dump_template(template)
        parse_template(text, inputs.template_name)
        out = Path(runtime.cwd) / f"{inputs.template_name}.dump"
        out.write_bytes(text)
        self._results["out_file"] = str(out)
        return runtime


_FLOATS = {"patient_weight", "half_life", "positron_fraction"}
_LISTS = {"frame_times", "frame_durations", "decay_factors"}


def _metadata_trait(name: str):
    desc = name.replace("_", " ") + (f" ({FIELD_HELP[name]})" if name in FIELD_HELP else "")
    if name in _FLOATS:
        return traits.Float(desc=desc)
    if name in _LISTS:
        return traits.List(traits.Float(), desc=desc)
    if name == "series_number":
        return traits.Int(desc=desc)
    return Str(desc=desc)


class _SaveDicomInputSpec(BaseInterfaceInputSpec):
    in_file = File(exists=True, mandatory=True, desc="a 3D or 4D image nibabel reads")
    template_file = File(exists=True, mandatory=True, desc="the template (.dump)")
    metadata_file = File(
        exists=True, desc="keyword values or a BIDS sidecar (JSON); the inputs win"
    )
    scaling = traits.Enum(
        *SCALING_MODES, usedefault=True, desc="one slope for the series or one per slice"
    )
    nan_value = traits.Float(desc="store NaN and infinite voxels as this value")
    uid_seed = Str(
        desc="seed of the UIDs; default: derived from the inputs (reruns give identical files)"
    )
    series_index = traits.Int(
        0, usedefault=True, desc="index of this image in a multi-image export"
    )


for _name in CHECKS:
    _SaveDicomInputSpec.add_class_trait(_name, _metadata_trait(_name))


class _SaveDicomOutputSpec(TraitedSpec):
    dicom_dir = Directory(exists=True, desc="the series folder")
    dicom_files = OutputMultiObject(File(exists=True), desc="all files, in instance order")
    series_instance_uid = Str(desc="SeriesInstanceUID")
    study_instance_uid = Str(desc="StudyInstanceUID")
    report_file = File(exists=True, desc="the JSON report")


def default_seed(in_file: str, template_file: str, series_index: int) -> str:
    """A UID seed derived from the inputs' contents, so reruns give the same UIDs."""
    digest = hashlib.sha256()
    for path in (in_file, template_file):
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    digest.update(str(series_index).encode())
    return digest.hexdigest()


class SaveDicom(SimpleInterface):
    """Write an image as a DICOM series from a template, in the node's working directory."""

    input_spec = _SaveDicomInputSpec
    output_spec = _SaveDicomOutputSpec

    def _run_interface(self, runtime):
        inputs = self.inputs
        options = {name: _defined(getattr(inputs, name)) for name in CHECKS}
        seed = _defined(inputs.uid_seed) or default_seed(
            inputs.in_file, inputs.template_file, inputs.series_index
        )
        out = Path(runtime.cwd) / "dicom"
        try:
            metadata = metadata_from(options, _defined(inputs.metadata_file), where="input")
            report = save_series(
                inputs.in_file,
                out,
                read_template(inputs.template_file),
                metadata,
                SaveOptions(
                    scaling=inputs.scaling,
                    nan_value=_defined(inputs.nan_value),
                    uid_seed=seed,
                    series_index=inputs.series_index,
                    overwrite=True,
                    clock=datetime.fromtimestamp(Path(inputs.in_file).stat().st_mtime),
                ),
            )
        except VinciError as error:
            raise _failure("SaveDicom", error) from None
        report_file = Path(runtime.cwd) / "report.json"
        report.seconds = 0.0  # keep the report reproducible
        report_file.write_text(json.dumps(report.as_dict(), indent=2))
        self._results.update(
            dicom_dir=str(out),
            dicom_files=[str(out / name) for name in report.files],
            series_instance_uid=report.series_instance_uid,
            study_instance_uid=report.study_instance_uid,
            report_file=str(report_file),
        )
        return runtime


class _SinkDicomInputSpec(BaseInterfaceInputSpec):
    dicom_dir = Directory(exists=True, mandatory=True, desc="a finished series folder")
    base_directory = Directory(mandatory=True, desc="where the series goes")
    out_name = Str(mandatory=True, desc="relative path of the series folder under base_directory")
    report_file = File(exists=True, desc="a report copied beside the folder as <out_name>.json")
    overwrite = traits.Bool(False, usedefault=True, desc="replace an existing folder")


class _SinkDicomOutputSpec(TraitedSpec):
    out_dir = Directory(exists=True, desc="the copied series")


class SinkDicom(SimpleInterface):
    """Copy a finished series to its destination atomically; never overwrites unless asked."""

    input_spec = _SinkDicomInputSpec
    output_spec = _SinkDicomOutputSpec
    _always_run = True

    def _run_interface(self, runtime):
        inputs = self.inputs
        relative = Path(inputs.out_name)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ValueError(
                f"SinkDicom: input out_name {inputs.out_name!r} must be a "
                "relative path inside base_directory"
            )
        target = Path(inputs.base_directory) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if not same_series(inputs.dicom_dir, target):  # a rerun finds its own copy
                copy_series(inputs.dicom_dir, target, inputs.overwrite)
            if isdefined(inputs.report_file):
                shutil.copyfile(inputs.report_file, target.parent / f"{target.name}.json")
        except VinciError as error:
            raise _failure("SinkDicom", error) from None
        self._results["out_dir"] = str(target)
        return runtime
