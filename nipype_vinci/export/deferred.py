"""Hold SIGINT, SIGTERM and SIGHUP back while files are being set up or cleaned up.

A signal's Python handler (KeyboardInterrupt, or the command's own) runs between any two
bytecodes; one that ran between making a folder and noting it for cleanup would leave the
folder behind. While held, a signal is only recorded; on release the handlers come back and
the first signal recorded is handed to its handler then, at a point where cleanup is sure.
"""

from __future__ import annotations

import os
import signal
import threading

SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Deferral:
    """``hold()`` starts recording the signals, ``release()`` delivers the first one; both
    may be called again. Only the main thread handles signals: elsewhere both do nothing."""

    def __init__(self) -> None:
        self._previous: dict[int, object] = {}
        self._pending: list[int] = []

    def hold(self) -> None:
        if self._previous or threading.current_thread() is not threading.main_thread():
            return
        for signum in SIGNALS:
            handler = signal.getsignal(signum)
            if handler is not None:  # None: a handler set outside Python, left alone
                self._previous[signum] = handler
                signal.signal(signum, self._record)

    def _record(self, signum: int, frame: object) -> None:
        self._pending.append(signum)

    def release(self) -> None:
        previous, self._previous = self._previous, {}
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if not self._pending:
            return
        signum, self._pending = self._pending[0], []
        handler = previous.get(signum)
        if callable(handler):
            handler(signum, None)
        elif handler == signal.SIG_DFL:
            os.kill(os.getpid(), signum)
