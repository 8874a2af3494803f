"""The engine worker: one thread that owns the model and runs jobs in order.

The GUI thread never touches the model. It submits work here and gets callbacks (on this
worker's thread; the GUI turns them into Qt signals). Questions have priority: a question asked
while a book is being memorized is answered between two training chunks instead of waiting for
the whole book.

The worker builds its own Session inside its thread: one library connection per thread
(app/dbconn.py).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.answer.compare import run_compare
from app.answer.pipeline import AnswerRequest, run_answer
from app.devices import lower_this_thread
from app.memorize.job import JobControl, MemorizeRequest, run_memorize
from app.session import Session

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


@dataclass
class _Task:
    fn: Callable[[Session], Any]
    on_done: Done | None
    on_error: Failed | None
    control: JobControl | None = None


class EngineWorker:
    def __init__(self, session_factory: Callable[[], Session] = Session) -> None:
        self._session_factory = session_factory
        self._jobs: queue.Queue[_Task | None] = queue.Queue()
        self._questions: queue.Queue[_Task] = queue.Queue()
        self._current: _Task | None = None
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self.session: Session | None = None
        self._start_error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="locas-engine", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._start_error is not None:  # e.g. a damaged library: the caller shows the sentence
            raise self._start_error

    # -- submitting (any thread) -------------------------------------------------------------
    def submit(self, fn: Callable[[Session], Any], on_done: Done | None = None,
               on_error: Failed | None = None) -> None:
        """Run fn(session) on the worker thread after the jobs before it."""
        self._jobs.put(_Task(fn, on_done, on_error))

    def submit_memorize(self, request: MemorizeRequest, on_event=None, control: JobControl | None = None,
                        on_done: Done | None = None, on_error: Failed | None = None) -> JobControl:
        control = control or JobControl()
        task = _Task(lambda s: run_memorize(s, request, on_event, control, self._serve_questions),
                     on_done, on_error, control)
        self._jobs.put(task)
        return control

    def submit_answer(self, request: AnswerRequest, on_token=None, on_done: Done | None = None,
                      on_error: Failed | None = None, control: JobControl | None = None,
                      on_citations=None) -> JobControl:
        """Answers jump the queue: served next, or between two chunks of a running memorization."""
        control = control or JobControl()
        self._questions.put(_Task(lambda s: run_answer(s, request, on_token, control, on_citations),
                                  on_done, on_error, control))
        self._jobs.put(_Task(lambda s: None, None, None))  # wake the loop if it is idle
        return control

    def submit_compare(self, request_a: AnswerRequest, request_b: AnswerRequest, on_token=None,
                       on_citations=None, on_answer=None, on_failed=None, on_done: Done | None = None,
                       on_error: Failed | None = None, control: JobControl | None = None) -> JobControl:
        """Two answers written at once (app/answer/compare.py); like an answer, it jumps the queue.
        Callbacks get the side ("a" or "b") first; ``on_done`` gets the Comparison."""
        control = control or JobControl()
        self._questions.put(_Task(lambda s: run_compare(s, request_a, request_b, on_token, control,
                                                        on_citations, on_answer, on_failed),
                                  on_done, on_error, control))
        self._jobs.put(_Task(lambda s: None, None, None))  # wake the loop if it is idle
        return control

    @property
    def busy(self) -> bool:
        return self._current is not None and self._current.control is not None

    def shutdown(self, timeout: float | None = 30.0) -> None:
        """Cancel running work (a memorization checkpoints as it stops) and end the thread."""
        self._stopping.set()
        if self._current is not None and self._current.control is not None:
            self._current.control.cancel()
        self._jobs.put(None)
        self._thread.join(timeout)

    # -- the thread --------------------------------------------------------------------------
    def _loop(self) -> None:
        lower_this_thread()  # before torch starts its threads from this one
        try:
            self.session = self._session_factory()
        except BaseException as exc:
            self._start_error = exc
            return
        finally:
            self._ready.set()
        try:
            while True:
                task = self._jobs.get()
                self._serve_questions()
                if task is None or self._stopping.is_set():
                    break
                self._current = task
                self._run(task)
                self._current = None
        finally:
            self.session.library.close()

    def _serve_questions(self) -> None:
        while not self._stopping.is_set():
            try:
                task = self._questions.get_nowait()
            except queue.Empty:
                return
            self._run(task)

    def _run(self, task: _Task) -> None:
        try:
            result = task.fn(self.session)
        except BaseException as exc:  # reported to the caller, never lost in the thread
            log.debug("job failed", exc_info=True)
            if task.on_error is not None:
                task.on_error(exc)
            else:
                log.error("Background job failed: %s", exc)
            return
        if task.on_done is not None:
            task.on_done(result)
