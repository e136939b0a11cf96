"""Parse dcmdump text (DCMTK ``dcmdump +L``) with keywords into a Template.

Grammar and rules: shared/spec/template-format.md. Every problem of a file is collected with
its line and column; one TemplateError reports them all.
"""

from __future__ import annotations

import difflib
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.charset import convert_encodings, decode_bytes
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import (
    DataElement,
    RawDataElement,
    convert_raw_data_element,
    empty_value_for_VR,
)
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import UID

from ..errors import TemplateError
from .keywords import KEYWORDS, PIXEL_KEYWORD, fit_problem
from .model import (
    BIG_ENDIAN_SYNTAX,
    PIXEL_DATA,
    ElementPath,
    Slot,
    Template,
    TemplateInfo,
    parse_info,
)
from .semantics import semantic_problems
from .uid_names import DCMTK_UID_NAMES
from .values import (
    NUMBER_VRS,
    STRING_VRS,
    parse_numbers,
    split_values,
    strings_problem,
)

STANDARD_VRS = frozenset(
    [
        "AE",
        "AS",
        "AT",
        "CS",
        "DA",
        "DS",
        "DT",
        "FD",
        "FL",
        "IS",
        "LO",
        "LT",
        "OB",
        "OD",
        "OF",
        "OL",
        "OV",
        "OW",
        "PN",
        "SH",
        "SL",
        "SQ",
        "SS",
        "ST",
        "SV",
        "TM",
        "UC",
        "UI",
        "UL",
        "UN",
        "UR",
        "US",
        "UT",
        "UV",
    ]
)
DICTIONARY_VRS = frozenset(["xs", "ox", "up", "lt", "??"])
MARKER_VRS = frozenset(["na", "pi"])
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
META_LINE = re.compile(rb"^#\s*nipype-vinci:\s*(.*)$")
ELEMENT_LINE = re.compile(rb"^([ \t]*)\(([^()]*)\)(.*)$")
HEX_BYTES = re.compile(r"[0-9a-fA-F]{2}(\\[0-9a-fA-F]{2})*")
HEX_WORDS = re.compile(r"[0-9a-fA-F]{4}(\\[0-9a-fA-F]{4})*")
AT_VALUES = re.compile(r"\([0-9a-fA-F]{4},[0-9a-fA-F]{4}\)(\\\([0-9a-fA-F]{4},[0-9a-fA-F]{4}\))*")
STRUCTURE = re.compile(
    r"\((no value available|(Sequence|Item) with (explicit|undefined) length #=\d+|"
    r"PixelSequence( with explicit length)? #=\d+|ItemDelimitationItem[^)]*|"
    r"SequenceDelimitationItem[^)]*)\)"
)
UNREADABLE = re.compile(r"\((not loaded|invalid value[^)]*|unknown value[^)]*)\)")
REDUMP = "dump the file again with `dcmdump +L` (or `nipype-vinci dump`)"
KEYWORD_LIKE = re.compile(r"[A-Z][A-Z0-9_]{3,}")
NATIVE_SYNTAXES = frozenset(
    ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", BIG_ENDIAN_SYNTAX, "1.2.840.10008.1.2.1.99"]
)


@dataclass
class _Value:
    """The value part of one element line, as text, with the column it starts at."""

    form: str  # "string", "token", "name", "structure", "none"
    text: str
    column: int


@dataclass
class _Frame:
    """An open container: the data set, sequence or pixel sequence lines are going into."""

    kind: str  # "dataset", "sequence", "item", "pixels"
    dataset: Dataset | None = None
    element: DataElement | None = None
    path: ElementPath = ()
    fragments: list[bytes] = field(default_factory=list)
    line: int = 0


class _Parser:
    def __init__(self, data: bytes, source: str):
        self.source = source
        self.data = data
        self.problems: list[tuple[int, int, str]] = []
        self.dataset = Dataset()
        self.dataset.file_meta = FileMetaDataset()
        self.stack: list[_Frame] = [_Frame("dataset", self.dataset)]
        self.slots: list[Slot] = []
        self.info: dict[str, str] = {}
        self.encodings = ["iso8859"]
        self.pixel_slots = 0
        self.lines: dict[tuple[ElementPath, int], int] = {}

    # -- reporting -------------------------------------------------------------------------
    def problem(self, line: int, column: int, message: str) -> None:
        self.problems.append((line, column, message))

    def error(self) -> TemplateError:
        return TemplateError(
            [f"{self.source}:{line}:{col}: {msg}" for line, col, msg in sorted(self.problems)]
        )

    # -- lines -----------------------------------------------------------------------------
    def run(self) -> Template:
        if self.data.startswith(b"\xef\xbb\xbf"):
            self.problem(1, 1, "the file starts with a byte order mark; save it without a BOM")
        raw_lines = self.data.split(b"\n")
        charset = re.search(rb"^\s*\(0008,0005\) CS \[([^\]\n]*)\]", self.data, re.M)
        terms = charset.group(1).decode("ascii", "replace").split("\\") if charset else []
        if terms and terms[0] not in KEYWORDS:  # a keyword: the default (Latin-1) reading
            self.encodings = convert_encodings(terms)
        for number, raw in enumerate(raw_lines, start=1):
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            if b"\r" in raw:
                self.problem(
                    number,
                    raw.index(b"\r") + 1,
                    "raw carriage return inside a line; lines end with LF only",
                )
                continue
            self.line(number, raw)
        self.close(len(raw_lines))
        if self.problems:
            raise self.error()
        info = TemplateInfo(**self.info)
        return Template(self.dataset, self.slots, info, self.source, self.lines)

    def line(self, number: int, raw: bytes) -> None:
        stripped = raw.strip()
        if not stripped:
            return
        if stripped.startswith(b"#"):
            meta = META_LINE.match(stripped)
            if meta:
                self.metadata(number, meta.group(1).decode("utf-8", "replace"))
            return
        match = ELEMENT_LINE.match(raw)
        if not match:
            self.problem(
                number,
                len(raw) - len(raw.lstrip()) + 1,
                "not an element line: expected (gggg,eeee) VR value",
            )
            return
        indent, tag_text, rest = match.groups()
        tag = self.tag(number, len(indent) + 2, tag_text.decode("latin-1"))
        if tag is None:
            return
        column = len(indent) + len(tag_text) + 3
        vr, value = self.split_rest(number, column, rest.decode("latin-1"))
        if vr is not None and value is not None:
            self.element(number, tag, vr, value)

    def metadata(self, number: int, text: str) -> None:
        values, problems = parse_info(text)
        for problem in problems:
            self.problem(number, 1, problem)
        self.info.update(values)

    def tag(self, number: int, column: int, text: str) -> int | None:
        group, sep, element = text.partition(",")
        hex4 = re.compile(r"[0-9a-fA-F]{4}")
        if not sep or not hex4.fullmatch(group) or not hex4.fullmatch(element):
            self.problem(
                number,
                column - 1,
                f"malformed tag ({text}): a tag is (gggg,eeee) with 4 hex digits each",
            )
            return None
        return int(group, 16) << 16 | int(element, 16)

    def split_rest(self, number: int, column: int, rest: str) -> tuple[str | None, _Value | None]:
        """Split what follows the tag into VR and value, checking the trailer."""
        if rest and not rest[0].isspace():
            self.problem(number, column, "expected white space after the tag")
            return None, None
        body = rest.lstrip()
        column += len(rest) - len(body)
        vr = ""
        head = body[:2]
        if (
            len(body) >= 2
            and (len(body) == 2 or body[2].isspace())
            and not head.startswith(("[", "(", "=", "#"))
        ):
            if head in STANDARD_VRS or head in DICTIONARY_VRS or head in MARKER_VRS:
                vr = head
            elif re.fullmatch(r"[A-Za-z?]{2}", head):
                self.problem(number, column, f"unknown VR {head!r}")
                return None, None
        if vr:
            after = body[2:]
            body = after.lstrip()
            column += 2 + len(after) - len(body)
        value = self.value(number, column, body, vr)
        return (vr, value) if value else (None, None)

    def value(self, number: int, column: int, body: str, vr: str) -> _Value | None:
        if not body or body.startswith("#"):
            return _Value("none", "", column)
        if body.startswith("["):
            end = body.rfind("]")
            if end < 0:
                self.problem(number, column, f"unclosed [ or truncated value; {REDUMP}")
                return None
            text, trailer = body[1:end], body[end + 1 :]
            form = "string"
        elif body.startswith("(") and vr == "na":  # item and delimiter lines: a description
            end = body.find(")")
            text, trailer = body[1:end], body[end + 1 :] if end > 0 else ""
            form = "structure"
        elif body.startswith("(") and vr != "AT":
            unreadable = UNREADABLE.match(body)
            if unreadable:
                self.problem(
                    number, column, f"value {unreadable.group(0)} cannot be written; {REDUMP}"
                )
                return None
            structure = STRUCTURE.match(body)
            if not structure:
                self.problem(number, column, f"unknown value form {body.split()[0]!r}")
                return None
            text, trailer = structure.group(1), body[structure.end() :]
            form = "structure"
        else:
            token = body.split()[0]
            text, trailer = token, body[len(token) :]
            form = "name" if token.startswith("=") else "token"
            if token.endswith("..."):
                self.problem(number, column, f"truncated value ('...'); {REDUMP}")
                return None
        if trailer.strip() and not trailer.strip().startswith("#"):
            self.problem(
                number,
                column + len(body) - len(trailer.lstrip()),
                "unexpected text after the value (a comment starts with #)",
            )
            return None
        return _Value(form, text, column)

    # -- elements --------------------------------------------------------------------------
    def element(self, number: int, tag: int, vr: str, value: _Value) -> None:
        top = self.stack[-1]
        if tag in (ITEM, ITEM_END, SEQUENCE_END):
            self.structure_line(number, tag, vr, value)
            return
        if vr in MARKER_VRS:
            self.problem(number, value.column - 3, f"VR {vr} stands only on item lines")
            return
        if top.kind in ("sequence", "pixels"):
            self.problem(
                number, 1, "element directly inside a sequence; open an item first with (fffe,e000)"
            )
            return
        vr = self.resolve_vr(tag, vr)
        target = self.target(tag)
        if tag in target:
            self.problem(
                number,
                1,
                f"duplicate element ({tag >> 16:04x},{tag & 0xFFFF:04x}) "
                "in the same data set; keep one",
            )
            return
        self.lines[(self.path(), tag)] = number
        if vr == "SQ":
            if value.form not in ("structure", "none") or value.text.startswith("no value"):
                value = _Value("none", "", value.column)
            element = DataElement(tag, "SQ", Sequence())
            target.add(element)
            self.stack.append(_Frame("sequence", element=element, path=self.path(), line=number))
            return
        if tag == PIXEL_DATA and value.form == "structure" and value.text.startswith("Pixel"):
            element = DataElement(tag, vr, b"", is_undefined_length=True)
            target.add(element)
            self.stack.append(_Frame("pixels", element=element, line=number))
            return
        parsed = self.element_value(number, tag, vr, value)
        if parsed is not None:
            target.add(parsed)

    def structure_line(self, number: int, tag: int, vr: str, value: _Value) -> None:
        top = self.stack[-1]
        if tag == ITEM:
            if top.kind == "pixels":
                if vr != "pi":
                    self.problem(number, 1, "a pixel item is (fffe,e000) pi followed by hex bytes")
                    return
                empty = value.form == "none" or value.text == "no value available"
                fragment = b"" if empty else self.hex_bytes(number, value)
                if fragment is not None:
                    top.fragments.append(fragment)
                return
            if vr == "pi":
                self.problem(number, 1, "pixel item (pi) outside a pixel sequence")
                return
            if top.kind != "sequence":
                self.problem(number, 1, "item (fffe,e000) outside a sequence")
                return
            item = Dataset()
            sequence = top.element.value
            sequence.append(item)
            step = (top.element.tag, len(sequence) - 1)
            self.stack.append(_Frame("item", item, path=top.path + (step,), line=number))
            return
        if tag == ITEM_END:
            if top.kind != "item":
                self.problem(number, 1, "item delimiter (fffe,e00d) without an open item")
                return
            self.stack.pop()
            return
        if top.kind == "item":
            self.problem(
                number,
                1,
                "sequence delimiter (fffe,e0dd) while an item is open; "
                "close the item with (fffe,e00d) first",
            )
            self.stack.pop()
            top = self.stack[-1]
        if top.kind not in ("sequence", "pixels"):
            self.problem(number, 1, "sequence delimiter (fffe,e0dd) without an open sequence")
            return
        self.stack.pop()
        if top.kind == "pixels":
            top.element.value = b"".join(
                struct.pack("<HHI", 0xFFFE, 0xE000, len(f)) + f for f in top.fragments
            )

    def close(self, last_line: int) -> None:
        for frame in reversed(self.stack[1:]):
            self.problem(
                last_line,
                1,
                f"the {frame.kind} opened on line {frame.line} is not "
                "closed; add its delimiter line",
            )
        syntax = str(self.dataset.file_meta.get("TransferSyntaxUID", "") or "")
        pixels = self.dataset.get(PIXEL_DATA)
        if pixels is not None and pixels.is_undefined_length and syntax in NATIVE_SYNTAXES:
            self.problem(
                last_line,
                1,
                "encapsulated pixel data under the native transfer "
                f"syntax {syntax}; set (0002,0010) to its compressed one",
            )

    def target(self, tag: int) -> Dataset:
        frame = self.stack[-1]
        if tag >> 16 == 0x0002 and len(self.stack) == 1:
            return self.dataset.file_meta
        return frame.dataset

    def path(self) -> ElementPath:
        return self.stack[-1].path

    def resolve_vr(self, tag: int, vr: str) -> str:
        if vr in STANDARD_VRS:
            return vr
        if vr == "??":
            return "UN"
        try:
            known = dictionary_VR(tag)
        except KeyError:
            return "UN"
        if " or " not in known:
            return known
        if known.startswith("US or SS"):
            signed = self.dataset.get("PixelRepresentation", 0) == 1
            return "SS" if signed else "US"
        if known == "OB or OW":
            return "OW"
        return known.split(" or ")[-1]

    # -- values ----------------------------------------------------------------------------
    def element_value(self, number: int, tag: int, vr: str, value: _Value) -> DataElement | None:
        col = value.column
        keyword = value.text if value.form in ("string", "token") else ""
        if keyword in KEYWORDS:
            return self.slot(number, col, tag, vr, keyword)
        if value.form == "name":
            return self.named_value(number, col, tag, vr, value.text[1:])
        if value.form in ("none", "structure"):
            if vr == "UN":
                return self.raw_element(tag, vr, b"")
            return DataElement(tag, vr, empty_value_for_VR(vr))
        if vr in STRING_VRS:
            return self.string_value(number, col, tag, vr, value)
        if vr in NUMBER_VRS:
            return self.number_value(number, col, tag, vr, value.text)
        if vr == "AT":
            if not AT_VALUES.fullmatch(value.text):
                self.problem(number, col, "AT value must be (gggg,eeee)[\\(gggg,eeee)...]")
                return None
            tags = [int(t[1:5], 16) << 16 | int(t[6:10], 16) for t in value.text.split("\\")]
            return DataElement(tag, vr, tags)
        if vr == "OW":
            return self.words_value(number, col, tag, value)
        raw = self.hex_bytes(number, value)
        return None if raw is None else self.raw_element(tag, vr, raw)

    def raw_element(self, tag: int, vr: str, raw: bytes) -> DataElement:
        """Bytes as pydicom would read them from a file (UN of a known tag gets its VR)."""
        little = self.order() == "<"
        element = RawDataElement(Tag(tag), vr, len(raw), raw, 0, False, little, True, False)
        return convert_raw_data_element(element, encoding=self.encodings)

    def slot(self, number: int, col: int, tag: int, vr: str, name: str) -> DataElement | None:
        problem = fit_problem(KEYWORDS[name], tag, vr)
        if problem:
            self.problem(number, col, f"{problem} (in ({tag >> 16:04x},{tag & 0xFFFF:04x}))")
            return None
        self.slots.append(Slot(name, tag, vr, self.path(), number))
        return DataElement(tag, vr, None)

    def named_value(
        self, number: int, col: int, tag: int, vr: str, name: str
    ) -> DataElement | None:
        if tag == PIXEL_DATA:
            if name != PIXEL_KEYWORD:
                self.problem(
                    number, col, f"=({name}) on pixel data: only =MEMORYBASED may stand there"
                )
            elif len(self.stack) > 1 or vr not in ("OB", "OW"):
                self.problem(
                    number, col, "=MEMORYBASED stands only on top-level (7fe0,0010) OB or OW"
                )
            else:
                self.pixel_slots += 1
                self.slots.append(Slot(PIXEL_KEYWORD, tag, vr, (), number))
                return DataElement(tag, vr, b"")
            return None
        if vr != "UI":
            self.problem(
                number,
                col,
                f"=file references ({'=' + name}) are refused in templates; write the value itself",
            )
            return None
        uid = DCMTK_UID_NAMES.get(name)
        if uid is None:
            close = difflib.get_close_matches(name, DCMTK_UID_NAMES, n=1)
            hint = f"; did you mean ={close[0]}?" if close else ""
            self.problem(number, col, f"unknown DCMTK UID name ={name}{hint}")
            return None
        return DataElement(tag, vr, UID(uid))

    def string_value(
        self, number: int, col: int, tag: int, vr: str, value: _Value
    ) -> DataElement | None:
        raw = value.text.encode("latin-1")
        delimiters = {0x5C, 0x5E, 0x3D} if vr == "PN" else {0x5C}
        text = decode_bytes(raw, self.encodings, delimiters)
        values = split_values(vr, text)
        hint = self.misspelt_keyword(tag, vr, text)
        if hint:
            self.problem(number, col, hint)
            return None
        problem = strings_problem(vr, values)
        if problem:
            self.problem(number, col, problem)
            return None
        return DataElement(tag, vr, values if len(values) > 1 else values[0])

    def number_value(
        self, number: int, col: int, tag: int, vr: str, text: str
    ) -> DataElement | None:
        try:
            numbers = parse_numbers(vr, text)
        except ValueError as exc:
            hint = self.misspelt_keyword(tag, vr, text) or f"{exc}"
            self.problem(number, col, hint)
            return None
        if vr in ("OL", "OV", "OF", "OD"):
            fmt = {"OL": "L", "OV": "Q", "OF": "f", "OD": "d"}[vr]
            return DataElement(tag, vr, struct.pack(f"{self.order()}{len(numbers)}{fmt}", *numbers))
        return DataElement(tag, vr, numbers if len(numbers) > 1 else numbers[0])

    def misspelt_keyword(self, tag: int, vr: str, text: str) -> str | None:
        """A did-you-mean message for a value that looks like a misspelt keyword."""
        if not KEYWORD_LIKE.fullmatch(text):
            return None
        if vr in STRING_VRS:  # literal text is common there: only guess at a keyword's home
            fitting = [k.name for k in KEYWORDS.values() if k.home == tag]
        else:
            fitting = [k.name for k in KEYWORDS.values() if fit_problem(k, tag, vr) is None]
        close = difflib.get_close_matches(text, fitting, n=1, cutoff=0.75)
        if not close and vr in STRING_VRS:
            return None
        where = f"({tag >> 16:04x},{tag & 0xFFFF:04x}) {vr}"
        hint = f"; did you mean {close[0]}?" if close else ""
        return f"unknown keyword '{text}' in {where}{hint}"

    def order(self) -> str:
        syntax = self.dataset.file_meta.get("TransferSyntaxUID", "")
        return ">" if str(syntax or "") == BIG_ENDIAN_SYNTAX else "<"

    def hex_bytes(self, number: int, value: _Value) -> bytes | None:
        if value.form != "token" or not HEX_BYTES.fullmatch(value.text):
            self.problem(number, value.column, "binary value must be hex bytes 00\\01\\...")
            return None
        return bytes.fromhex(value.text.replace("\\", ""))

    def words_value(self, number: int, col: int, tag: int, value: _Value) -> DataElement | None:
        if value.form != "token" or not HEX_WORDS.fullmatch(value.text):
            self.problem(number, col, "OW value must be hex words 0000\\ffff\\...")
            return None
        words = bytes.fromhex(value.text.replace("\\", ""))  # big-endian words as printed
        if self.order() == "<":
            swapped = bytearray(words)
            swapped[0::2], swapped[1::2] = words[1::2], words[0::2]
            words = bytes(swapped)
        return DataElement(tag, "OW", words)


def parse_dump(data: bytes | str, source: str = "<template>") -> Template:
    """Parse dump text (bytes in the file's character set, or str) into a Template."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return _Parser(data, source).run()


def parse_template(data: bytes | str, source: str = "<template>") -> Template:
    """Parse a template: a dump that also holds exactly one =MEMORYBASED pixel data."""
    parser = _Parser(data.encode("utf-8") if isinstance(data, str) else data, source)
    try:
        template = parser.run()
    except TemplateError:
        _require_pixel_slot(parser)
        raise parser.error() from None
    _require_pixel_slot(parser)
    if parser.problems:
        raise parser.error()
    return template


def _require_pixel_slot(parser: _Parser) -> None:
    if parser.pixel_slots == 0:
        parser.problem(
            1, 1, "no (7fe0,0010) OW =MEMORYBASED line: a template must say where the pixel data go"
        )
    elif parser.pixel_slots > 1:
        parser.problem(1, 1, "=MEMORYBASED stands more than once; keep one")


def checked_template(data: bytes | str, source: str = "<template>") -> Template:
    """Parse a template and run the semantic pass on it (`semantics.semantic_problems`):
    a template that save can make correct files from, or one TemplateError with every
    problem."""
    template = parse_template(data, source)
    problems = semantic_problems(template)
    if problems:
        raise TemplateError(problems)
    return template


def read_template(path: str | Path) -> Template:
    """Read a template file and check it (grammar, values, then the semantic pass)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read the template: {exc.strerror}") from None
    return checked_template(data, str(path))
