"""The one way GUI work leaves its thread and comes back: app/ui/taskman.py."""

from __future__ import annotations

import sqlite3
import sys
import threading

import pytest

from app.errors import UserError
from app.library import Library
from app.ui.taskman import TaskManager


class ThreadWorker:
    """The engine worker's ``submit`` on a thread of its own, like app.worker.EngineWorker."""

    session = "the session"

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    def submit(self, fn, on_done=None, on_error=None) -> None:
        def run() -> None:
            try:
                result = fn(self.session)
            except Exception as exc:  # noqa: BLE001 - handed back like the real worker does
                on_error(exc)
            else:
                on_done(result)

        thread = threading.Thread(target=run)
        self.threads.append(thread)
        thread.start()


@pytest.fixture
def tasks(qtbot, locas_home):
    worker = ThreadWorker()
    manager = TaskManager(worker=worker)
    yield manager
    manager.shutdown()
    for thread in worker.threads:
        thread.join()
    manager.deleteLater()
    qtbot.wait(10)


def _outcome(qtbot, start) -> tuple[str, object, bool]:
    """Start work with callbacks that record what came back and on which thread."""
    got = []

    def record(kind):
        return lambda value: got.append((kind, value, threading.current_thread() is threading.main_thread()))

    start(record("done"), record("error"))
    qtbot.waitUntil(lambda: bool(got))
    return got[0]


@pytest.mark.parametrize("lane", ["run", "run_on_engine"])
def test_both_threads_come_back_on_the_gui_thread_the_same_way(qtbot, tasks, lane):
    def work(*_session):
        if threading.current_thread() is threading.main_thread():
            raise AssertionError("the work ran on the GUI thread")
        return 42

    def broken(*_session):
        raise ValueError("disk on fire")

    def refused(*_session):
        raise UserError("That book is already being read.")

    submit = getattr(tasks, lane)
    assert _outcome(qtbot, lambda ok, err: submit(work, ok, err)) == ("done", 42, True)
    # Every failure arrives as a sentence for a person, whichever thread ran the work.
    assert _outcome(qtbot, lambda ok, err: submit(broken, ok, err)) == (
        "error", "Something went wrong: disk on fire", True)
    assert _outcome(qtbot, lambda ok, err: submit(refused, ok, err)) == (
        "error", "That book is already being read.", True)


def test_the_task_thread_has_its_own_library_and_another_thread_may_not_use_it(qtbot, tasks):
    kind, count, _ = _outcome(qtbot, lambda ok, err: tasks.run(lambda: tasks.library().counts()["documents"],
                                                                ok, err))
    assert (kind, count) == ("done", 0)
    borrowed = tasks.run(tasks.library).result()
    with pytest.raises(sqlite3.ProgrammingError):  # one connection per thread (app/dbconn.py)
        borrowed.counts()
    with Library() as mine:
        assert mine.counts()["documents"] == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's own priority is Linux's")
def test_background_threads_run_below_the_window(qtbot, tasks, locas_home):
    """Model and library work leave the CPU to the GUI thread first: on a 2-core machine the
    window stopped reacting for 100-300 ms at a time while they filled both cores."""
    import os

    from app.devices import BACKGROUND_NICE
    from app.worker import EngineWorker

    def nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    gui = nice()
    kind, task_nice, _ = _outcome(qtbot, lambda done, error: tasks.run(nice, done, error))
    assert kind == "done" and task_nice == min(19, gui + BACKGROUND_NICE)
    worker = EngineWorker()
    try:
        got = []
        worker.submit(lambda _session: nice(), on_done=got.append)
        qtbot.waitUntil(lambda: bool(got), timeout=30_000)
    finally:
        worker.shutdown()
    assert got == [min(19, gui + BACKGROUND_NICE)] and nice() == gui  # the window's own is unchanged
