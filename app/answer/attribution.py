"""Whether a chat's passages say what the question asks of one person of someone else.

A question about a conversation often carries a presupposition: "What did Caroline realize after
her charity race?" assumes Caroline ran one. When the chat says that Melanie did, the honest
answer is that the text does not say it of Caroline; a small model, shown Melanie's line, answers
as if it were Caroline's. LoCoMo's unanswerable questions (category 5) are built exactly this way,
and readers ask them by mistake too ("which of the two said it?").

The check needs no model: among the retrieved passages' chat lines, which person is each line
about (its speaker, or in a conversation of two the other person when the speaker only says
"you"), and who is the person that the lines best matching the question's words are about. Measured on the shared LoCoMo
conversations (``locas bench attribution``, docs/benchmarks.md) before it was switched on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.answer.grounding import content_words
from app.importers.chats import CHAT_LINE

_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|my|me|mine|myself|we|we're|our|us)\b", re.IGNORECASE)
_SECOND_PERSON = re.compile(r"\b(?:you|your|you're|you've|yours|yourself)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Misattributed:
    """The passages say what was asked of ``asked``, of ``said_of`` instead."""

    asked: str  # the person the question names
    said_of: str  # the person the best matching line is about
    passage: int  # 0-based index of the passage holding that line
    span: tuple[int, int]  # the line's character offsets in that passage

    def sentence(self) -> str:
        """What the reader is told (it reads as an abstention: "does not say")."""
        return (f"The text does not say. It says this of {self.said_of}, not of {self.asked} "
                f"[{self.passage + 1}].")


@dataclass(frozen=True)
class _Line:
    speaker: str
    text: str
    passage: int
    span: tuple[int, int]


def _lines(passages: Sequence[str]) -> list[_Line]:
    """The chat lines of the passages; prose with a colon ("He said to the old king: ...") is
    not one, as a speaker's name is a few words at most (as the transcript importer reads them)."""
    return [_Line(m.group("speaker").strip(), m.group("text"), i, (m.start(), m.end()))
            for i, passage in enumerate(passages) for m in CHAT_LINE.finditer(passage)
            if len(m.group("speaker").split()) <= 3]


def _named(person: str, question: str) -> bool:
    return re.search(rf"\b{re.escape(person)}\b", question, re.IGNORECASE) is not None


def misattributed(question: str, passages: Sequence[str]) -> Misattributed | None:
    """The person the passages say it of, when the question asks it of another; else None.

    For a question that names one of the chat's speakers. A line is about its speaker, unless it
    speaks only of "you": then, in a conversation of two, it is about the other person; in a
    group "you" has no one meaning, so such a line is about no one. The question's words (without
    the names) are matched against each person's lines; it is misattributed when the best match
    is about someone else and strictly beats every line about the person asked about.
    """
    lines = _lines(passages)
    speakers = sorted({line.speaker for line in lines})
    if len(speakers) < 2:
        return None
    named = [s for s in speakers if _named(s, question)]
    if len(named) != 1:
        return None
    asked = named[0]
    names = {w for s in speakers for w in content_words(s)}
    asked_words = {w for w in content_words(question) - names if len(w) > 1}  # "Caroline's" leaves "s"
    if not asked_words:
        return None
    best: dict[str, tuple[float, _Line | None]] = {s: (0.0, None) for s in speakers}
    for line in lines:
        about: str | None = line.speaker
        if _SECOND_PERSON.search(line.text) and not _FIRST_PERSON.search(line.text):
            about = next(s for s in speakers if s != line.speaker) if len(speakers) == 2 else None
        share = len(asked_words & content_words(line.text)) / len(asked_words)
        if about is not None and share > best[about][0]:
            best[about] = (share, line)
    other = max((s for s in speakers if s != asked), key=lambda s: best[s][0])
    share, line = best[other]
    if line is None or share <= best[asked][0]:
        return None
    return Misattributed(asked=asked, said_of=other, passage=line.passage, span=line.span)
