"""Instances to bytes: one module per output kind or transfer syntax (DESIGN section 13).

``export/`` hands an encoder the filled series header and, file after file, the per-file
keyword values and the stored pixels; the encoder returns the pieces of each file.
"""

from __future__ import annotations

from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
)

from ..errors import field_error
from .compressed import DeflatedEncoder, EncapsulatedEncoder
from .native import SeriesEncoder

# The --transfer-syntax names and their UIDs (lossless only).
TRANSFER_SYNTAXES = {
    "explicit": ExplicitVRLittleEndian,
    "implicit": ImplicitVRLittleEndian,
    "deflated": DeflatedExplicitVRLittleEndian,
    "rle": RLELossless,
    "jpeg-ls": JPEGLSLossless,
    "j2k": JPEG2000Lossless,
}
# The encoder of each transfer syntax UID.
ENCODERS = {
    ExplicitVRLittleEndian: SeriesEncoder,
    ImplicitVRLittleEndian: SeriesEncoder,
    DeflatedExplicitVRLittleEndian: DeflatedEncoder,
    RLELossless: EncapsulatedEncoder,
    JPEGLSLossless: EncapsulatedEncoder,
    JPEG2000Lossless: EncapsulatedEncoder,
}


def transfer_syntax(requested: str | None, template_syntax: str | None, where: str) -> str:
    """The transfer syntax UID to write: the one asked for, else the template's (0002,0010),
    else Explicit VR Little Endian; one that no encoder writes is refused, never ignored."""
    if requested is not None:
        if requested not in TRANSFER_SYNTAXES:
            raise field_error(
                "transfer_syntax",
                f"{requested!r} is not one of {', '.join(TRANSFER_SYNTAXES)}",
            )
        return TRANSFER_SYNTAXES[requested]
    if not template_syntax:
        return ExplicitVRLittleEndian
    if template_syntax not in ENCODERS:
        raise field_error(
            "transfer_syntax",
            f"{where}: the template's transfer syntax {template_syntax} cannot be written; "
            f"choose one of {', '.join(TRANSFER_SYNTAXES)} (or change (0002,0010))",
        )
    return template_syntax


def encoder_for(syntax: str) -> type[SeriesEncoder]:
    """The encoder class of a transfer syntax UID."""
    return ENCODERS[syntax]
