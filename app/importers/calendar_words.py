"""English month and weekday names, written and read the same whatever the system's locale.

Chat stamps ("[8 May 2023, 1:56 pm]"), pinned relative dates ("yesterday [7 May 2023]") and the
LoCoMo and transcript times are English text that the app writes and reads itself. Python's
``%B``, ``%A`` and ``%p`` follow the process's LC_TIME, and Qt sets it from the system when the
window opens: on a German desktop the same chat was stamped "4 März 2024" when imported in the
window and "4 March 2024" from the command line, and LoCoMo's "1:56 pm on 8 May, 2023" did not
parse at all there. So the names are spelled out here, and parsed here.
"""

from __future__ import annotations

import re
from datetime import date, datetime

__all__ = ["MONTHS", "WEEKDAYS", "day_text", "month_text", "parse_clock", "parse_day_and_time", "weekday_name"]

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NUMBERS = {**{name[:3].lower(): n for n, name in enumerate(MONTHS, 1)},
                  **{name.lower(): n for n, name in enumerate(MONTHS, 1)}, "sept": 9}


def day_text(day: date) -> str:
    """'7 May 2023': the style of the chat importers' message stamps."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def month_text(year: int, month: int) -> str:
    """'May 2023'."""
    return f"{MONTHS[month - 1]} {year}"


def weekday_name(day: date) -> str:
    return WEEKDAYS[day.weekday()]


_CLOCK = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::\d{2})?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?"
_DAY = (r"(?:(?P<day>\d{1,2})\s+(?P<month>[A-Za-z]+)\.?|(?P<month_first>[A-Za-z]+)\.?\s+(?P<day_second>\d{1,2}))"
        r",?\s+(?P<year>\d{4})")
# LoCoMo: "1:56 pm on 8 May, 2023"; a transcript: "8 May 2023, 1:56 pm" or "8 May 2023, 13:56"
_FORMS = (re.compile(rf"^\s*{_CLOCK}\s+on\s+{_DAY}\s*$"), re.compile(rf"^\s*{_DAY},?\s+{_CLOCK}\s*$"))
_CLOCK_ONLY = re.compile(rf"^\s*{_CLOCK}\s*$")


def _hour_minute(m: re.Match) -> tuple[int, int] | None:
    hour, minute = int(m["hour"]), int(m["minute"])
    if m["ampm"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m["ampm"][0] in "pP" else 0)
    return (hour, minute) if hour < 24 and minute < 60 else None


def parse_clock(raw: str) -> tuple[int, int] | None:
    """(hour, minute) of "1:56 pm", "1:56PM", "13:56" or "13:56:07"; None for anything else."""
    m = _CLOCK_ONLY.match(raw)
    return _hour_minute(m) if m else None


def parse_day_and_time(raw: str) -> datetime | None:
    """The moment a LoCoMo session or transcript stamp names, or None when it names none."""
    for form in _FORMS:
        m = form.match(raw)
        if m is None:
            continue
        month = _MONTH_NUMBERS.get((m["month"] or m["month_first"]).lower())
        clock = _hour_minute(m)
        if month is None or clock is None:
            return None
        try:
            return datetime(int(m["year"]), month, int(m["day"] or m["day_second"]), *clock)
        except ValueError:  # no such day in that month
            return None
    return None
