"""The template format: parse and write dcmdump text with keywords."""

from .model import Slot, Template
from .parser import parse_dump, parse_template, read_template
from .writer import dump_dataset, dump_template

__all__ = [
    "Slot",
    "Template",
    "dump_dataset",
    "dump_template",
    "parse_dump",
    "parse_template",
    "read_template",
]
