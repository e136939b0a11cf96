"""Each reject case of template-format.md sections 3-5: message names line, column and rule."""

from __future__ import annotations

import pytest

from nipype_vinci.errors import TemplateError
from nipype_vinci.template import parse_dump, parse_template

HEAD = "(0002,0010) UI =LittleEndianExplicit\n(0008,0016) UI =CTImageStorage\n"
PIXELS = "(7fe0,0010) OW =MEMORYBASED\n"

CASES = [
    # section 3: truncation
    (
        "(0010,0010) PN [ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMN...",
        "unclosed [ or truncated value; dump the file again with `dcmdump +L`",
    ),
    ("(0009,1002) OB 00\\01\\02\\03...", "truncated value"),
    ("(7fe0,0010) OW (not loaded)", "(not loaded) cannot be written"),
    ("(0028,0010) US (invalid value)", "(invalid value) cannot be written"),
    # section 4: where dump2dcm is lax
    ("(0028,0010) US 70000", "70000 is out of the US range 0..65535"),
    ("(0028,0010) US -1", "-1 is out of the US range"),
    ("(0028,0010) US 512abc", "'512abc' is not an integer"),
    ("(0018,0050) DS [abc]", "DS value 'abc' is not a decimal number"),
    ("(0008,0050) SH [ABCDEFGHIJKLMNOPQRST]", "longer than 16 characters"),
    ("(0020,000d) UI [" + "1." * 41 + "1]", "longer than 64 characters"),
    ("(0010,0010) PN [A]\n(0010,0010) PN [B]", "duplicate element (0010,0010)"),
    ("(0010,001) PN [A]", "malformed tag (0010,001)"),
    ("(0010,0010) XX [A]", "unknown VR 'XX'"),
    ("(fffe,e000) na (Item with explicit length #=0)", "item (fffe,e000) outside a sequence"),
    ("(fffe,e00d) na (ItemDelimitationItem)", "item delimiter (fffe,e00d) without an open item"),
    ("(fffe,e0dd) na (SequenceDelimitationItem)", "sequence delimiter (fffe,e0dd) without"),
    ("(0008,1140) SQ (Sequence with explicit length #=0)", "is not closed"),
    (
        "(0008,1140) SQ (Sequence with explicit length #=1)\n(fffe,e000) na (Item)\n"
        "(fffe,e0dd) na (SequenceDelimitationItem)",
        "while an item is open",
    ),
    ("(fffe,e000) pi 00\\01", "pixel item (pi) outside a pixel sequence"),
    ("(0010,0010) PN [A]\rB]", "raw carriage return"),
    (
        "(7fe0,0010) OB (PixelSequence #=1)\n(fffe,e000) pi 00\n(fffe,e0dd) na (Seq)",
        "encapsulated pixel data under the native transfer syntax",
    ),
    ("(0008,0020) DA [20231345]", "not a valid date"),
    ("(0008,0030) TM [256000]", "not a valid time"),
    # section 5: keywords
    ("(0028,0010) US ROWZ", "unknown keyword 'ROWZ' in (0028,0010) US; did you mean ROWS?"),
    (
        "(0010,0010) PN [PATIENTNAM]",
        "unknown keyword 'PATIENTNAM' in (0010,0010) PN; did you mean PATIENTNAME?",
    ),
    ("(0028,0010) US PATIENTNAME", "keyword PATIENTNAME does not fit VR US"),
    ("(0018,0050) DS [PIXELSPACING]", "keyword PIXELSPACING fills 2 value(s)"),
    (
        "(0008,1150) UI =CTImageStorag",
        "unknown DCMTK UID name =CTImageStorag; did you mean =CTImageStorage?",
    ),
    ("(0010,0010) PN =/etc/passwd", "=file references (=/etc/passwd) are refused"),
    ("(7fe0,0010) OW =pixels.raw", "only =MEMORYBASED may stand there"),
    (
        "(0008,1140) SQ (Sequence with explicit length #=1)\n(fffe,e000) na (Item)\n"
        "(7fe0,0010) OW =MEMORYBASED\n(fffe,e00d) na (Item)\n(fffe,e0dd) na (Seq)",
        "=MEMORYBASED stands only on top-level",
    ),
]


@pytest.mark.parametrize(("body", "message"), CASES, ids=[c[1][:40] for c in CASES])
def test_reject_names_line_and_rule(body: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        parse_dump(HEAD + body + "\n", "bad.dump")
    text = str(info.value)
    assert message in text
    assert text.startswith("bad.dump:") and text.split(":")[1].isdigit()
    assert int(text.split(":")[1]) >= 3  # the line of the body, after the two head lines


def test_bom_is_refused() -> None:
    with pytest.raises(TemplateError, match="byte order mark"):
        parse_dump(b"\xef\xbb\xbf" + HEAD.encode(), "bom.dump")


def test_all_errors_reported_at_once_with_columns() -> None:
    body = "(0028,0010) US ROWZ\n(0028,0011) US 70000\n(0018,0050) DS [x]\n"
    with pytest.raises(TemplateError) as info:
        parse_template(HEAD + body + PIXELS, "pet.dump")
    assert [p.split(": ")[0] for p in info.value.problems] == [
        "pet.dump:3:16",
        "pet.dump:4:16",
        "pet.dump:5:16",
    ]


def test_template_needs_exactly_one_pixel_slot() -> None:
    with pytest.raises(TemplateError, match="no \\(7fe0,0010\\) OW =MEMORYBASED"):
        parse_template(HEAD, "t.dump")


def test_keywords_become_slots_and_literals_stay() -> None:
    body = (
        "(0010,0010) PN [PATIENTNAME]\n(0028,0010) US ROWS\n(0028,0011) US [COLUMNS]\n"
        "(3006,00a4) CS [ORGAN_AT_RISK]\n(0054,0016) SQ (Sequence with explicit length #=1)\n"
        "  (fffe,e000) na (Item with explicit length #=1)\n"
        "    (0018,0031) LO [RADIOPHARMACEUTICAL]\n  (fffe,e00d) na (Item)\n"
        "(fffe,e0dd) na (SequenceDelimitationItem)\n"
    )
    template = parse_template(HEAD + body + PIXELS, "t.dump")
    assert template.keywords == {
        "PATIENTNAME",
        "ROWS",
        "COLUMNS",
        "RADIOPHARMACEUTICAL",
        "MEMORYBASED",
    }
    nested = next(s for s in template.slots if s.keyword == "RADIOPHARMACEUTICAL")
    assert nested.parents == ((0x00540016, 0),)
    assert template.dataset[0x300600A4].value == "ORGAN_AT_RISK"
