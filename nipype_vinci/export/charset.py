"""The character set of a series: the template's when every value fits it, else UTF-8.

Values are Unicode (DESIGN section 7): no value is ever replaced by ``?``.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from dataclasses import dataclass

from pydicom.charset import convert_encodings
from pydicom.dataset import Dataset

UTF8 = "ISO_IR 192"
LATIN1 = "ISO_IR 100"


@dataclass(frozen=True)
class CharacterSet:
    """The SpecificCharacterSet a series is written with (None: the default repertoire)."""

    value: str | list[str] | None
    changed: bool = False

    def apply(self, dataset: Dataset) -> None:
        """Set the data set's SpecificCharacterSet when it must differ from the template's."""
        if self.changed:
            dataset.SpecificCharacterSet = self.value


def _terms(value: object) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _fits(terms: list[str], text: str) -> bool:
    """Whether ``text`` encodes in a single-byte character set without loss."""
    if text.isascii():
        return True
    if len(terms) != 1:  # the default repertoire, or ISO 2022 code extensions: leave to UTF-8
        return False
    try:
        codecs.encode(text, convert_encodings(terms)[0])
    except (UnicodeEncodeError, LookupError):
        return False
    return True


TEXT_VRS = frozenset(["SH", "LO", "ST", "LT", "UT", "UC", "PN"])  # those the charset encodes


def _own_texts(template: Dataset) -> list[str]:
    """The template's literal values beyond ASCII (a scanner's Latin-1 institution name)."""
    found = (str(e.value) for e in template.iterall() if e.VR in TEXT_VRS and e.value)
    return [text for text in found if not text.isascii()]


def choose_charset(template: Dataset, texts: Iterable[str]) -> CharacterSet:
    """The template's character set when every text fits it, else ISO_IR 192. A template
    without the element has the default repertoire (ASCII): a text beyond it gets ISO_IR
    192. The SPECIFICCHARACTERSET keyword (an empty element) is VINCI's Latin-1: it gets
    ISO_IR 100 where a text needs more than ASCII and Latin-1 holds it."""
    texts = [*texts, *_own_texts(template)]
    template_value = template.get("SpecificCharacterSet")
    if "SpecificCharacterSet" not in template:
        if all(text.isascii() for text in texts):
            return CharacterSet(None)
        return CharacterSet(UTF8, changed=True)
    terms = _terms(template_value) or [LATIN1]
    if terms == [UTF8] or all(_fits(terms, text) for text in texts):
        needed = not template_value and not all(text.isascii() for text in texts)
        return CharacterSet(template_value or LATIN1, changed=needed)
    return CharacterSet(UTF8, changed=True)
