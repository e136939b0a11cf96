"""Element-by-element comparison of two pydicom data sets (sequences included)."""

from __future__ import annotations

import math

import numpy as np
from pydicom.dataset import Dataset


def _floats_close(mine, theirs) -> bool:
    """DCMTK's dump2dcm parses float text with its own atof, off by up to an ulp or two."""
    mine, theirs = np.atleast_1d(mine), np.atleast_1d(theirs)
    return len(mine) == len(theirs) and all(
        math.isclose(a, b, rel_tol=1e-15) or (math.isnan(a) and math.isnan(b))
        for a, b in zip(mine, theirs)
    )


def differences(expected: Dataset, actual: Dataset, where: str = "") -> list[str]:
    """Every element that differs between two data sets, as 'path: what' lines."""
    found = []
    for element in expected:
        place = f"{where}{element.tag}"
        if element.tag not in actual:
            found.append(f"{place}: missing")
            continue
        other = actual[element.tag]
        if element.VR == "SQ" and other.VR == "SQ":
            if len(element.value) != len(other.value):
                found.append(f"{place}: {len(element.value)} items vs {len(other.value)}")
                continue
            for index, (mine, theirs) in enumerate(zip(element.value, other.value)):
                found += differences(mine, theirs, f"{place}[{index}].")
        elif (
            element.VR in ("FD", "FL")
            and element.value is not None
            and other.value is not None
            and _floats_close(element.value, other.value)
        ):
            continue
        elif element.value != other.value:
            found.append(f"{place}: {str(element.value)[:40]!r} vs {str(other.value)[:40]!r}")
    found += [f"{where}{e.tag}: extra" for e in actual if e.tag not in expected]
    return found
