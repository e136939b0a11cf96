"""The template format: parse and write dcmdump text with keywords."""

from .model import Slot, Template
from .parser import checked_template, parse_dump, parse_template, read_template
from .writer import dump_dataset, dump_template

__all__ = [
    "Slot",
    "Template",
    "checked_template",
    "dump_dataset",
    "dump_template",
    "parse_dump",
    "parse_template",
    "read_template",
]
