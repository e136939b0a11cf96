"""The parsed template: a pydicom Dataset plus the keyword slots that stand in it."""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field, fields

from pydicom.dataset import Dataset

PIXEL_DATA = 0x7FE00010
BIG_ENDIAN_SYNTAX = "1.2.840.10008.1.2.2"

# A path from the top data set to an element: (tag, item index) steps, then the tag.
ElementPath = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Slot:
    """A keyword standing as the whole value of one element."""

    keyword: str
    tag: int
    vr: str
    parents: ElementPath = ()
    line: int = 0

    @property
    def top_level(self) -> bool:
        return not self.parents


@dataclass(frozen=True)
class TemplateInfo:
    """A template's identity: its metadata line (name, modality, manufacturer, model, source,
    licence) and, for a file of the library, its path."""

    name: str = ""
    modality: str = ""
    manufacturer: str = ""
    model: str = ""
    source: str = ""
    licence: str = ""
    path: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def line(self) -> bytes | None:
        """The metadata line of a template file (None when there is nothing to say)."""
        words = [
            f"{f.name}={shlex.quote(getattr(self, f.name))}"
            for f in fields(self)
            if f.name != "path" and getattr(self, f.name)
        ]
        return ("# nipype-vinci: " + " ".join(words)).encode("utf-8") if words else None


def parse_info(text: str) -> tuple[dict[str, str], list[str]]:
    """The key=value words of a metadata line, and its problems (each a message)."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        return {}, [f"metadata line: {exc}; quote values with spaces"]
    values, problems = {}, []
    known = {f.name for f in fields(TemplateInfo)} - {"path"}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            problems.append(f"metadata line: {word!r} is not key=value")
        elif key not in known:
            problems.append(
                f"metadata line: unknown key {key!r}; known: {', '.join(sorted(known))}"
            )
        else:
            values[key] = value
    return values, problems


@dataclass
class Template:
    """A data set (with ``file_meta``) whose slot elements are empty until filled."""

    dataset: Dataset
    slots: list[Slot] = field(default_factory=list)
    info: TemplateInfo = field(default_factory=TemplateInfo)
    source: str = "<template>"
    lines: dict[tuple[ElementPath, int], int] = field(default_factory=dict)  # element -> line

    @property
    def keywords(self) -> set[str]:
        return {slot.keyword for slot in self.slots}

    @property
    def name(self) -> str:
        return self.info.name or self.source

    @property
    def modality(self) -> str:
        return self.info.modality or str(self.dataset.get("Modality", ""))


def container(dataset: Dataset, parents: ElementPath) -> Dataset:
    """The data set (top level or an item) that holds an element at ``parents``."""
    for tag, index in parents:
        dataset = dataset[tag].value[index]
    return dataset
