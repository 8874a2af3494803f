"""Tokens per second and time left of a memorization: the one place both are computed.

A rate that counts tokens the run did not train (a resumed job's earlier tokens, a progress bar
jumping to where the checkpoint left off) or time it did not train in (loading the model,
tokenizing) is wrong exactly when a person looks at it: at the first update and after a resume.
So a ``TokenRate`` counts only the tokens trained in this run, timed from the moment the first
of them began training. The memorizer feeds it chunk by chunk; the job, the command line and
the window only read it. An estimate before anything ran (a measured rate applied to a token
count) goes through ``seconds_for`` so that it rounds the same way.

The same meter keeps the speed the app stores for the next run's estimate (``measured_*``):
the speed of memorizing itself, so it leaves out each stream's first chunk (which also
initializes the memory) and the time spent between chunks (paused, answering questions).
"""

from __future__ import annotations

import time
from collections.abc import Callable


def seconds_for(tokens: int, tokens_per_s: float | None) -> float | None:
    """Seconds to train ``tokens`` at ``tokens_per_s``; None when the rate is unknown."""
    if not tokens_per_s or tokens_per_s <= 0:
        return None
    return max(0, tokens) / tokens_per_s


class TokenRate:
    """Tokens trained per second in this run, as of the last trained chunk, and the ETA; and
    the steady speed measured over the run's streams (``measured_tokens_per_s``)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._started: float | None = None
        self.tokens = 0  # trained in this run
        self.tokens_per_s: float | None = None  # None until a chunk of this run is trained
        self.measured_tokens = 0  # trained after each stream's first chunk
        self.measured_seconds = 0.0  # ... and the time they took, waits between chunks left out
        self._mark: float | None = None  # when the last chunk ended (None: a stream begins)

    def begin(self) -> None:
        """Start the clock (before the run's first chunk trains); later calls change nothing."""
        if self._started is None:
            self._started = self._clock()

    def new_stream(self) -> None:
        """A stream starts (the memorizer calls it per run): its first chunk is not measured."""
        self._mark = None

    def add(self, tokens: int) -> None:
        """Count a chunk's tokens once it is trained, and update the rate."""
        self.begin()
        assert self._started is not None
        now = self._clock()
        self.tokens += tokens
        self.tokens_per_s = self.tokens / max(now - self._started, 1e-9)
        if self._mark is not None:
            self.measured_tokens += tokens
            self.measured_seconds += now - self._mark
        self._mark = now

    def waited(self) -> None:
        """A wait between two chunks (paused, answering) ended: it is not measured."""
        if self._mark is not None:
            self._mark = self._clock()

    @property
    def measured_tokens_per_s(self) -> float | None:
        """The steady speed, for the next run's estimate; None before a second chunk."""
        if not self.measured_tokens or self.measured_seconds <= 0:
            return None
        return self.measured_tokens / self.measured_seconds

    def eta_s(self, tokens_left: int) -> float | None:
        return seconds_for(tokens_left, self.tokens_per_s)
