"""The chat prompt that turns a question (and, optionally, retrieved passages) into messages.

Small models follow short, plain instructions best, so the system line is one sentence and the
passages are numbered, letting the answer refer to them as [1], [2] like the citations shown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

SYSTEM = "You are a helpful reading assistant. Answer briefly and only with facts you know from the text."
SYSTEM_WITH_PASSAGES = (
    "You are a helpful reading assistant. Answer briefly, using the numbered passages when they help."
)


# Worked examples before a question with passages, one per kind of text the library holds (a
# chat, a story; the chat twice, as dates are half of what is asked of one): a 135M model copies
# the form of an answer it was shown, a few words and the passage's number, where it ignores an
# instruction to be brief. Measured in docs/benchmarks.md (issue 18); made up, not from any text
# the benchmarks ask about.
EXAMPLES: tuple[tuple[str, str, str], ...] = (
    ("[3 May 2021, 10:02 am] Anna: We finally adopted a puppy last Sunday [the Sunday before 3 May 2021]! "
     "Her name is Biscuit.\n[3 May 2021, 10:04 am] Tom: Congrats, Anna! Biscuit is a great name.",
     "What is the name of Anna's puppy?", "Biscuit. [1]"),
    ("[12 June 2021, 6:40 pm] Tom: I ran my first marathon yesterday [11 June 2021]. My legs still hurt!",
     "When did Tom run his first marathon?", "11 June 2021. [1]"),
    ("The miller had three sons. When he died, the eldest took the mill, the second the donkey, "
     "and the youngest was left only the cat.",
     "What did the youngest son get?", "Only the cat. [1]"),
)


def _with_passages(question: str, passages: Sequence[str]) -> str:
    numbered = "\n\n".join(f"[{i}] {text.strip()}" for i, text in enumerate(passages, 1))
    return f"Passages:\n{numbered}\n\nQuestion: {question}"


def _turns(pairs: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [m for q, a in pairs for m in ({"role": "user", "content": q}, {"role": "assistant", "content": a})]


def build_messages(question: str, passages: Sequence[str] = (),
                   history: Sequence[tuple[str, str]] = ()) -> list[dict[str, str]]:
    """Messages for the tokenizer's chat template; passages go in the user turn, before the question.

    ``history`` holds earlier (question, answer) turns of the conversation: they go between the
    system line and the new question as user/assistant messages, so a follow-up can refer back.
    With passages, the worked ``EXAMPLES`` come first, as turns of their own.
    """
    if not passages:
        return [{"role": "system", "content": SYSTEM}, *_turns(history), {"role": "user", "content": question}]
    examples = [(_with_passages(q, [text]), a) for text, q, a in EXAMPLES]
    return [
        {"role": "system", "content": SYSTEM_WITH_PASSAGES},
        *_turns([*examples, *history]),
        {"role": "user", "content": _with_passages(question, passages)},
    ]


SHORT_ANSWER_TOKENS = 32  # a fact, a name, a date: the LoCoMo cut table peaks near here
_OPEN_QUESTION = re.compile(r"\b(why|how|explain|describe|summari[sz]e|what happens|tell me about)\b",
                            re.IGNORECASE)


def answer_budget(question: str, cap: int) -> int:
    """Tokens an answer to ``question`` may take: a factual question (who, what, when, where)
    gets a short answer, a "why" or "how" one the whole cap. Long answers to short questions
    are where a small model starts to ramble or loop."""
    return cap if _OPEN_QUESTION.search(question) else min(cap, SHORT_ANSWER_TOKENS)
