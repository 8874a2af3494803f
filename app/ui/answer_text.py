"""What the question panel says about an answer: its status line and its history entry.

Plain functions over an `app.answer.pipeline.Answer` (or any object with its fields) and the
library's history rows, so the wording is tested without a window.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.library import Passage


def answer_status(answer: Any, total: float | None = None, first_word: float | None = None) -> str:
    """'Answered in 30.6 s (20.4 s waiting for the engine) · first word after 25.1 s · 1.8
    tokens/s · routed to “fables”', or 'Stopped after 2.0 s …'.

    ``total`` is the time from the question to the answer as the person waited it (the window's
    clock: a question asked during a memorization waits for a chunk's end), ``answer.seconds``
    the engine's time on it; tokens/s is over the engine's time, the wait left out.
    """
    seconds = float(getattr(answer, "seconds", 0.0) or 0.0)
    whole = max(float(total or 0.0), seconds)
    tokens = int(getattr(answer, "tokens", 0) or 0)
    stopped = bool(getattr(answer, "stopped", False))
    parts = []
    if whole:
        head = f"{'Stopped after' if stopped else 'Answered in'} {whole:.1f} s"
        if whole - seconds >= 0.5:
            head += f" ({whole - seconds:.1f} s waiting for the engine)"
        parts.append(head)
    elif stopped:
        parts.append("Stopped")
    if first_word is not None and tokens:
        parts.append(f"first word after {first_word:.1f} s")
    if tokens and seconds:
        parts.append(f"{tokens / seconds:.1f} tokens/s")
    if getattr(answer, "route", None) is not None:
        parts.append("routed to " + ", ".join(f"“{m}”" for m in answer.memories))
    return " · ".join(parts)


def answer_mode(options: dict) -> str:
    """'memory + retrieval', 'memory only', 'retrieval only' or 'plain model'."""
    memory = bool(options.get("use_memory", True)) and bool(options.get("memories", True))
    retrieval = bool(options.get("use_retrieval", True))
    if memory and retrieval:
        return "memory + retrieval"
    if memory:
        return "memory only"
    return "retrieval only" if retrieval else "plain model"


def history_label(entry: dict) -> str:
    """Two lines for the History list: when, which memory, how; then the question and answer."""
    options = entry.get("options") or {}
    memories = options.get("memories") or ([entry["memory"]] if entry.get("memory") else [])
    when = _when(entry.get("created"))
    who = ", ".join(memories) if memories else "plain model"
    answer = " ".join(str(entry.get("answer", "")).split())
    stopped = "stopped" if options.get("stopped") else ""  # unfinished: the reader pressed Stop
    head = " · ".join(p for p in (when, who, answer_mode({**options, "memories": memories}), stopped) if p)
    return f"{head}\nQ: {entry.get('question', '')}\nA: {answer[:200]}"


def history_citations(entry: dict) -> list[Any]:
    """The passages an earlier answer cited, as Passage objects again (the history stores dicts)."""
    out = []
    for item in entry.get("citations") or []:
        try:
            out.append(Passage(**item))
        except TypeError:  # an older or partial record: keep what can be shown
            continue
    return out


def _when(created: str | None) -> str:
    if not created:
        return ""
    try:
        stamp = datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    except ValueError:
        return str(created)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone()
    today = datetime.now(stamp.tzinfo).date()
    return stamp.strftime("%H:%M") if stamp.date() == today else stamp.strftime("%d %b %Y %H:%M")
