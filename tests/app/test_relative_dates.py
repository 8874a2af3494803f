"""Relative dates in chats are pinned to the day they mean, seen from the message's send date."""

from __future__ import annotations

from datetime import date

import pytest

from app.importers import import_file
from app.importers.relative_dates import pin_relative_dates

SATURDAY = date(2023, 7, 15)


@pytest.mark.parametrize(("text", "pinned"), [
    ("I went yesterday.", "I went yesterday [14 July 2023]."),
    ("Last night was fun", "Last night [14 July 2023] was fun"),
    ("the day before yesterday", "the day before yesterday [13 July 2023]"),
    ("see you tomorrow", "see you tomorrow [16 July 2023]"),
    ("two days ago", "two days ago [13 July 2023]"),
    ("a couple of days ago", "a couple of days ago [13 July 2023]"),
    ("3 months ago", "3 months ago [April 2023]"),
    ("ten years ago", "ten years ago [2013]"),
    ("two weekends ago", "two weekends ago [two weekends before 15 July 2023]"),
    # a named weekday is the last one strictly before the send date, or the next one after it
    ("Last Friday I went", "Last Friday [Friday 14 July 2023] I went"),
    ("last Saturday", "last Saturday [Saturday 8 July 2023]"),
    ("Last Fri I finally", "Last Fri [Friday 14 July 2023] I finally"),
    ("next Tues.", "next Tues [Tuesday 18 July 2023]."),
    # weeks and weekends are spans, anchored on the send date
    ("last week", "last week [the week before 15 July 2023]"),
    ("Last weekend I joined", "Last weekend [the weekend before 15 July 2023] I joined"),
    ("this weekend", "this weekend [the weekend of 15 July 2023]"),
    ("this month", "this month [July 2023]"),
    ("next month", "next month [August 2023]"),
    ("last year", "last year [2022]"),
])
def test_phrases_are_pinned(text, pinned):
    assert pin_relative_dates(text, SATURDAY) == pinned


def test_month_arithmetic_crosses_the_year():
    assert pin_relative_dates("last month", date(2023, 1, 20)) == "last month [December 2022]"
    assert pin_relative_dates("next month", date(2023, 12, 2)) == "next month [January 2024]"


def test_this_weekend_said_on_a_weekday_is_the_coming_one():
    assert pin_relative_dates("this weekend", date(2023, 7, 13)) == "this weekend [the weekend after 13 July 2023]"


@pytest.mark.parametrize("text", [
    "a few days ago",          # vague
    "on Friday",               # which Friday depends on the speaker
    "over the last year",      # the past twelve months, not the calendar year before
    "I sat down last",         # no phrase at all
    "yesterday [14 July 2023] already",  # pinned before (re-import of an export)
    "lastweek",                # not a word boundary
])
def test_vague_or_pinned_phrases_are_left_alone(text):
    assert pin_relative_dates(text, SATURDAY) == text


def test_locomo_import_pins_dates_to_the_session(shared_data):
    """LoCoMo's temporal questions ask exactly this: 'When did Caroline go to the support group?'"""
    doc = import_file(shared_data / "chats" / "locomo-conv26.json")
    first = doc.sections[0]
    offset = first.meta["dia_ids"]["D1:3"]
    assert first.text[offset:].startswith(
        "[8 May 2023, 1:56 pm] Caroline: I went to a LGBTQ support group yesterday [7 May 2023] and")
    assert doc.meta["qa"][0]["answer"] == "7 May 2023"


def test_undated_transcript_is_not_pinned(tmp_path):
    path = tmp_path / "call.txt"
    path.write_text("Ann: I saw it yesterday.\nBen: Me too, last week.\nAnn: Good.\n", encoding="utf-8")
    text = import_file(path).sections[0].text
    assert "yesterday." in text and "[" not in text
