"""DICOM C-STORE: a series over one association, or a few in parallel, each for exactly the
pairs of SOP class and transfer syntax the series' files hold; each file's data set goes out
as it lies on disk, every response status checked."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from .association import Association
from .dimse import (
    C_STORE_RSP,
    COMMAND_FIELD,
    ERROR_COMMENT,
    RESPONDED_TO,
    STATUS,
    status_category,
    status_meaning,
    store_request,
)
from .report import FAILED, STORED, WARNING, FileResult
from .retry import PermanentFailure, TransientFailure
from .series import data_set
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
    the extra ones (a limit of associations per AE title) only makes the send slower.

    Raises TransientFailure when the first association cannot be made, or when files are
    left unanswered because associations were lost (those results stay "not sent"), and
    PermanentFailure when another attempt would fail the same way.
    """
    pairs = sorted({(r.instance.sop_class_uid, r.instance.transfer_syntax_uid) for r in results})
    queue = _Files(results)
    lost: list[TransientFailure] = []
    with Association.open(node, calling_aet, pairs, timeout) as first:
        if not first.accepted:
            refused = "; ".join(f"{_uid_name(sop)} in {_uid_name(ts)}" for sop, ts in pairs)
            raise PermanentFailure(f"{node} accepts none of the SOP classes sent: {refused}")
        extra = [
            threading.Thread(target=_extra, args=(node, calling_aet, pairs, timeout, queue, lost))
            for _ in range(min(associations, len(results)) - 1)
        ]
        for thread in extra:
            thread.start()
        try:
            _store_all(first, queue)
        finally:
            for thread in extra:
                thread.join()
    if lost:  # the first association ended well; files an extra one had taken are pending
        raise lost[0]


class _Files:
    """The files to send, handed out one at a time to whichever association is free."""

    def __init__(self, results: list[FileResult]) -> None:
        self._results: Iterator[FileResult] = iter(results)
        self._lock = threading.Lock()

    def take(self) -> FileResult | None:
        with self._lock:
            return next(self._results, None)


def _extra(
    node: DicomNode,
    calling_aet: str,
    pairs: list[tuple[str, str]],
    timeout: float,
    queue: _Files,
    lost: list[TransientFailure],
) -> None:
    try:
        association = Association.open(node, calling_aet, pairs, timeout)
    except (TransientFailure, PermanentFailure):
        return  # the other associations take its share
    try:
        with association:
            _store_all(association, queue)
    except TransientFailure as failure:
        lost.append(failure)


def _store_all(association: Association, queue: _Files) -> None:
    message_id = 0
    while (result := queue.take()) is not None:
        message_id = message_id % 0xFFFF + 1
        _store_one(association, message_id, result)


def _store_one(association: Association, message_id: int, result: FileResult) -> None:
    instance = result.instance
    node = association.node
    context = association.accepted.get((instance.sop_class_uid, instance.transfer_syntax_uid))
    if context is None:
        result.outcome = FAILED
        result.reason = (
            f"{node} refused {_uid_name(instance.sop_class_uid)} "
            f"in {_uid_name(instance.transfer_syntax_uid)}"
        )
        return
    request = store_request(message_id, instance.sop_class_uid, instance.sop_instance_uid)
    association.send_message(context, request, data_set(instance.path))
    response, _ = association.receive_message()
    if response.get(COMMAND_FIELD) != C_STORE_RSP or response.get(RESPONDED_TO) != message_id:
        raise TransientFailure(f"{node} answered something other than this C-STORE")
    if STATUS not in response:
        raise TransientFailure(f"{node} answered the C-STORE without a status")
    _record(result, response, node)


def _record(result: FileResult, response: dict, node: DicomNode) -> None:
    code = int(response[STATUS])
    result.status = f"0x{code:04X}"
    comment = str(response.get(ERROR_COMMENT, "")).strip()
    said = f"{node} answered {result.status} ({status_meaning(code)}"
    said += f"; {comment})" if comment else ")"
    category = status_category(code)
    if category == "Success":
        result.outcome = STORED
    elif category == "Warning":
        result.outcome, result.reason = WARNING, said
    else:
        result.outcome, result.reason = FAILED, said


def _uid_name(uid: str) -> str:
    from pydicom.uid import UID

    name = UID(uid).name
    return uid if name == uid else f"{name} ({uid})"
