"""De-identification actions: PS3.15 Table E.1-1 (basic profile), one action per element.

How an action is chosen (`action_for`):

1. Deliberate deviations from the table (`KEPT`): code-table versions (Context Group Version
   and Local Version) are kept; they date a code table, not a patient, and the Enhanced Code
   Sequence Macro needs them (Type 1C). Keyword homes never get here: make-template turns
   them into keywords first (the patient characteristics among them), so they carry the
   user's values, never the source's.
2. The table's code. A compound code (X/Z, X/D, Z/D, X/Z/D, X/Z/U*) names the action for
   each type the attribute has in some IOD: X for Type 3, Z for Type 2, D for Type 1. There
   is no IOD table here, so the type is judged from the standard and the data set:
   make-template accepts only classic single-frame image objects (see `volume_source`), in
   whose IODs the compound-coded attributes that are not keyword homes are Type 3 (General
   Equipment, General Series, SOP Common, General Image references) or Type 2 (Contrast/Bolus
   Agent, Z/D): so the first code applies. One fact of the data set overrides it: an
   attribute the source holds present but empty is Type 2 there (a conforming source never
   sends an empty Type 1, and an empty Type 3 is allowed to stay), so it stays empty (Z)
   when the code offers Z.
3. U (a UID): removed (X). A template is used for many exports, so a replacement UID written
   into it would be shared by all of them; the UIDs that the output needs are keywords.
   C (clean: keep a value of similar meaning without identifying information) cannot be
   done without reading the text, so it removes (X); the basic profile itself has no C.
4. Beyond the table, a safety net for what it cannot list (vendor and retired attributes):
   a UID that is not a standard one (class, transfer syntax, coding scheme) is removed, a
   person name is emptied, and any date or time is removed.
"""

from __future__ import annotations

from pydicom.dataelem import DataElement
from pydicom.uid import UID_dictionary

from .deid_table import ACTIONS, MASKED_ACTIONS

REMOVE, EMPTY, DUMMY, KEEP = "X", "Z", "D", "K"
KEPT = {
    0x00080106: "Context Group Version",
    0x00080107: "Context Group Local Version",
}
DATE_TIME_VRS = frozenset(["DA", "TM", "DT"])
DUMMY_TEXT = "ANONYMIZED"
_DUMMIES = {
    "AS": "000D",
    "DS": "0",
    "IS": "0",
}
_TEXT_VRS = frozenset(["AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UT"])
_NUMBER_VRS = frozenset(["US", "SS", "UL", "SL", "UV", "SV", "FL", "FD"])


def profile_code(tag: int) -> str | None:
    """The basic-profile code the table gives ``tag``; None when the table does not list it."""
    code = ACTIONS.get(tag)
    if code is not None:
        return code
    for mask, value, masked in MASKED_ACTIONS:
        if tag & mask == value:
            return masked
    return None


def resolve(code: str, element: DataElement) -> str:
    """One action of a (possibly compound) code, by the rule in the module docstring."""
    options = code.replace("*", "").split("/")
    if element.is_empty and EMPTY in options:
        return EMPTY
    return options[0]


def _standard_uids(element: DataElement) -> bool:
    values = element.value if element.VM > 1 else [element.value]
    return all(str(v) in UID_dictionary for v in values)


def action_for(element: DataElement) -> str:
    """What de-identification does with ``element``: X, Z, D or K."""
    tag = int(element.tag)
    if tag in KEPT:
        return KEEP
    code = profile_code(tag)
    if code is not None:
        action = resolve(code, element)
        return REMOVE if action in ("U", "C") else action
    if element.VR == "UI" and not element.is_empty and not _standard_uids(element):
        return REMOVE
    if element.VR == "PN":
        return EMPTY
    if element.VR in DATE_TIME_VRS:
        return REMOVE
    return KEEP


def dummy_value(vr: str) -> object | None:
    """A non-empty value consistent with ``vr`` that identifies no one (action D); None where
    a VR has no such value, and the element is then removed: UIDs, binary data, and dates and
    times (a dummy date is a wrong date that readers compute with, e.g. decay correction; no
    D-coded date is Type 1 in the classic image IODs a template comes from)."""
    if vr in _DUMMIES:
        return _DUMMIES[vr]
    if vr in _TEXT_VRS:
        return DUMMY_TEXT
    if vr in _NUMBER_VRS:
        return 0
    return None
