"""`nipype-vinci send` against a real Orthanc (C-STORE and STOW-RS): what arrives, what is
refused, a receiver that stops mid-send, a wrong port, retries, verification."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from .conftest import CLI, cli, python
from .orthanc import Orthanc

# (template, shape): small synthetic series of three modalities
SERIES = {
    "pet": ("ge-discovery-st-pet", (32, 32, 12)),
    "ct": ("ge-lightspeed16-ct", (48, 40, 9)),
    "mr": ("siemens-avanto-mr", (40, 32, 7)),
}
REFUSE_EVERY_FOURTH = """
function ReceivedInstanceFilter(dicom, origin, info)
  return tonumber(dicom.InstanceNumber) % 4 ~= 0
end
"""


def save_series(folder: Path, name: str, template: str, shape: tuple, seed: int) -> Path:
    """A synthetic image exported with ``nipype-vinci save``: the series folder."""
    data = np.random.default_rng(seed).random(shape).astype(np.float32) * 900
    nib.save(nib.Nifti1Image(data, np.diag([1.2, 1.2, 2.5, 1.0])), folder / f"{name}.nii")
    out = folder / name
    result = cli(
        "save", str(folder / f"{name}.nii"), str(out), "--template", template, "--uid-seed", name
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("series")
    return {
        name: save_series(folder, name, template, shape, seed)
        for seed, (name, (template, shape)) in enumerate(SERIES.items())
    }


@pytest.fixture(scope="module")
def long_series(tmp_path_factory) -> Path:
    """A series long enough (120 files) to stop the receiver in the middle of it."""
    return save_series(
        tmp_path_factory.mktemp("long"), "long", "ge-lightspeed16-ct", (128, 128, 120), 7
    )


def send(orthanc: Orthanc, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``nipype-vinci send ...`` run inside Orthanc's network namespace."""
    return subprocess.run(
        orthanc.command([*CLI, "send", *map(str, args)]),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def errors(result: subprocess.CompletedProcess) -> list[str]:
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("nipype-vinci: error: ") for line in lines), lines
    return lines


def assert_all_arrived(orthanc: Orthanc, folders: list[Path]) -> int:
    """Every file's SOPInstanceUID is in Orthanc, its pixel data identical; the file count."""
    files = [f for folder in folders for f in sorted(folder.glob("*.dcm"))]
    for path in files:
        sent = pydicom.dcmread(path)
        stored = orthanc.instance_file(sent.SOPInstanceUID)
        assert stored is not None, f"{path.name} ({sent.SOPInstanceUID}) is not in Orthanc"
        assert pydicom.dcmread(pydicom.filebase.DicomBytesIO(stored)).PixelData == sent.PixelData
    assert orthanc.count_instances() == len(files)
    return len(files)


def every_fourth(folder: Path) -> list[str]:
    return [
        str(path)
        for path in sorted(folder.glob("*.dcm"))
        if int(pydicom.dcmread(path, stop_before_pixels=True).InstanceNumber) % 4 == 0
    ]


def targets(orthanc: Orthanc) -> dict[str, list[str]]:
    return {"cstore": ["--to", orthanc.node], "stow": ["--dicomweb", orthanc.dicomweb_url]}


@pytest.mark.parametrize("protocol", ["cstore", "stow"])
def test_several_series_arrive_whole_and_verified(protocol, orthanc, synthetic) -> None:
    folders = list(synthetic.values())
    result = send(orthanc, *folders, *targets(orthanc)[protocol], "--verify", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and not report["failed"]
    assert [s["verified"] for s in report["series"]] == [True] * len(folders)
    statuses = {r["status"] for s in report["series"] for r in s["results"]}
    assert statuses == ({"0x0000"} if protocol == "cstore" else {"referenced"})
    assert assert_all_arrived(orthanc, folders) == report["files"]


def test_real_pet_series_arrives_whole(orthanc, samples) -> None:
    folder = samples / "pet-ge-discovery-st"
    result = send(orthanc, folder, "--to", orthanc.node, "--verify")
    assert result.returncode == 0, result.stderr
    assert "267 of 267 files in 1 series stored" in result.stdout
    assert_all_arrived(orthanc, [folder])


@pytest.mark.parametrize("protocol", ["cstore", "stow"])
def test_receiver_that_stores_less_is_caught_by_verify(protocol, orthanc_factory, synthetic):
    orthanc = orthanc_factory(lua=REFUSE_EVERY_FOURTH)
    folder = synthetic["pet"]
    target = targets(orthanc)[protocol]
    trusting = send(orthanc, folder, *target)
    assert trusting.returncode == 0, "without --verify the receiver's success is all we know"
    result = send(orthanc, folder, *target, "--verify", "--json")
    assert result.returncode == 3, result.stderr
    refused = every_fourth(folder)
    lines = errors(result)
    assert [line.split(": ")[2] for line in lines] == refused
    assert all("acknowledged" in line and "not stored" in line for line in lines)
    report = json.loads(result.stdout)
    assert report["failed"] == refused and not report["ok"]
    (series,) = report["series"]
    assert series["verified"] is False
    assert series["receiver_count"] == len(series["results"]) - len(refused)
    assert {r["outcome"] for r in series["results"] if r["path"] in refused} == {"missing"}


@pytest.mark.parametrize("protocol", ["cstore", "stow"])
def test_wrong_port_names_every_file(protocol, orthanc, synthetic) -> None:
    folder = synthetic["ct"]
    target = {
        "cstore": ["--to", orthanc.node.replace(":4242", ":4299")],
        "stow": ["--dicomweb", orthanc.dicomweb_url.replace(":8042", ":8099")],
    }[protocol]
    result = send(orthanc, folder, *target, "--retries", "1", "--json")
    assert result.returncode == 3, result.stderr
    (line,) = errors(result)
    assert str(folder) in line and "not sent" in line and "2 attempts" in line
    assert "Connection refused" in line or "cannot connect" in line
    report = json.loads(result.stdout)
    assert report["failed"] == [str(p) for p in sorted(folder.glob("*.dcm"))]
    assert report["series"][0]["attempts"] == 2
    assert orthanc.count_instances() == 0


def test_the_http_port_instead_of_the_dicom_one_is_one_line_and_no_retry(
    orthanc, synthetic
) -> None:
    folder = synthetic["ct"]
    result = send(orthanc, folder, "--to", orthanc.node.replace(":4242", ":8042"), "--json")
    assert result.returncode == 3, result.stderr
    (line,) = errors(result)
    assert str(folder) in line and "does not speak DICOM" in line and "the DICOM one" in line
    assert json.loads(result.stdout)["series"][0]["attempts"] == 1


def _send_and_kill(orthanc: Orthanc, folder: Path, *args: str) -> subprocess.Popen:
    """Start a send, and kill Orthanc once it holds a few of the files."""
    process = subprocess.Popen(
        orthanc.command([*CLI, "send", str(folder), *args, "--json"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while orthanc.count_instances() < 5:
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.01)
    orthanc.kill()
    return process


def test_receiver_stopped_mid_send(orthanc, long_series) -> None:
    process = _send_and_kill(orthanc, long_series, "--to", orthanc.node, "--retries", "1")
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 3, stderr
    (line,) = errors(subprocess.CompletedProcess([], 3, stdout, stderr))
    assert "not sent" in line and "Connection refused" in line
    report = json.loads(stdout)
    (series,) = report["series"]
    # Orthanc held 5 when it was killed; the answers to the last two (one an association)
    # may not have left it
    assert 3 <= series["acknowledged"] < series["files"]
    assert len(report["failed"]) == series["files"] - series["acknowledged"]
    assert {r["outcome"] for r in series["results"] if r["path"] in report["failed"]} == {
        "not sent"
    }


def test_retries_resume_after_the_receiver_comes_back(orthanc, long_series) -> None:
    process = _send_and_kill(orthanc, long_series, "--to", orthanc.node, "--verify")
    time.sleep(0.3)
    orthanc.start()  # same storage, same namespace: the instances it held are still there
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    (series,) = json.loads(stdout)["series"]
    assert series["attempts"] >= 2 and series["verified"]
    assert_all_arrived(orthanc, [long_series])


def test_stow_with_basic_authentication(orthanc_factory, synthetic) -> None:
    orthanc = orthanc_factory(users={"ci": "secret"})
    folder = synthetic["mr"]
    target = ["--dicomweb", orthanc.dicomweb_url, "--user", "ci"]
    wrong = send(orthanc, folder, *target, "--password", "wrong")
    assert wrong.returncode == 3
    (line,) = errors(wrong)
    assert "HTTP 401" in line and "user and password" in line
    right = send(orthanc, folder, *target, "--password", "secret", "--verify")
    assert right.returncode == 0, right.stderr
    assert_all_arrived(orthanc, [folder])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--to", "ORTHANC:4242"], "is not AET@HOST:PORT"),
        (["--to", "ORTHANC@host:99999"], "port 99999 is not in 1-65535"),
        (["--to", "AN_AE_TITLE_TOO_LONG@host:104"], "is not an AE title"),
        (["--dicomweb", "ftp://host/dicom-web"], "is not http(s)://"),
        (["--dicomweb", "http://host/dicom-web", "--user", "u"], "both a user and a password"),
        (["--to", "A@host:104", "--user", "u"], "go with --dicomweb URL only"),
        (["--to", "A@host:104", "--calling-aet", "A\\B"], "is not an AE title"),
        (["--to", "A@host:104", "--associations", "0"], "associations 0: give 1 to 16"),
        (["--to", "A@host:104", "--associations", "17"], "associations 17: give 1 to 16"),
        (["--to", "A@host:104", "--timeout", "-1"], "timeout -1.0: give a number of seconds"),
        (["--to", "A@host:104", "--timeout", "nan"], "timeout nan: give a number of seconds"),
        (["--to", "A@host:104", "--calling-aet", "LABOR_MÜNCHEN"], "printable ASCII"),
    ],
)
def test_user_mistakes_are_one_line_and_status_2(args, message, synthetic) -> None:
    result = cli("send", str(synthetic["pet"]), *args)
    assert result.returncode == 2
    (line,) = errors(result)
    assert message in line


def test_folders_that_hold_no_series_are_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no DICOM here")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00")
    for folder, message in [
        (tmp_path / "absent", "no such file or folder"),
        (tmp_path, "holds no DICOM file"),
        (broken, "a receiver cannot store it"),
    ]:
        result = cli("send", str(folder), "--to", "A@127.0.0.1:104")
        assert result.returncode == 2
        (line,) = errors(result)
        assert str(folder) in line and message in line


NODE_SCRIPT = """
import json, sys
from nipype_vinci.interfaces import SendDicom
node = SendDicom(dicom_dirs=sys.argv[3:], target=sys.argv[2], verify=True, retries=0)
try:
    outputs = node.run(cwd=sys.argv[1]).outputs
except ValueError as exc:
    print(json.dumps({"error": str(exc)}))
else:
    print(json.dumps({"report_file": outputs.report_file, "stored": outputs.stored_count}))
"""


def test_senddicom_node(orthanc, synthetic, tmp_path: Path) -> None:
    folders = [str(synthetic["ct"]), str(synthetic["mr"])]

    def node(target: str, cwd: Path) -> dict:
        cwd.mkdir()
        command = [*python("-c"), NODE_SCRIPT, str(cwd), target, *folders]
        result = subprocess.run(orthanc.command(command), capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.splitlines()[-1])

    sent = node(orthanc.node, tmp_path / "ok")
    assert sent["stored"] == assert_all_arrived(orthanc, [Path(f) for f in folders])
    assert Path(sent["report_file"]).parent == tmp_path / "ok"
    assert json.loads(Path(sent["report_file"]).read_text())["ok"] is True
    failed = node(orthanc.node.replace(":4242", ":4299"), tmp_path / "refused")
    assert failed["error"].startswith("SendDicom: ") and "Connection refused" in failed["error"]
    assert folders[0] in failed["error"] and folders[1] in failed["error"]


def mixed_syntaxes(source: Path, folder: Path) -> dict[str, str]:
    """The series' files rewritten in turn in three transfer syntaxes: {UID: syntax}."""
    from pydicom.uid import DeflatedExplicitVRLittleEndian, ImplicitVRLittleEndian

    folder.mkdir()
    syntaxes = {}
    for index, path in enumerate(sorted(source.glob("*.dcm"))):
        dataset = pydicom.dcmread(path)
        syntax = [None, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian][index % 3]
        if syntax is not None:
            dataset.file_meta.TransferSyntaxUID = syntax
        dataset.save_as(folder / path.name, enforce_file_format=True)
        syntaxes[str(dataset.SOPInstanceUID)] = str(dataset.file_meta.TransferSyntaxUID)
    assert len(set(syntaxes.values())) == 3
    return syntaxes


def test_each_file_arrives_in_its_own_transfer_syntax(orthanc, synthetic, tmp_path) -> None:
    """One series, files in three transfer syntaxes: one context each, nothing converted."""
    syntaxes = mixed_syntaxes(synthetic["mr"], tmp_path / "mixed")
    result = send(orthanc, tmp_path / "mixed", "--to", orthanc.node, "--verify")
    assert result.returncode == 0, result.stderr
    for uid, syntax in syntaxes.items():
        (found,) = orthanc.rest("POST", "/tools/lookup", uid)
        stored = orthanc.rest("GET", f"/instances/{found['ID']}/metadata/TransferSyntax")
        assert stored.decode() == syntax


def test_a_refused_transfer_syntax_fails_only_its_files(orthanc_factory, synthetic, tmp_path):
    explicit = "1.2.840.10008.1.2.1"
    orthanc = orthanc_factory(settings={"AcceptedTransferSyntaxes": [explicit]})
    syntaxes = mixed_syntaxes(synthetic["mr"], tmp_path / "mixed")
    result = send(orthanc, tmp_path / "mixed", "--to", orthanc.node, "--json")
    assert result.returncode == 3
    report = json.loads(result.stdout)
    (series,) = report["series"]
    outcomes = {r["sop_instance_uid"]: r for r in series["results"]}
    for uid, syntax in syntaxes.items():
        expected = "stored" if syntax == explicit else "failed"
        assert outcomes[uid]["outcome"] == expected
    lines = errors(result)
    assert len(lines) == len(report["failed"]) == sum(s != explicit for s in syntaxes.values())
    assert all("refused MR Image Storage" in line for line in lines)
    assert orthanc.count_instances() == sum(s == explicit for s in syntaxes.values())


def test_a_receiver_of_implicit_vr_only_gets_every_file_rewritten_in_it(
    orthanc_factory, synthetic, tmp_path
) -> None:
    """Many older receivers take only the default syntax: Explicit VR and Deflated files go
    rewritten in Implicit VR Little Endian (the report says so), Implicit ones as they are."""
    implicit = "1.2.840.10008.1.2"
    orthanc = orthanc_factory(settings={"AcceptedTransferSyntaxes": [implicit]})
    syntaxes = mixed_syntaxes(synthetic["mr"], tmp_path / "mixed")
    result = send(orthanc, tmp_path / "mixed", "--to", orthanc.node, "--verify", "--json")
    assert result.returncode == 0, result.stderr
    (series,) = json.loads(result.stdout)["series"]
    for entry in series["results"]:
        own = syntaxes[entry["sop_instance_uid"]]
        assert entry["sent_as"] == ("" if own == implicit else implicit)
        (found,) = orthanc.rest("POST", "/tools/lookup", entry["sop_instance_uid"])
        stored = orthanc.rest("GET", f"/instances/{found['ID']}/metadata/TransferSyntax")
        assert stored.decode() == implicit
        held = orthanc.instance_file(entry["sop_instance_uid"])
        held = pydicom.dcmread(pydicom.filebase.DicomBytesIO(held))
        assert held == pydicom.dcmread(entry["path"])  # every element, every value
    assert_all_arrived(orthanc, [tmp_path / "mixed"])


def test_a_file_whose_meta_header_disagrees_is_refused(synthetic, tmp_path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    for path in sorted(synthetic["ct"].glob("*.dcm"))[:2]:
        shutil.copy(path, folder / path.name)
    first = sorted(folder.glob("*.dcm"))[0]
    dataset = pydicom.dcmread(first)
    dataset.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    dataset.save_as(first)
    result = cli("send", str(folder), "--to", "A@127.0.0.1:104")
    assert result.returncode == 2
    (line,) = errors(result)
    assert str(first) in line and "file meta header" in line and "1.2.3.4" in line
