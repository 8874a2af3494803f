"""Where a running memorization is, gathered from its events.

A job reports per phase and per chunk (`MemorizeEvent`); an event that carries no counts (paused,
queued, resumed) leaves the counts, speed and ETA as they were. The window's views (the library
row, the memory picker, a progress dialog opened late) all read this one state, so none of them
goes back to zero or keeps a stale phase.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.memorize.job import MemorizeEvent

# A memorize event's phase as the library names the memory's state (app/ui/library_rows.py, STATUS_TEXT).
PHASE_STATUS = {"memorizing": "running", "loading": "running", "tokenizing": "running",
                "estimate": "running", "resumed": "running", "cancelled": "stopped"}


@dataclass
class RunState:
    """Where a running memorization is, from its events: what the library row, the picker and a
    reopened progress dialog show. Counts, speed and ETA are kept across events that carry none
    (paused, queued), so no view goes back to zero or says a stale phase."""

    phase: str = "queued"
    status: str = "queued"
    tokens_done: int = 0
    tokens_total: int = 0
    tokens_per_s: float | None = None
    eta_s: float | None = None
    message: str = ""
    curve: list[tuple[float, float]] = field(default_factory=list)  # (tokens, perplexity)

    def update(self, event: MemorizeEvent) -> None:
        self.phase, self.status = event.phase, PHASE_STATUS.get(event.phase, event.phase)
        if event.tokens_total:  # the estimate knows the total, not yet where the run starts
            self.tokens_total = event.tokens_total
            if event.phase != "estimate":
                self.tokens_done = event.tokens_done
        if event.tokens_per_s:
            self.tokens_per_s = event.tokens_per_s
        if event.eta_s is not None:
            self.eta_s = event.eta_s
        self.message = event.message  # each event's message is about its own phase
        if event.curve is not None:  # a resumed run: the curve its checkpoint holds
            self.curve = list(event.curve)
        if event.phase == "memorizing" and event.ppl is not None:
            self.curve.append((event.tokens_done, event.ppl))

    def fraction(self) -> float | None:
        return self.tokens_done / self.tokens_total if self.tokens_total else None
