"""Peer: DCMTK's dump2dcm, one process a slice, fed a dump text and the slice's raw bytes
(a minimal Secondary Capture header: the files are for timing, not for use)."""

import os
import subprocess
import sys

from slices import slices

HEADER = """(0008,0016) UI =SecondaryCaptureImageStorage
(0008,0018) UI [1.2.826.0.1.3680043.2.1125.1.{number}]
(0008,0060) CS [OT]
(0020,000d) UI [1.2.826.0.1.3680043.2.1125.2]
(0020,000e) UI [1.2.826.0.1.3680043.2.1125.3]
(0020,0013) IS [{number}]
(0020,0032) DS [0\\0\\{k}]
(0028,0002) US 1
(0028,0004) CS [MONOCHROME2]
(0028,0010) US {rows}
(0028,0011) US {columns}
(0028,0100) US 16
(0028,0101) US 16
(0028,0102) US 15
(0028,0103) US 1
(7fe0,0010) OW ={raw}
"""

source, folder = sys.argv[1], sys.argv[2]
os.makedirs(folder)
for number, k, plane in slices(source):
    stem = os.path.join(folder, f"{number:05d}")
    plane.astype("<i2").tofile(stem + ".raw")
    with open(stem + ".dump", "w") as dump:
        dump.write(
            HEADER.format(
                number=number, k=k, rows=plane.shape[0], columns=plane.shape[1], raw=stem + ".raw"
            )
        )
    subprocess.run(["dump2dcm", "-q", stem + ".dump", stem + ".dcm"], check=True)
    os.remove(stem + ".raw")
    os.remove(stem + ".dump")
