"""The template library: user folders first, then the bundled templates."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import VinciError
from .model import Template, TemplateInfo, parse_info
from .parser import read_template

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "templates"
PATH_VARIABLE = "NIPYPE_VINCI_TEMPLATE_PATH"
SUFFIX = ".dump"


def search_folders(extra: list[str] | None = None) -> list[Path]:
    """Folders searched in order: ``extra``, then $NIPYPE_VINCI_TEMPLATE_PATH, then bundled."""
    env = [p for p in os.environ.get(PATH_VARIABLE, "").split(os.pathsep) if p]
    return [Path(p) for p in (extra or [])] + [Path(p) for p in env] + [BUNDLED]


def read_info(path: Path) -> TemplateInfo:
    """The metadata of a template file, read from its leading comment lines only."""
    values: dict[str, str] = {}
    with open(path, "rb") as handle:
        for raw in handle:
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("#"):
                break
            if line.startswith("# nipype-vinci:"):
                values.update(parse_info(line.partition(":")[2])[0])  # check-template: strict
    return TemplateInfo(**{"name": path.stem, **values, "path": str(path)})


def list_templates(extra: list[str] | None = None) -> list[TemplateInfo]:
    """Every template found, a name shadowed by an earlier folder listed once."""
    found: dict[str, TemplateInfo] = {}
    for folder in search_folders(extra):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob(f"*{SUFFIX}")):
            info = read_info(path)
            found.setdefault(info.name, info)
    return list(found.values())


def find_template(name_or_path: str, extra: list[str] | None = None) -> Path:
    """A template file by path or by library name; the error lists what exists."""
    candidate = Path(name_or_path)
    if candidate.suffix == SUFFIX or os.sep in name_or_path:
        if not candidate.is_file():
            raise VinciError(
                f"template file {name_or_path} does not exist; give a .dump file "
                "or a name from `nipype-vinci templates`"
            )
        return candidate
    templates = list_templates(extra)
    for info in templates:
        if info.name == name_or_path:
            return Path(info.path)
    names = ", ".join(info.name for info in templates) or "none"
    raise VinciError(
        f"unknown template {name_or_path!r}; known templates: {names} (or give a .dump file)"
    )


def load_template(name_or_path: str, extra: list[str] | None = None) -> Template:
    """Find and parse a template, its library metadata filled in."""
    return read_template(find_template(name_or_path, extra))


def select_template(
    modality: str, manufacturer: str = "", model: str = "", extra: list[str] | None = None
) -> TemplateInfo:
    """The first template of ``modality`` whose manufacturer and model contain the query
    (case-insensitive); the error lists what exists."""
    templates = list_templates(extra)

    def matches(info: TemplateInfo) -> bool:
        return (
            info.modality.upper() == modality.upper()
            and manufacturer.lower() in info.manufacturer.lower()
            and model.lower() in info.model.lower()
        )

    for info in templates:
        if matches(info):
            return info
    known = "; ".join(f"{i.name} ({i.modality}, {i.manufacturer}, {i.model})" for i in templates)
    query = ", ".join(v for v in (modality, manufacturer, model) if v)
    raise VinciError(f"no template matches {query}; known templates: {known or 'none'}")
