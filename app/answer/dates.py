"""A when-question answered with the date its supporting sentence gives.

Every line of an imported chat carries the day it was sent ("[8 May 2023, 1:56 pm] Jon: ..."),
and the importer pins relative dates to the calendar ("yesterday [7 May 2023]",
relative_dates.py). So once grounding has found the sentence that answers "When did Jon go to
the fair?", the date is written beside it. A 135M model copies that date badly: it replays the
whole line, stamp and speaker included, or gives another line's date (docs/benchmarks.md,
issue 18). Reading the date off the sentence is exact, and the reader sees the sentence it came
from highlighted next to the answer, so a wrong sentence is as easy to spot as a wrong date.

Which date a sentence gives, most specific first: one pinned in it ("[the week before 9 June
2023]"), one written in it ("on 10 May 2023", "in 2019"), else the day its chat line was sent.
"""

from __future__ import annotations

import re

from app.importers.calendar_words import MONTHS, WEEKDAYS
from app.importers.chats import CHAT_LINE

__all__ = ["asks_when", "date_in", "message_text"]

_MONTH = "(?:" + "|".join(MONTHS) + ")"
_WEEKDAY = "(?:" + "|".join(WEEKDAYS) + ")"
# "7 May 2023", "Friday 14 July 2023", "May 7, 2023"
_DAY = rf"(?:(?:{_WEEKDAY},? )?\d{{1,2}} {_MONTH},? \d{{4}}|{_MONTH} \d{{1,2}}, \d{{4}})"
_DAY_OR_MONTH = rf"(?:{_DAY}|{_MONTH},? \d{{4}})"  # "7 May 2023" or "May 2023"
_YEAR = r"(?:1[5-9]|20)\d\d"
# A span that relative_dates.py writes: "the week before 9 June 2023", "two weeks before ..."
_SPAN = rf"(?:(?:the|\w+) (?:days?|weeks?|weekends?|months?) (?:before|of|after) {_DAY})"
_PINNED = re.compile(rf"\[(?P<date>{_SPAN}|{_DAY_OR_MONTH}|{_YEAR})\]")
# a year alone only after a word that makes it one: "in 2019", not "1800 meters"
_WRITTEN = re.compile(rf"(?P<date>{_DAY_OR_MONTH})(?![\w\]])"
                      rf"|\b(?:in|since|from|until|around|during|of|year) (?P<year>{_YEAR})\b(?!\])")
_STAMP_DATE = re.compile(_DAY_OR_MONTH)

# "When did ...", "When Gina has lost ...", "What year ...", "In which month ...": a question
# whose answer is a date. "What did she say when she left?" is not one: there "when" is not
# followed by the question's verb.
_WHEN = re.compile(
    r"^\W*when\b|\bwhen (?:did|does|do|is|was|were|will|would|has|have|had|are|can)\b"
    r"|\b(?:what|which) (?:date|day|year|month|week)\b|\bhow long ago\b",
    re.IGNORECASE)


def asks_when(question: str) -> bool:
    """Whether the answer to ``question`` is a date."""
    return bool(_WHEN.search(question))


def date_in(passage: str, span: tuple[int, int]) -> str | None:
    """The date that the sentence at ``span`` in ``passage`` gives, or None when it gives none:
    pinned in it, written in it, or the day of the chat line that holds it."""
    start, end = span
    sentence = passage[start:end]
    line_start = passage.rfind("\n", 0, start) + 1
    line = CHAT_LINE.match(passage, line_start)
    stamp_end = line.start("speaker") if line else line_start
    body = sentence[max(0, stamp_end - start):]  # the sentence without its line's stamp
    for pattern in (_PINNED, _WRITTEN):
        found = pattern.search(body)
        if found:
            return found[found.lastgroup]
    if line and line.group("stamp"):
        sent = _STAMP_DATE.search(line.group("stamp"))
        if sent:
            return sent.group()
    return None


def message_text(text: str) -> str:
    """``text`` without the stamp and speaker of a chat line it opens with."""
    line = CHAT_LINE.match(text)
    return line.group("text") if line and line.group("stamp") else text
