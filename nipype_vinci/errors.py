"""The one exception type for user mistakes: each problem is one line, what, where, how to fix.

A problem about a user field names the field; each front end renders that name in its own
words (``--nan-value`` on the command line, ``input nan_value`` in Nipype).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem; ``field`` is the user field it concerns, if any."""

    text: str
    field: str | None = None

    def render(self, label: Callable[[str], str] | None = None) -> str:
        if self.field is None:
            return self.text
        return f"{(label or str)(self.field)}: {self.text}"


class VinciError(Exception):
    """A user mistake: one or more problems, each a line (str, or a Problem naming a field)."""

    exit_status = 2  # the command line's exit status for it

    def __init__(self, problems: str | Problem | list[str | Problem]):
        items = problems if isinstance(problems, list) else [problems]
        self.items = [p if isinstance(p, Problem) else Problem(p) for p in items]
        super().__init__("\n".join(self.problems))

    @property
    def problems(self) -> list[str]:
        """The problems as lines, fields named by their plain names."""
        return self.lines()

    def lines(self, label: Callable[[str], str] | None = None) -> list[str]:
        """The problems as lines, each field named by ``label`` (a front end's wording)."""
        return [p.render(label) for p in self.items]


def field_error(field: str, text: str) -> VinciError:
    """A user mistake in the value of one field."""
    return VinciError(Problem(text, field))


class TemplateError(VinciError):
    """A template (dump text) that breaks the template grammar."""


class SendIncomplete(VinciError):
    """A send that did not store every file; ``problems`` names the files."""

    exit_status = 3
