"""Generate nipype_vinci/template/uid_names.py: DCMTK's names for UIDs, read off dcmdump.

Writes a file holding every UID of pydicom's dictionary (one per sequence item), runs
``dcmdump -q +L`` on it and records the ``=Name`` that DCMTK prints for each UID it knows.
Run: ``python tools/make_uid_names.py`` (needs DCMTK's dcmdump on PATH).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, UID_dictionary, generate_uid

OUT = Path(__file__).resolve().parents[1] / "nipype_vinci" / "template" / "uid_names.py"
NAMED = re.compile(r"^\s*\(0008,1150\) UI =(\S+)")
NUMBERED = re.compile(r"^\s*\(0008,1150\) UI \[([0-9.]+)\]")


def dcmtk_names() -> dict[str, str]:
    uids = sorted(UID_dictionary)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    items = []
    for uid in uids:
        item = Dataset()
        item.ReferencedSOPClassUID = uid
        items.append(item)
    ds.ReferencedImageSequence = Sequence(items)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "uids.dcm"
        ds.save_as(path, enforce_file_format=True)
        text = subprocess.run(
            ["dcmdump", "-q", "+L", str(path)], check=True, capture_output=True, text=True
        ).stdout
    printed = [line for line in text.splitlines() if "(0008,1150)" in line]
    if len(printed) != len(uids):
        sys.exit(f"dcmdump printed {len(printed)} UIDs for {len(uids)} written")
    names = {}
    for uid, line in zip(uids, printed):
        match = NAMED.match(line)
        if match:
            names[match.group(1)] = uid
        elif not NUMBERED.match(line):
            sys.exit(f"unexpected dcmdump line: {line}")
    return names


def main() -> None:
    version = subprocess.run(["dcmdump", "--version"], capture_output=True, text=True)
    first = version.stdout.splitlines()[0] if version.stdout else "dcmdump"
    names = dcmtk_names()
    lines = [
        '"""DCMTK\'s names for UIDs (as dcmdump prints them): generated, do not edit.',
        "",
        f"Made by tools/make_uid_names.py with {first.strip()}.",
        '"""',
        "",
        "DCMTK_UID_NAMES: dict[str, str] = {",
        *(f'    "{name}": "{uid}",' for name, uid in sorted(names.items())),
        "}",
        "",
    ]
    OUT.write_text("\n".join(lines))
    print(f"{len(names)} names written to {OUT}")


if __name__ == "__main__":
    main()
