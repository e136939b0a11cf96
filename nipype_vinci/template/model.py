"""The parsed template: a pydicom Dataset plus the keyword slots that stand in it."""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass
class Template:
    """A data set (with ``file_meta``) whose slot elements are empty until filled."""

    dataset: Dataset
    slots: list[Slot] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)
    source: str = "<template>"

    @property
    def keywords(self) -> set[str]:
        return {slot.keyword for slot in self.slots}

    @property
    def name(self) -> str:
        return self.info.get("name", self.source)

    @property
    def modality(self) -> str:
        return self.info.get("modality") or str(self.dataset.get("Modality", ""))


def container(dataset: Dataset, parents: ElementPath) -> Dataset:
    """The data set (top level or an item) that holds an element at ``parents``."""
    for tag, index in parents:
        dataset = dataset[tag].value[index]
    return dataset
