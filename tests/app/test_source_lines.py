"""The source's own line format, which ends an answer (app/answer/source_lines.py)."""

from __future__ import annotations

from app.answer.source_lines import is_source_line
from locas_engine.answer_text import AnswerText


def test_lines_in_a_chats_or_a_books_format():
    for line in ("Melanie: hi", "Question: who?", "Chapter 3", "CHAPTER IV", "# The Hare", "[7 May 2023] x",
                 "2. [28 August 2023, 3:19 pm] Melanie: hi", "- Caroline: yes"):
        assert is_source_line(line), line
    for line in ("[1] says so", "The hare: a fast animal", "note: small", "She went home.", "2. She went home."):
        assert not is_source_line(line), line


def test_a_replayed_chat_line_ends_the_answer():
    answer = AnswerText(is_source_line)
    text = "Caroline went to the support group.\n[23 August 2023, 3:31 pm] Caroline: I loved it"
    words = text.split(" ")
    for i in range(1, len(words) + 1):
        if answer.update(" ".join(words[:i])):
            break
    assert answer.stopped_for == "source-line" and answer.final() == "Caroline went to the support group."
