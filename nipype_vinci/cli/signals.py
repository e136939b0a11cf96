"""SIGINT, SIGTERM and SIGHUP end a command the way Ctrl-C does: through every cleanup.

Each raises ``Interrupted`` (a KeyboardInterrupt, so code that cleans up after Ctrl-C cleans
up after the others too) once; a second signal while that cleanup runs is ignored, so it
cannot cut the cleanup short.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from ..export.deferred import SIGNALS


class Interrupted(KeyboardInterrupt):
    """The process received ``signum``."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


@contextlib.contextmanager
def interruptible() -> Iterator[list[int]]:
    """Within the block, the signals raise ``Interrupted`` (only in the main thread, the one
    Python delivers signals to); the previous handlers come back after it. Yields the list
    of signals received (at most one), for code that sees the interruption turned into
    another error (an import cut short says ImportError)."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, frame: object) -> None:
        if not received:
            received.append(signum)
            raise Interrupted(signum)

    previous = {signum: signal.signal(signum, handler) for signum in SIGNALS}
    try:
        yield received
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
