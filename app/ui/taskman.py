"""The one way the GUI runs work off its thread and comes back (Anki's taskman is the model).

A user action names the work, what to do with its result and what to do with a failure. The
work runs on one of two threads, chosen by what it touches:

* ``run``: the task thread, for short file and library work (import, rename, delete, search,
  copy a memory file). Work that needs the library uses ``library()``, the task thread's own
  connection (app/dbconn.py states the rule: one connection per thread).
* ``run_on_engine``: the engine worker, which owns the model (load it, resume, import a memory,
  export a merged model); `app.ui.bridge.EngineBridge` submits memorize and answer jobs there too.

Whichever thread ran it, the outcome comes back the same way: ``post`` emits one queued signal
and the callback runs on the GUI thread, so callbacks may touch widgets. ``on_done`` gets the
result; ``on_error`` always gets a sentence for a person (``user_message``); tracebacks go to
the log, never to a message box.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.devices import lower_this_thread
from app.errors import user_message

log = logging.getLogger(__name__)

OnDone = Callable[[Any], None]
OnError = Callable[[str], None]  # a sentence for a person


class TaskManager(QObject):
    """Runs work on the task thread or the engine worker and delivers outcomes on the GUI thread,
    in the order each thread finished them."""

    _deliver = Signal(object)  # (callback, args), emitted from any thread, handled on the GUI thread

    def __init__(self, *, worker: Any = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker  # app.worker.EngineWorker, or None where no model work is done
        # One thread keeps library writes ordered (an import, then a rename of the same row).
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="locas-task",
                                        initializer=lower_this_thread)
        self._local = threading.local()
        self._deliver.connect(self._run_callback)

    # -- coming back -----------------------------------------------------------------------------
    def post(self, callback: Callable[..., Any] | None, *args: Any) -> None:
        """Call ``callback(*args)`` on the GUI thread (safe to call from any thread)."""
        if callback is None:
            return
        try:
            self._deliver.emit((callback, args))
        except RuntimeError:  # the QObject was deleted while the work ran (the app is closing)
            log.debug("dropped a callback after the task manager was deleted")

    def _run_callback(self, payload: tuple) -> None:
        callback, args = payload
        callback(*args)

    def _fail(self, on_error: OnError | None, exc: BaseException) -> None:
        message = user_message(exc)
        if on_error is None:
            log.error("background work failed: %s", message)
        else:
            self.post(on_error, message)

    # -- going out -------------------------------------------------------------------------------
    def run(self, fn: Callable[[], Any], on_done: OnDone | None = None,
            on_error: OnError | None = None) -> Future:
        """Run ``fn()`` on the task thread (the future holds its result, None if it failed)."""

        def work() -> Any:
            try:
                result = fn()
            except Exception as exc:  # reported to the caller, never lost in the thread
                self._fail(on_error, exc)
                return None
            self.post(on_done, result)
            return result

        return self._pool.submit(work)

    def run_on_engine(self, fn: Callable[[Any], Any], on_done: OnDone | None = None,
                      on_error: OnError | None = None) -> None:
        """Run ``fn(session)`` on the engine worker, after the jobs queued before it."""
        self.worker.submit(fn, on_done=lambda value: self.post(on_done, value),
                           on_error=lambda exc: self._fail(on_error, exc))

    def library(self) -> Any:
        """The task thread's own Library (opened on first use); only for work given to ``run``."""
        lib = getattr(self._local, "library", None)
        if lib is None:
            from app.library import Library

            lib = self._local.library = Library()
        return lib

    def shutdown(self) -> None:
        """Let queued work finish (it is short) and close the task thread's library on that thread,
        so nothing writes after the window closed."""

        def close() -> None:
            lib = getattr(self._local, "library", None)
            if lib is not None:
                lib.close()
                self._local.library = None

        self._pool.submit(close)
        self._pool.shutdown(wait=True)
