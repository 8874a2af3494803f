"""Where an answer runs on into its source's own format: a new line that replays a chat line
(its date stamp "[23 August 2023, 3:31 pm]" or its speaker "Caroline:", as the chat importer
writes every message, app/importers/chats.py), a chapter or markdown heading, or the prompt's own
labels ("Question:"). The engine ends the answer there (locas_engine.answer_text, which holds no
rule about any kind of text and is told this one by the answer pipeline)."""

from __future__ import annotations

import re

__all__ = ["is_source_line"]

_LIST_MARKER = r"(?:(?:\d{1,2}[.)]|[-*•])\s+)?"  # a list marker the model put before it: "2. [7 May 2023]"
SOURCE_LINE = re.compile(
    r"^\s*" + _LIST_MARKER +
    r"(?:\[[^\]\n]*\d{3,4}[^\]\n]*\]"  # a chat line's date or time stamp (not a citation [1])
    r"|[A-Z][\w'.-]*(?: [A-Z][\w'.-]*){0,2}:(?:\s|$)"  # a chat speaker or a label: "Caroline:", "Question:"
    r"|#{1,6}\s"  # a markdown heading
    r"|(?i:chapter|section|part|book)\s+(?:[0-9]+|(?i:[ivxlc]+))\b)",  # a chapter heading
)
_SPEAKER_NEEDS_CAPITAL = re.compile(r"^\s*" + _LIST_MARKER + r"[a-z][\w'.-]*:")  # "note: ..." is prose


def is_source_line(line: str) -> bool:
    """Does ``line`` open in the source's own format (a chat stamp, a speaker, a heading)?"""
    return bool(SOURCE_LINE.match(line)) and not _SPEAKER_NEEDS_CAPITAL.match(line)
