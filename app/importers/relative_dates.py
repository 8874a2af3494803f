"""Pin relative dates in chat messages to the calendar: "yesterday" -> "yesterday [7 May 2023]".

A memorized chat is read long after it was written, and then "yesterday" means nothing: a
question such as "When did Caroline go to the support group?" needs the day the message
*meant*, and the model (with or without a memory) can only repeat words it has seen. The
importer knows when every message was sent, so it can write the answer next to the phrase once,
at import time, instead of hoping a 135M model does calendar arithmetic at question time.

The original words stay; the date is added after them in square brackets, the same convention
as "[shares an image: ...]". Only phrases whose meaning is fixed by the send date are pinned:
"last Friday", "two days ago", "next month". A vague one ("a few days ago", "recently") or one
that depends on the speaker's habits ("on Friday", "this Friday") is left alone, because a wrong
date is worse than none. A week or a weekend has no single day, so it is written as a span
anchored on the send date ("the week before 9 June 2023"), which is how people answer too.

dateparser's ``search_dates`` was considered: it returns single datetimes (no spans for
"last week"), and in chat text it also matches words such as "may", "now" and "second", so a
short table of English phrases is both smaller and more precise here.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from .calendar_words import day_text, month_text, weekday_name

__all__ = ["pin_relative_dates"]

_WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "a couple of": 2, "a couple": 2, "couple of": 2, "two": 2,
    "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12,
}
_NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven",
                  8: "eight", 9: "nine", 10: "ten", 11: "eleven", 12: "twelve"}

_WEEKDAY = r"(?P<weekday>" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")\.?"
_COUNT = r"(?P<count>\d{1,2}|" + "|".join(sorted((re.escape(k) for k in _NUMBERS), key=len, reverse=True)) + r")"
_UNIT = r"(?P<unit>day|weekend|week|month|year)s?"

# Longest phrases first, so "the day before yesterday" wins over "yesterday".
_PHRASE = re.compile(
    r"\b(?:"
    r"(?P<before_yesterday>the day before yesterday)"
    r"|(?P<after_tomorrow>the day after tomorrow)"
    r"|(?P<ago>" + _COUNT + r"\s+" + _UNIT + r"\s+ago)"
    r"|(?P<weekday_rel>(?P<direction>last|this past|past|next)\s+" + _WEEKDAY + r")"
    r"|(?<!the )(?P<period>(?P<which>last|this past|past|this|next)\s+(?P<period_unit>weekend|week|month|year))"
    r"|(?P<yesterday>yesterday|last night)"
    r"|(?P<today>today|tonight|this morning|this afternoon|this evening)"
    r"|(?P<tomorrow>tomorrow)"
    r")\b(?!\s*\[)",  # already pinned (a re-import of our own export): leave it
    re.IGNORECASE,
)


def _month_text(day: date, months: int) -> str:
    index = day.year * 12 + day.month - 1 + months
    return month_text(index // 12, index % 12 + 1)


def _count(raw: str) -> int:
    raw = raw.lower()
    return int(raw) if raw.isdigit() else _NUMBERS[raw]


def _ago(said: date, count: int, unit: str) -> str | None:
    if count <= 0:
        return None
    if unit == "day":
        return day_text(said - timedelta(days=count))
    if unit == "month":
        return _month_text(said, -count)
    if unit == "year":
        return str(said.year - count)
    words = _NUMBER_WORDS.get(count, str(count))
    plural = "s" if count > 1 else ""
    return f"{words} {unit}{plural} before {day_text(said)}"


def _period(said: date, which: str, unit: str) -> str | None:
    step = {"last": -1, "past": -1, "this past": -1, "this": 0, "next": 1}[which]
    if unit == "month":
        return _month_text(said, step)
    if unit == "year":
        return str(said.year + step)
    if which == "this" and unit == "weekend" and said.weekday() < 5:
        step = 1  # said on a weekday, "this weekend" is the coming one
    anchor = {-1: "before", 0: "of", 1: "after"}[step]
    return f"the {unit} {anchor} {day_text(said)}"


def _weekday(said: date, direction: str, weekday: int) -> str:
    if direction == "next":
        delta = (weekday - said.weekday()) % 7 or 7
        day = said + timedelta(days=delta)
    else:
        delta = (said.weekday() - weekday) % 7 or 7
        day = said - timedelta(days=delta)
    return f"{weekday_name(day)} {day_text(day)}"


def _resolve(match: re.Match, said: date) -> str | None:
    if match["before_yesterday"]:
        return day_text(said - timedelta(days=2))
    if match["after_tomorrow"]:
        return day_text(said + timedelta(days=2))
    if match["ago"]:
        return _ago(said, _count(match["count"]), match["unit"].lower())
    if match["weekday_rel"]:
        direction = match["direction"].lower()
        return _weekday(said, direction, _WEEKDAYS[match["weekday"].lower().rstrip(".")])
    if match["period"]:
        return _period(said, " ".join(match["which"].lower().split()), match["period_unit"].lower())
    if match["yesterday"]:
        return day_text(said - timedelta(days=1))
    if match["today"]:
        return day_text(said)
    if match["tomorrow"]:
        return day_text(said + timedelta(days=1))
    return None


def pin_relative_dates(text: str, said: date) -> str:
    """`text` with each relative date phrase followed by the date it means, seen from `said`."""

    def pin(match: re.Match) -> str:
        meaning = _resolve(match, said)
        return f"{match[0]} [{meaning}]" if meaning else match[0]

    return _PHRASE.sub(pin, text)
