"""Make a template file from a scan file: the one library call of make-template (CLI, node)."""

from __future__ import annotations

from pathlib import Path

from ..dicomio import read_dicom
from ..errors import VinciError, field_error
from .make import MadeTemplate, build_template
from .parser import checked_template
from .writer import dump_template


def make_template_file(
    scan: str | Path,
    output: str | Path,
    *,
    name: str | None = None,
    keep_private: bool = False,
    source: str = "",
    licence: str = "",
    overwrite: bool = False,
) -> MadeTemplate:
    """De-identify ``scan`` into a template written at ``output`` (checked as check-template
    would before a byte is written); the template and the warnings to show."""
    output = Path(output)
    try:
        made = build_template(
            read_dicom(scan),
            name or output.stem,
            keep_private=keep_private,
            source=source or Path(scan).name,
            licence=licence,
        )
    except VinciError as error:  # a scan that cannot be a template: name the file
        raise VinciError([f"{scan}: {line}" for line in error.problems]) from None
    text = dump_template(made.template)
    checked_template(text, str(output))  # what we write must pass check-template
    if output.exists() and not overwrite:
        raise field_error("overwrite", f"{output} exists; choose another name or allow overwriting")
    try:
        output.write_bytes(text)
    except OSError as exc:
        raise VinciError(f"{output}: cannot write ({exc.strerror})") from None
    return made


def template_for_scan(scan: str | Path, made: str | Path, extra: list[str] | None = None) -> Path:
    """The template of a scan's scanner: the library's (by modality, manufacturer and model),
    else one made from the scan itself at ``made``."""
    from .library import select_template

    dataset = read_dicom(scan, pixels=False)
    try:
        return Path(
            select_template(
                str(dataset.get("Modality", "")),
                str(dataset.get("Manufacturer", "")),
                str(dataset.get("ManufacturerModelName", "")),
                extra,
            ).path
        )
    except VinciError:
        make_template_file(scan, made, name=Path(made).stem, overwrite=True)
        return Path(made)
