"""Tokens per second and time left of a memorization: the one place both are computed.

A rate that counts tokens the run did not train (a resumed job's earlier tokens, a progress bar
jumping to where the checkpoint left off) or time it did not train in (loading the model,
tokenizing) is wrong exactly when a person looks at it: at the first update and after a resume.
So a ``TokenRate`` counts only the tokens trained in this run, timed from the moment the first
of them began training. The memorizer feeds it chunk by chunk; the job, the command line and
the window only read it. An estimate before anything ran (a measured rate applied to a token
count) goes through ``seconds_for`` so that it rounds the same way.
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
    """Tokens trained per second in this run, as of the last trained chunk, and the ETA."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._started: float | None = None
        self.tokens = 0  # trained in this run
        self.tokens_per_s: float | None = None  # None until a chunk of this run is trained

    def begin(self) -> None:
        """Start the clock (before the run's first chunk trains); later calls change nothing."""
        if self._started is None:
            self._started = self._clock()

    def add(self, tokens: int) -> None:
        """Count a chunk's tokens once it is trained, and update the rate."""
        self.begin()
        assert self._started is not None
        self.tokens += tokens
        self.tokens_per_s = self.tokens / max(self._clock() - self._started, 1e-9)

    def eta_s(self, tokens_left: int) -> float | None:
        return seconds_for(tokens_left, self.tokens_per_s)
