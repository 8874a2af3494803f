"""Run short core calls (import a file, rename, export) off the GUI thread.

The Anki pattern: a user action names the core call, what to do on success and on failure; the
call runs in a pool thread and its outcome comes back to the GUI thread through one signal, so
callbacks may touch widgets freely. Model work does not come here: it belongs to the engine
worker, which owns the model (see `app.ui.bridge`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

OnDone = Callable[[Any], None]
OnError = Callable[[BaseException], None]


class TaskManager(QObject):
    """A one-thread pool whose results are delivered on the GUI thread, in submission order."""

    _finished = Signal(object)  # (future, on_done, on_error), emitted from the pool thread
    busy_changed = Signal(int)  # number of tasks not yet finished, for a busy indicator

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # One worker keeps library writes ordered (an import then a rename of the same row).
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="locas-task")
        self._pending = 0
        self._finished.connect(self._deliver)

    def run(self, fn: Callable[[], Any], on_done: OnDone | None = None,
            on_error: OnError | None = None) -> Future:
        """Run ``fn()`` in the background; ``on_done(result)`` / ``on_error(exc)`` run on the GUI thread."""
        self._pending += 1
        self.busy_changed.emit(self._pending)
        future = self._pool.submit(fn)
        future.add_done_callback(lambda f: self._emit_safely((f, on_done, on_error)))
        return future

    def pending(self) -> int:
        return self._pending

    def shutdown(self) -> None:
        """Wait for running tasks (they are short) so nothing writes after the window closed."""
        self._pool.shutdown(wait=True)

    def _emit_safely(self, payload: tuple) -> None:
        try:
            self._finished.emit(payload)
        except RuntimeError:  # the QObject was deleted while the task ran (app closing)
            log.debug("task finished after the task manager was deleted")

    def _deliver(self, payload: tuple) -> None:
        future, on_done, on_error = payload
        self._pending -= 1
        self.busy_changed.emit(self._pending)
        exc = future.exception()
        if exc is None:
            if on_done is not None:
                on_done(future.result())
        elif on_error is not None:
            on_error(exc)
        else:
            log.error("background task failed", exc_info=exc)
