"""The export workflow: three images under Linear and MultiProc, reruns and pickled nodes."""

from __future__ import annotations

import pickle
import subprocess
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from nipype.pipeline import engine as pe
from nipype_vinci.workflows.export import init_dicom_export_wf

from nipype_vinci.interfaces import SaveDicom, SelectTemplate
from nipype_vinci.template.library import BUNDLED

from .conftest import python
from .export_checks import check_series, dciodvfy_errors

IMAGES = {
    "pet": ("ge-discovery-st-pet", np.float32, 5000.0),
    "ct": ("ge-lightspeed16-ct", np.int16, 1.0),
    "mr": ("siemens-avanto-mr", np.float32, 300.0),
}


def _inputs(tmp: Path) -> dict[str, tuple[Path, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(11)
    made = {}
    for key, (_, dtype, scale) in IMAGES.items():
        data = (rng.random((21, 17, 6)) * scale * 3 - scale).astype(dtype)
        affine = np.diag([1.5, 1.7, 2.5, 1.0])
        affine[:3, 3] = (-10, 20, -30)
        path = tmp / f"{key}.nii"
        nib.save(nib.Nifti1Image(data, affine), path)
        made[key] = (path, data, affine)
    return made


def _run(tmp: Path, inputs: dict, plugin: str, seed: str, out: str) -> dict[str, dict]:
    results = {}
    for index, (key, (path, _, _)) in enumerate(inputs.items()):
        wf = init_dicom_export_wf(
            output_dir=str(tmp / out),
            name=f"export_{key}",
            template_query={"template_name": IMAGES[key][0]},
        )
        wf.base_dir = str(tmp / "work")
        wf.config["execution"]["crashdump_dir"] = str(tmp)
        wf.config["execution"]["poll_sleep_duration"] = "0.05"  # as the bids command runs
        wf.inputs.inputnode.in_file = str(path)
        wf.inputs.inputnode.out_name = key
        wf.inputs.inputnode.uid_seed = seed
        wf.inputs.inputnode.series_index = index
        wf.inputs.inputnode.patient_name = "Doe^Jane"
        graph = wf.run(plugin=plugin, plugin_args={"n_procs": 2} if plugin == "MultiProc" else {})
        save = next(n for n in graph.nodes() if n.name == "save_dicom")
        results[key] = save.result.outputs.get()
    return results


@pytest.mark.parametrize("plugin", ["Linear", "MultiProc"])
def test_three_images_export_and_validate(tmp_path: Path, plugin: str) -> None:
    inputs = _inputs(tmp_path)
    first = _run(tmp_path, inputs, plugin, "seed-a", "out")
    for key, (_, data, affine) in inputs.items():
        check_series(tmp_path / "out" / key, data, affine, tmp_path / f"n-{key}")
    series = {r["series_instance_uid"] for r in first.values()}
    assert len(series) == 3
    again = _run(tmp_path, inputs, plugin, "seed-a", "out")  # cached: same UIDs, no error
    assert {k: r["series_instance_uid"] for k, r in again.items()} == {
        k: r["series_instance_uid"] for k, r in first.items()
    }
    other = _run(tmp_path, inputs, plugin, "seed-b", "out-b")
    assert not series & {r["series_instance_uid"] for r in other.values()}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path)
    pet = {"pet": inputs["pet"]}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = _run(tmp_path / "a", pet, "Linear", "s", "out")
    two = _run(tmp_path / "b", pet, "Linear", "s", "out")
    files_one, files_two = one["pet"]["dicom_files"], two["pet"]["dicom_files"]
    assert [Path(f).read_bytes() for f in files_one] == [Path(f).read_bytes() for f in files_two]


def test_pickled_node_runs_in_a_fresh_interpreter(tmp_path: Path) -> None:
    path, _, _ = _inputs(tmp_path)["ct"]
    node = pe.Node(
        SaveDicom(
            in_file=str(path), template_file=str(BUNDLED / "ge-lightspeed16-ct.dump"), uid_seed="x"
        ),
        name="save",
        base_dir=str(tmp_path),
    )
    pickled = tmp_path / "_node.pkl"
    pickled.write_bytes(pickle.dumps(node))
    code = (
        "import pickle, sys; node = pickle.load(open(sys.argv[1], 'rb')); "
        "result = node.run(); print(len(result.outputs.dicom_files))"
    )
    out = subprocess.run(
        [*python("-c"), code, str(pickled)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "6"


def test_interface_errors_name_the_trait(tmp_path: Path) -> None:
    path, _, _ = _inputs(tmp_path)["ct"]
    with pytest.raises(ValueError, match="in_file"):
        SaveDicom(template_file=str(BUNDLED / "ge-lightspeed16-ct.dump")).run(cwd=str(tmp_path))
    with pytest.raises(OSError, match='"modality" is mutually exclusive with input "template_n'):
        SelectTemplate(template_name="ge-lightspeed16-ct", modality="CT").run()
    with pytest.raises(ValueError, match="no template matches XA.*known templates"):
        SelectTemplate(modality="XA").run(cwd=str(tmp_path))
    with pytest.raises(ValueError, match="input patient_sex"):
        SaveDicom(
            in_file=str(path),
            template_file=str(BUNDLED / "ge-lightspeed16-ct.dump"),
            patient_sex="X",
        ).run(cwd=str(tmp_path))


@pytest.mark.parametrize("name", ["MakeTemplate", "SaveDicom", "SelectTemplate", "SinkDicom"])
def test_every_trait_has_a_description(name: str) -> None:
    from nipype_vinci import interfaces

    interface = getattr(interfaces, name)
    for spec in (interface.input_spec(), interface.output_spec()):
        for trait_name, trait in spec.traits().items():
            if not trait_name.startswith("trait_"):
                assert trait.desc, f"{name}.{trait_name} has no desc"


def test_export_workflow_with_a_segmentation(tmp_path: Path) -> None:
    import highdicom as hd

    data = np.random.default_rng(3).integers(-500, 1500, (20, 16, 5)).astype(np.int16)
    affine = np.diag([1.0, 1.2, 2.0, 1.0])
    nib.save(nib.Nifti1Image(data, affine), tmp_path / "ct.nii")
    labels = (data > 700).astype(np.uint8)
    nib.save(nib.Nifti1Image(labels, affine), tmp_path / "labels.nii")
    (tmp_path / "labels.tsv").write_text("index\tname\n1\tbright\n")
    wf = init_dicom_export_wf(
        output_dir=str(tmp_path / "out"),
        template_query={"template_name": "ge-lightspeed16-ct"},
        segmentation=True,
    )
    wf.base_dir = str(tmp_path / "work")
    wf.inputs.inputnode.in_file = str(tmp_path / "ct.nii")
    wf.inputs.inputnode.out_name = "ct"
    wf.inputs.inputnode.label_map = str(tmp_path / "labels.nii")
    wf.inputs.inputnode.labels_file = str(tmp_path / "labels.tsv")
    wf.run(plugin="Linear")
    (seg_file,) = (tmp_path / "out" / "ct_seg").glob("*.dcm")
    seg = hd.seg.segread(seg_file)
    series = sorted((tmp_path / "out" / "ct").glob("*.dcm"))
    first = pydicom.dcmread(series[0], stop_before_pixels=True)
    assert seg.FrameOfReferenceUID == first.FrameOfReferenceUID
    assert seg.StudyInstanceUID == first.StudyInstanceUID
    assert dciodvfy_errors([seg_file]) == []
