"""Compare: two answers to one question (say, with the memory and without it) written at once.

Written one after the other, a comparison took twice as long as an answer, and the second pane
stayed empty while the first filled. Here both are written at the same time on the one model:
each in a thread of its own, in its own copy of the caller's context, so that each thread's
memory switch (locas_engine.only_enabled) holds for its answer only.

The library is touched only on the calling thread (the Session's: one connection per thread,
app/dbconn.py): both answers are prepared there first, and recorded there after they are written
(A before B, so the history's order does not depend on which finished first).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from app.answer.pipeline import (
    Answer,
    AnswerRequest,
    PreparedAnswer,
    prepare_answer,
    record_answer,
    write_answer,
)
from app.errors import user_message
from app.library import Passage
from app.memorize.job import JobControl
from app.session import Session

__all__ = ["SIDES", "Comparison", "run_compare"]

SIDES = ("a", "b")  # request_a's answer, request_b's


@dataclass
class Comparison:
    """Both sides' outcomes: each side has an answer or, if it failed, a sentence saying why."""

    answers: dict[str, Answer] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def run_compare(
    session: Session,
    request_a: AnswerRequest,
    request_b: AnswerRequest,
    on_token: Callable[[str, str], None] | None = None,
    control: JobControl | None = None,
    on_citations: Callable[[str, list[Passage]], None] | None = None,
    on_answer: Callable[[str, Answer], None] | None = None,
    on_failed: Callable[[str, str], None] | None = None,
) -> Comparison:
    """Answer both requests at once; every callback gets the side ("a" or "b") first.

    ``on_token(side, piece)`` is called from that side's writing thread, the others from the
    caller's. ``on_answer(side, answer)`` comes once the side's answer is in the history;
    ``on_failed(side, sentence)`` when a side could not be answered: the other side still is.
    One ``control`` stops both.
    """
    requests = dict(zip(SIDES, (request_a, request_b), strict=True))
    result = Comparison()

    def fail(side: str, exc: BaseException) -> None:
        result.errors[side] = user_message(exc)
        if on_failed is not None:
            on_failed(side, result.errors[side])

    prepared: dict[str, PreparedAnswer] = {}
    for side, request in requests.items():
        cite = (lambda passages, side=side: on_citations(side, passages)) if on_citations else None
        try:
            prepared[side] = prepare_answer(session, request, cite)
        except Exception as exc:  # noqa: BLE001 - this side's sentence; the other side goes on
            fail(side, exc)

    def write(side: str) -> Answer:
        token = (lambda piece: on_token(side, piece)) if on_token else None
        return write_answer(prepared[side], token, control)

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="locas-compare") as pool:
        # Each side in its own copy of this context: its memory switch is its own.
        writing: dict[str, Future[Answer]] = {
            side: pool.submit(contextvars.copy_context().run, write, side) for side in prepared}
        for side, future in writing.items():  # recorded in order: A, then B
            try:
                answer = future.result()
                record_answer(session.library, answer)
            except Exception as exc:  # noqa: BLE001
                fail(side, exc)
                continue
            result.answers[side] = answer
            if on_answer is not None:
                on_answer(side, answer)
    return result
