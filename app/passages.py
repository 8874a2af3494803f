"""Cut section text into passages for the full-text index, and turn user text into FTS5 queries.

A hit on a whole 50-page chapter is useless as a citation; a hit on one ~150-word passage with
its character offsets lets the GUI open the book at the right place and lets the answerer quote
it. Paragraphs are grouped rather than split mid-sentence so a passage reads as a unit.
"""

from __future__ import annotations

import re

MIN_WORDS = 100  # below this a passage is too thin to answer a question on its own
MAX_WORDS = 200  # above this bm25 favours long passages and citations get vague
_PARAGRAPH = re.compile(r"[^\n]+(?:\n(?!\n)[^\n]+)*")
_WORD = re.compile(r"\S+")
_TERM = re.compile(r"\w+", re.UNICODE)


def _paragraph_spans(text: str, line_mode: bool) -> list[tuple[int, int]]:
    pattern = re.compile(r"[^\n]+") if line_mode else _PARAGRAPH
    return [(m.start(), m.end()) for m in pattern.finditer(text) if m.group().strip()]


def _split_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split one over-long paragraph into ~MAX_WORDS windows at word boundaries."""
    words = list(_WORD.finditer(text, start, end))
    spans = []
    for i in range(0, len(words), MAX_WORDS):
        group = words[i : i + MAX_WORDS]
        spans.append((group[0].start(), group[-1].end()))
    return spans


def passage_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of passages covering ``text`` in order.

    Chat sections (one message per line, no blank lines) are grouped line by line.
    """
    line_mode = "\n\n" not in text
    spans: list[tuple[int, int]] = []
    cur_start, cur_end, cur_words = None, None, 0
    for start, end in _paragraph_spans(text, line_mode):
        words = len(_WORD.findall(text, start, end))
        if words > MAX_WORDS:
            if cur_start is not None:
                spans.append((cur_start, cur_end))
                cur_start, cur_words = None, 0
            spans += _split_long(text, start, end)
            continue
        if cur_start is not None and cur_words + words > MAX_WORDS:
            spans.append((cur_start, cur_end))
            cur_start, cur_words = None, 0
        if cur_start is None:
            cur_start = start
        cur_end, cur_words = end, cur_words + words
        if cur_words >= MIN_WORDS:
            spans.append((cur_start, cur_end))
            cur_start, cur_words = None, 0
    if cur_start is not None:
        if spans and cur_words < MIN_WORDS // 3 and spans[-1][1] - spans[-1][0] < MAX_WORDS * 8:
            spans[-1] = (spans[-1][0], cur_end)  # a tiny tail joins the previous passage
        else:
            spans.append((cur_start, cur_end))
    return spans


def fts_query(query: str, any_term: bool = False) -> str | None:
    """Turn free user text into a safe FTS5 MATCH expression (None when nothing is searchable).

    Every term is quoted, so punctuation, operators (AND, NEAR, *), colons and stray quotes are
    always taken literally. Text in double quotes is searched as a phrase. Terms are ANDed, or
    ORed when ``any_term`` (the fallback for natural-language questions).
    """
    parts: list[str] = []
    pieces = query.split('"')
    for i, piece in enumerate(pieces):
        terms = _TERM.findall(piece)
        if not terms:
            continue
        quoted_phrase = i % 2 == 1 and i < len(pieces) - 1  # inside a closed pair of quotes
        if quoted_phrase:
            parts.append('"' + " ".join(terms) + '"')
        else:
            parts += [f'"{t}"' for t in terms]
    if not parts:
        return None
    return (" OR " if any_term else " AND ").join(parts)
