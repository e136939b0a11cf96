"""What every node of the package shares: inputs read as the library wants them, and the
library's user mistakes turned into one Nipype error naming the node and each input."""

from __future__ import annotations

from nipype.interfaces.base import SimpleInterface, isdefined

from ..errors import VinciError
from ..fields import input_label


def defined(value, default=None):
    """A trait's value, or ``default`` when it is not set."""
    return value if isdefined(value) else default


class LibraryInterface(SimpleInterface):
    """A node that calls one library function: ``_run`` returns its outputs; a VinciError
    becomes a ValueError "<Node>: input <name>: <problem>; ..." (each problem)."""

    def _run_interface(self, runtime):
        try:
            self._results.update(self._run(runtime))
        except VinciError as error:
            problems = "; ".join(error.lines(input_label))
            raise ValueError(f"{type(self).__name__}: {problems}") from None
        return runtime

    def _run(self, runtime) -> dict:
        """The node's work: its outputs by name."""
        raise NotImplementedError
