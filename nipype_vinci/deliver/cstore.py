"""DICOM C-STORE: a series over one association, or a few in parallel, each for exactly the
pairs of SOP class and transfer syntax the series' files hold (and Implicit VR Little Endian
beside uncompressed ones); each file's data set goes out as it lies on disk, or rewritten in
Implicit VR Little Endian when the receiver takes nothing else; every response checked."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from .association import MAX_CONTEXTS, Association, why
from .dimse import (
    C_STORE_RSP,
    COMMAND_FIELD,
    DUPLICATE_SOP_INSTANCE,
    ERROR_COMMENT,
    IMPLICIT_LITTLE_ENDIAN,
    RESPONDED_TO,
    STATUS,
    implicit_data_set,
    status_category,
    status_meaning,
    store_request,
)
from .report import FAILED, STORED, WARNING, FileResult
from .retry import PermanentFailure, TransientFailure
from .series import Instance, data_set
from .target import DicomNode


def store_files(
    node: DicomNode,
    results: list[FileResult],
    *,
    calling_aet: str,
    timeout: float,
    associations: int = 1,
) -> None:
    """Send the files; each result gets the receiver's status.

    The first association is opened before anything is sent; up to ``associations - 1`` more
    are tried beside it, and each takes the next file not yet taken. A receiver that refuses
    the extra ones (a limit of associations per AE title) or serves one at a time only makes
    the send slower: once every file is answered, extras still negotiating are given up.

    Raises TransientFailure when the first association cannot be made, or when files are
    left unanswered because associations were lost (those results stay "not sent"), and
    PermanentFailure when another attempt would fail the same way.
    """
    pairs = proposed_contexts([r.instance for r in results])
    crew = _Crew(results)
    extras: list[threading.Thread] = []
    try:
        with Association.open(node, calling_aet, pairs, timeout) as first:
            if not first.accepted:
                refused = "; ".join(f"{_uid_name(sop)} in {_uid_name(ts)}" for sop, ts in pairs)
                raise PermanentFailure(f"{node} accepts none of the SOP classes sent: {refused}")
            needed = set(first.accepted)
            extras = [
                threading.Thread(
                    target=_extra, args=(crew, node, calling_aet, pairs, needed, timeout)
                )
                for _ in range(min(associations, len(results)) - 1)
            ]
            for thread in extras:
                thread.start()
            try:
                _store_all(first, crew)
            finally:
                crew.finish()
    finally:  # the first is released before the extras are waited for
        for thread in extras:
            thread.join()
    if crew.errors:  # the first association ended well; files an extra had taken are pending
        raise crew.errors[0]


EXTRA_CONNECT_SECONDS = 2.0  # an extra association that cannot connect sooner is not needed
# Uncompressed (or deflated) data sets pydicom rewrites in Implicit VR Little Endian when the
# receiver takes no other syntax for their SOP class; compressed ones go only as they are.
CONVERTIBLE = {"1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99"}  # Explicit LE, Deflated


def proposed_contexts(instances: list[Instance]) -> list[tuple[str, str]]:
    """Each (SOP class, transfer syntax) the files hold, and Implicit VR Little Endian for
    each SOP class with a file that can go in it instead (when all fit one association)."""
    own = {(i.sop_class_uid, i.transfer_syntax_uid) for i in instances}
    fallbacks = {
        (i.sop_class_uid, IMPLICIT_LITTLE_ENDIAN)
        for i in instances
        if i.transfer_syntax_uid in CONVERTIBLE
    }
    return sorted(own | fallbacks if len(own | fallbacks) <= MAX_CONTEXTS else own)


class _Crew:
    """What the associations of one attempt share: the files, handed out one at a time to
    whichever is free, the extras still negotiating, and what went wrong in them."""

    def __init__(self, results: list[FileResult]) -> None:
        self._results: Iterator[FileResult] = iter(results)
        self._lock = threading.Lock()
        self._negotiating: set[Association] = set()
        self._finished = False
        self.errors: list[BaseException] = []

    def take(self) -> FileResult | None:
        with self._lock:
            return None if self._finished else next(self._results, None)

    def finish(self) -> None:
        """Hand out nothing more; give up the extras still negotiating."""
        with self._lock:
            self._finished = True
            for association in self._negotiating:
                association.interrupt()

    @contextlib.contextmanager
    def negotiating(self, association: Association) -> Iterator[bool]:
        """While an extra negotiates, ``finish`` can interrupt it; yields False when the
        attempt is already finished (nothing to negotiate for)."""
        with self._lock:
            if self._finished:
                yield False
                return
            self._negotiating.add(association)
        try:
            yield True
        finally:
            with self._lock:
                self._negotiating.discard(association)


def _extra(
    crew: _Crew,
    node: DicomNode,
    calling_aet: str,
    pairs: list[tuple[str, str]],
    needed: set[tuple[str, str]],
    timeout: float,
) -> None:
    """One extra association: it sends only when the receiver accepts it at once and takes
    every context the first one got; else the others take its share."""
    try:
        association = Association.connect(node, timeout, min(timeout, EXTRA_CONNECT_SECONDS))
    except TransientFailure:
        return
    try:
        with crew.negotiating(association) as wanted:
            if wanted:
                association.negotiate(calling_aet, pairs)
    except (TransientFailure, PermanentFailure):
        association.abort()  # refused, or given up
        return
    if not wanted:
        association.close()
        return
    if not needed <= set(association.accepted):
        association.release()
        return
    try:
        with association:
            _store_all(association, crew)
    except BaseException as error:  # raised again in the calling thread
        crew.errors.append(error)


def _store_all(association: Association, crew: _Crew) -> None:
    message_id = 0
    while (result := crew.take()) is not None:
        message_id = message_id % 0xFFFF + 1
        _store_one(association, message_id, result)


def _store_one(association: Association, message_id: int, result: FileResult) -> None:
    instance = result.instance
    node = association.node
    own = (instance.sop_class_uid, instance.transfer_syntax_uid)
    fallback = (instance.sop_class_uid, IMPLICIT_LITTLE_ENDIAN)
    converted = own not in association.accepted and instance.transfer_syntax_uid in CONVERTIBLE
    context = association.accepted.get(fallback if converted else own)
    if context is None:
        result.outcome = FAILED
        result.reason = (
            f"{node} refused {_uid_name(instance.sop_class_uid)} "
            f"in {_uid_name(instance.transfer_syntax_uid)}"
            + (" and in Implicit VR Little Endian" if converted else "")
        )
        return
    try:
        data = _implicit(instance) if converted else data_set(instance.path)
    except Exception as exc:  # OSError, or pydicom's many kinds for a file changed since
        result.outcome, result.reason = FAILED, f"cannot read it any more ({why(exc)})"
        return
    request = store_request(message_id, instance.sop_class_uid, instance.sop_instance_uid)
    association.send_message(context, request, data)
    result.sent_as = IMPLICIT_LITTLE_ENDIAN if converted else ""
    sent_before, result.unanswered = result.unanswered, True  # until its answer is read
    response, _ = association.receive_message()
    if response.get(COMMAND_FIELD) != C_STORE_RSP or response.get(RESPONDED_TO) != message_id:
        raise TransientFailure(f"{node} answered something other than this C-STORE")
    if STATUS not in response:
        raise TransientFailure(f"{node} answered the C-STORE without a status")
    result.unanswered = False
    _record(result, response, node, sent_before)


def _implicit(instance: Instance) -> bytes:
    """The file's data set rewritten in Implicit VR Little Endian (for a receiver that takes
    no other syntax: many older ones)."""
    import pydicom

    return implicit_data_set(pydicom.dcmread(instance.path))


def _record(result: FileResult, response: dict, node: DicomNode, sent_before: bool) -> None:
    """The receiver's answer as the file's outcome. ``sent_before``: an attempt before sent
    the whole file and lost its answer, so a duplicate is most likely that copy."""
    code = int(response[STATUS])
    result.status = f"0x{code:04X}"
    again = sent_before and code == DUPLICATE_SOP_INSTANCE
    comment = str(response.get(ERROR_COMMENT, "")).strip()
    said = f"{node} answered {result.status} ({status_meaning(code)}"
    said += f"; {comment})" if comment else ")"
    category = status_category(code)
    if again:
        result.outcome = WARNING
        result.reason = f"{said}: sent by the attempt before, whose answer was lost"
    elif category == "Success":
        result.outcome = STORED
    elif category == "Warning":
        result.outcome, result.reason = WARNING, said
    else:
        result.outcome, result.reason = FAILED, said


def _uid_name(uid: str) -> str:
    from pydicom.uid import UID

    name = UID(uid).name
    return uid if name == uid else f"{name} ({uid})"
