"""Chat stamps are written and read in English whatever the system's locale (Qt sets it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from app.importers.calendar_words import parse_clock, parse_day_and_time

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("raw", "when"), [
    ("1:56 pm on 8 May, 2023", datetime(2023, 5, 8, 13, 56)),  # LoCoMo
    ("12:09 am on 13 September, 2023", datetime(2023, 9, 13, 0, 9)),
    ("10:04 am on Sept 3, 2023", datetime(2023, 9, 3, 10, 4)),
    ("8 May 2023, 1:56 pm", datetime(2023, 5, 8, 13, 56)),  # a transcript's stamp
    ("8 May 2023, 13:56", datetime(2023, 5, 8, 13, 56)),
    ("1:56 pm on 31 February, 2023", None),  # no such day
    ("13:56 pm on 8 May, 2023", None),  # no such clock
    ("1:56 pm on 8 Mai, 2023", None),  # the app writes English; another language is not guessed
    ("yesterday", None),
])
def test_stamps_parse_in_english(raw, when):
    assert parse_day_and_time(raw) == when


def test_clocks_parse_without_the_locale():
    assert parse_clock("9:12 AM") == (9, 12) and parse_clock("12:30pm") == (12, 30)
    assert parse_clock("23:05:59") == (23, 5) and parse_clock("25:00") is None


LOCOMO = {"speaker_a": "Ana", "speaker_b": "Ben", "session_1_date_time": "1:56 pm on 8 May, 2023",
          "session_1": [{"speaker": "Ana", "dia_id": "D1:1", "text": "I adopted a cat yesterday."}]}
WHATSAPP = "[3/4/24, 9:12 AM] Ana: I finished the mural last month.\n[3/4/24, 9:15 AM] Ben: Nice!\n"


def test_a_german_desktop_imports_the_same_stamps_as_the_command_line(tmp_path):
    """Qt calls setlocale(LC_ALL, "") when the window opens; the import must not follow it."""
    if not shutil.which("localedef") or not Path("/usr/share/i18n/locales/de_DE").exists():
        pytest.skip("no locale compiler here to make a German locale with")
    locales = tmp_path / "locales"
    locales.mkdir()
    subprocess.run(["localedef", "-i", "de_DE", "-f", "UTF-8", str(locales / "de_DE.UTF-8")],
                   check=False, capture_output=True)  # warnings make a non-zero status
    (tmp_path / "chat.json").write_text(json.dumps(LOCOMO))
    (tmp_path / "trip.txt").write_text(WHATSAPP)
    script = (
        "import locale, sys, datetime\n"
        "locale.setlocale(locale.LC_ALL, '')\n"
        "assert f'{datetime.date(2024, 3, 3):%B}' == 'März', 'the German locale is not in effect'\n"
        "from app.importers import import_file\n"
        "for name in ('chat.json', 'trip.txt'):\n"
        "    print(import_file(sys.argv[1] + '/' + name).sections[0].text)\n")
    env = {**os.environ, "LOCPATH": str(locales), "LC_ALL": "de_DE.UTF-8", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=120)
    if "the German locale is not in effect" in done.stderr:
        pytest.skip("the German locale could not be made here")
    assert done.returncode == 0, done.stderr
    assert "[8 May 2023, 1:56 pm] Ana: I adopted a cat yesterday [7 May 2023]." in done.stdout
    assert "[4 March 2024, 9:12 am] Ana: I finished the mural last month [February 2024]." in done.stdout
