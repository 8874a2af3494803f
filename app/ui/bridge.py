"""Qt signals in front of the engine worker.

`app.worker.EngineWorker` calls its callbacks on its own thread, where no widget may be touched.
The bridge is a QObject living on the GUI thread: each callback only emits a signal, and Qt
queues the signal to the GUI thread (an automatic connection across threads is queued). Every
callback therefore does nothing but `emit`, which keeps the worker thread fast and the GUI
thread the only one that touches widgets.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.jobs import AnswerRequest, JobControl, MemorizeRequest

log = logging.getLogger(__name__)


def user_message(exc: BaseException) -> str:
    """A sentence to show a person: core errors already are one; anything else gets its type.

    Tracebacks go to the log, never to a message box.
    """
    from app.errors import UserError

    if isinstance(exc, UserError):
        return str(exc)
    log.error("unexpected error", exc_info=exc)
    text = str(exc).strip() or exc.__class__.__name__
    return f"Something went wrong: {text}"


class EngineBridge(QObject):
    """Submits jobs to the engine worker and re-emits their callbacks as GUI-thread signals."""

    memorize_event = Signal(object)  # app.jobs.MemorizeEvent, once per phase change / chunk
    memorize_finished = Signal(object)  # app.jobs.MemorizeOutcome
    memorize_failed = Signal(str, str)  # memory name, message for a person
    answer_token = Signal(int, str)  # ticket, text piece
    answer_citations = Signal(int, object)  # ticket, [Passage], before the first token
    answer_finished = Signal(int, object)  # ticket, app.jobs.Answer
    answer_failed = Signal(int, str)  # ticket, message
    _call_done = Signal(object)  # (callback, value) for `call`

    def __init__(self, worker: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self._tickets = itertools.count(1)
        self._call_done.connect(self._run_callback)

    # -- memorize -----------------------------------------------------------------------------
    def memorize(self, request: MemorizeRequest, control: JobControl | None = None) -> JobControl:
        """Queue a memorization; its events arrive through `memorize_event`."""
        name = request.memory

        def failed(exc: BaseException) -> None:
            self._emit(self.memorize_failed, name, user_message(exc))

        return self.worker.submit_memorize(
            request,
            on_event=lambda event: self._emit(self.memorize_event, event),
            control=control,
            on_done=lambda outcome: self._emit(self.memorize_finished, outcome),
            on_error=failed,
        )

    # -- answer -------------------------------------------------------------------------------
    def ask(self, request: AnswerRequest) -> tuple[int, JobControl]:
        """Queue a question; pieces arrive through `answer_token` tagged with the returned ticket."""
        ticket = next(self._tickets)
        control = self.worker.submit_answer(
            request,
            on_token=lambda piece: self._emit(self.answer_token, ticket, piece),
            on_done=lambda answer: self._emit(self.answer_finished, ticket, answer),
            on_error=lambda exc: self._emit(self.answer_failed, ticket, user_message(exc)),
            on_citations=lambda passages: self._emit(self.answer_citations, ticket, passages),
        )
        return ticket, control

    # -- anything else on the worker (load the model, export, resume) ---------------------------
    def call(self, fn: Callable[[Any], Any], on_done: Callable[[Any], None] | None = None,
             on_error: Callable[[str], None] | None = None) -> None:
        """Run ``fn(session)`` on the worker thread; callbacks run on the GUI thread."""
        self.worker.submit(
            fn,
            on_done=lambda value: self._emit(self._call_done, (on_done, value)),
            on_error=lambda exc: self._emit(self._call_done, (on_error, user_message(exc))),
        )

    def _run_callback(self, payload: tuple) -> None:
        callback, value = payload
        if callback is not None:
            callback(value)

    @staticmethod
    def _emit(signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # bridge deleted while the worker finished (app closing)
            log.debug("dropped a worker callback after the window closed")
