"""The one exception type for user mistakes: each problem is one line, what, where, how to fix."""

from __future__ import annotations


class VinciError(Exception):
    """A user mistake; ``problems`` holds one line per problem."""

    def __init__(self, problems: str | list[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class TemplateError(VinciError):
    """A template (dump text) that breaks the template grammar."""
