"""The chat prompt that turns a question (and, optionally, retrieved passages) into messages.

Small models follow short, plain instructions best, so the system line is one sentence and the
passages are numbered, letting the answer refer to them as [1], [2] like the citations shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

SYSTEM = "You are a helpful reading assistant. Answer briefly and only with facts you know from the text."
SYSTEM_WITH_PASSAGES = (
    "You are a helpful reading assistant. Answer briefly, using the numbered passages when they help."
)


def build_messages(question: str, passages: Sequence[str] = (),
                   history: Sequence[tuple[str, str]] = ()) -> list[dict[str, str]]:
    """Messages for the tokenizer's chat template; passages go in the user turn, before the question.

    The passages come in reverse order of rank, each keeping its number, so the best one ([1])
    stands right before the question: a 135M model copies from the text nearest the question, and
    with the best passage there its book answers contradicted their cited passage less often
    (docs/benchmarks.md, eleventh session).

    ``history`` holds earlier (question, answer) turns of the conversation: they go between the
    system line and the new question as user/assistant messages, so a follow-up can refer back.
    """
    earlier = [m for q, a in history for m in ({"role": "user", "content": q},
                                                {"role": "assistant", "content": a})]
    if not passages:
        return [{"role": "system", "content": SYSTEM}, *earlier, {"role": "user", "content": question}]
    return [
        {"role": "system", "content": SYSTEM_WITH_PASSAGES},
        *earlier,
        {"role": "user", "content": passages_turn(question, reversed(list(enumerate(passages, 1))))},
    ]


def passages_turn(question: str, numbered: Iterable[tuple[int, str]]) -> str:
    """The user turn: the passages, each after its number [n], then the question."""
    shown = "\n\n".join(f"[{n}] {text.strip()}" for n, text in numbered)
    return f"Passages:\n{shown}\n\nQuestion: {question}"


SHORT_ANSWER_TOKENS = 32  # a fact, a name, a date: the LoCoMo cut table peaks near here
_OPEN_QUESTION = re.compile(r"\b(why|how|explain|describe|summari[sz]e|what happens|tell me about)\b",
                            re.IGNORECASE)


def answer_budget(question: str, cap: int) -> int:
    """Tokens an answer to ``question`` may take: a factual question (who, what, when, where)
    gets a short answer, a "why" or "how" one the whole cap. Long answers to short questions
    are where a small model starts to ramble or loop."""
    return cap if _OPEN_QUESTION.search(question) else min(cap, SHORT_ANSWER_TOKENS)
