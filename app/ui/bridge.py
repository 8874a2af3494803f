"""Qt signals for the engine's streaming jobs: memorize, answer and compare.

`app.worker.EngineWorker` calls a job's callbacks on its own thread, where no widget may be
touched. Each callback here only hands its value to `TaskManager.post`, the one way back to the
GUI thread (app/ui/taskman.py), which then emits the signal there; failures arrive as sentences,
like every other ``on_error``.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import QObject, Signal

from app.answer.pipeline import AnswerRequest
from app.memorize.job import JobControl, MemorizeRequest
from app.ui.taskman import TaskManager, user_message


class EngineBridge(QObject):
    """Submits jobs to the engine worker and re-emits their callbacks as GUI-thread signals."""

    memorize_event = Signal(object)  # app.memorize.job.MemorizeEvent, once per phase change / chunk
    memorize_finished = Signal(object)  # app.memorize.job.MemorizeOutcome
    memorize_failed = Signal(str, str)  # memory name, message for a person
    answer_token = Signal(int, str)  # ticket, text piece
    answer_citations = Signal(int, object)  # ticket, [Passage], before the first token
    answer_finished = Signal(int, object)  # ticket, app.answer.pipeline.Answer
    answer_failed = Signal(int, str)  # ticket, message

    def __init__(self, tasks: TaskManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.worker = tasks.worker
        self._tickets = itertools.count(1)

    # -- memorize -----------------------------------------------------------------------------
    def memorize(self, request: MemorizeRequest, control: JobControl | None = None) -> JobControl:
        """Queue a memorization; its events arrive through `memorize_event`."""
        name = request.memory
        post = self.tasks.post
        return self.worker.submit_memorize(
            request,
            on_event=lambda event: post(self.memorize_event.emit, event),
            control=control,
            on_done=lambda outcome: post(self.memorize_finished.emit, outcome),
            on_error=lambda exc: post(self.memorize_failed.emit, name, user_message(exc)),
        )

    # -- answer -------------------------------------------------------------------------------
    def ask(self, request: AnswerRequest) -> tuple[int, JobControl]:
        """Queue a question; pieces arrive through `answer_token` tagged with the returned ticket."""
        ticket = next(self._tickets)
        post = self.tasks.post
        control = self.worker.submit_answer(
            request,
            on_token=lambda piece: post(self.answer_token.emit, ticket, piece),
            on_done=lambda answer: post(self.answer_finished.emit, ticket, answer),
            on_error=lambda exc: post(self.answer_failed.emit, ticket, user_message(exc)),
            on_citations=lambda passages: post(self.answer_citations.emit, ticket, passages),
        )
        return ticket, control

    def compare(self, request_a: AnswerRequest, request_b: AnswerRequest) -> tuple[int, int, JobControl]:
        """Queue two answers written at once (app/answer/compare.py); each side streams through the
        same signals as a single answer, under its own ticket, and one control stops both."""
        tickets = {"a": next(self._tickets), "b": next(self._tickets)}
        post = self.tasks.post

        def failed_both(exc: BaseException) -> None:  # the job itself failed: neither side is written
            message = user_message(exc)
            for ticket in tickets.values():
                post(self.answer_failed.emit, ticket, message)

        control = self.worker.submit_compare(
            request_a, request_b,
            on_token=lambda side, piece: post(self.answer_token.emit, tickets[side], piece),
            on_citations=lambda side, passages: post(self.answer_citations.emit, tickets[side], passages),
            on_answer=lambda side, answer: post(self.answer_finished.emit, tickets[side], answer),
            on_failed=lambda side, message: post(self.answer_failed.emit, tickets[side], message),
            on_error=failed_both,
        )
        return tickets["a"], tickets["b"], control
