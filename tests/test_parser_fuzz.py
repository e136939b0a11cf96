"""Property: any input gives a Template or a TemplateError, never another exception."""

from __future__ import annotations

import subprocess

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.data import get_testdata_file

from nipype_vinci.errors import TemplateError
from nipype_vinci.template import parse_dump, parse_template

from .conftest import need_tool


def _real_dump_lines() -> list[bytes]:
    need_tool("dcmdump")
    lines: list[bytes] = []
    for name in ("CT_small.dcm", "rtplan.dcm", "MR_small_bigendian.dcm", "JPEG2000.dcm"):
        out = subprocess.run(
            ["dcmdump", "-q", "+L", get_testdata_file(name)], capture_output=True, check=True
        ).stdout
        lines += [line[:400] for line in out.split(b"\n")]
    return lines


REAL_LINES = None


def _lines() -> list[bytes]:
    global REAL_LINES  # noqa: PLW0603 - a read-only cache of test input
    if REAL_LINES is None:
        REAL_LINES = _real_dump_lines()
    return REAL_LINES


def _accepts_or_rejects_cleanly(data: bytes) -> None:
    for parse in (parse_dump, parse_template):
        try:
            parse(data, "fuzz.dump")
        except TemplateError as exc:
            assert all(p.startswith("fuzz.dump:") for p in exc.problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_real_dumps(data: st.DataObject) -> None:
    lines = list(_lines())
    start = data.draw(st.integers(0, len(lines) - 1))
    chunk = lines[start : start + data.draw(st.integers(1, 60))]
    for _ in range(data.draw(st.integers(0, 6))):
        index = data.draw(st.integers(0, len(chunk) - 1))
        line = chunk[index]
        action = data.draw(st.sampled_from(["cut", "flip", "insert", "drop", "dup", "swap"]))
        position = data.draw(st.integers(0, max(len(line) - 1, 0)))
        if action == "cut":
            chunk[index] = line[:position]
        elif action == "flip" and line:
            chunk[index] = (
                line[:position]
                + bytes([line[position] ^ data.draw(st.integers(1, 255))])
                + line[position + 1 :]
            )
        elif action == "insert":
            chunk[index] = line[:position] + data.draw(st.binary(max_size=8)) + line[position:]
        elif action == "drop":
            chunk[index] = b""
        elif action == "dup":
            chunk.insert(index, line)
        else:
            chunk[index] = chunk[-1 - index]
    _accepts_or_rejects_cleanly(b"\n".join(chunk))


ELEMENT_LINES = st.builds(
    lambda tag, vr, value: f"({tag}) {vr} {value}".encode(),
    st.from_regex(r"[0-9a-fA-F]{4},[0-9a-fA-F]{3,5}", fullmatch=True),
    st.sampled_from(
        [
            "US",
            "SS",
            "DS",
            "IS",
            "UI",
            "PN",
            "SQ",
            "na",
            "pi",
            "OB",
            "OW",
            "AT",
            "FL",
            "OF",
            "xs",
            "??",
            "UN",
            "DA",
            "TM",
            "ZZ",
            "",
        ]
    ),
    st.text(max_size=30),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(ELEMENT_LINES, st.binary(max_size=40)), max_size=20))
def test_random_lines(lines: list[bytes]) -> None:
    _accepts_or_rejects_cleanly(b"\n".join(lines))
