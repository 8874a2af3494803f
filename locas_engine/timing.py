"""Where an answer's time goes: named stages, recorded only while someone listens.

The answer pipeline (app.answer, locas_engine.generate) wraps each of its stages in
``stage("search")``, ``stage("prefill")``... Nothing is recorded, and next to nothing is spent,
unless a caller opened ``recording()`` (``locas bench latency``): then each stage's seconds are
added to that record. The record is a context variable, so the thread ``generate_ids`` decodes
in (started in a copy of its caller's context) reports into the same record, and two answers
written at once on two threads (Compare) each keep their own.

A new stage is one ``with stage("name"):`` around it (or ``add_stage`` for time measured
otherwise); the bench reports every stage it sees, in the order they first ran.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar


class StageTimes:
    """Seconds per stage (summed when a stage runs more than once), in first-run order."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()  # the decoding thread adds while its caller's thread does

    def add(self, name: str, seconds: float, count: int = 1) -> None:
        with self._lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds
            self.counts[name] = self.counts.get(name, 0) + count

    def total(self) -> float:
        return sum(self.seconds.values())


_RECORD: ContextVar[StageTimes | None] = ContextVar("locas_stage_times", default=None)


@contextlib.contextmanager
def recording() -> Iterator[StageTimes]:
    """Record the stages run inside this block (and in threads started from it)."""
    times = StageTimes()
    token = _RECORD.set(times)
    try:
        yield times
    finally:
        _RECORD.reset(token)


def listening() -> bool:
    """Whether a ``recording()`` is open here (so a stage worth timing only then is timed)."""
    return _RECORD.get() is not None


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Time the block as stage ``name`` when a recording is open; otherwise do nothing."""
    times = _RECORD.get()
    if times is None:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        times.add(name, time.perf_counter() - start)


def add_stage(name: str, seconds: float, count: int = 1) -> None:
    """Add ``seconds`` measured by the caller to stage ``name`` (when a recording is open)."""
    times = _RECORD.get()
    if times is not None:
        times.add(name, seconds, count)
