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


# Words too common to say what a passage is about: matching or ranking on them ("the", "of")
# floods results and highlights. Left out of unquoted searches unless nothing else is left;
# kept inside a quoted phrase, where they are part of what is asked for.
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor not now of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves
""".split())


def fts_query(query: str, any_term: bool = False) -> str | None:
    """Turn free user text into a safe FTS5 MATCH expression (None when nothing is searchable).

    Every term is quoted, so punctuation, operators (AND, NEAR, *), colons and stray quotes are
    always taken literally. Text in double quotes is a phrase that every hit must contain in its
    text (a chapter title holding the phrase does not make each of its passages a hit). Other
    terms are ANDed, or ORed when ``any_term`` (the fallback for natural-language questions);
    stopwords among them are dropped unless they are all there is.
    """
    phrases: list[str] = []
    terms: list[str] = []
    pieces = query.split('"')
    for i, piece in enumerate(pieces):
        words = _TERM.findall(piece)
        if not words:
            continue
        if i % 2 == 1 and i < len(pieces) - 1:  # inside a closed pair of quotes
            phrases.append('text : "' + " ".join(words) + '"')
        else:
            terms += words
    content = [t for t in terms if t.lower() not in STOPWORDS]
    if content or phrases:
        terms = content
    quoted = [f'"{t}"' for t in terms]
    if not phrases and not quoted:
        return None
    if any_term and quoted:
        loose = quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"
        return " AND ".join([*phrases, loose])
    return " AND ".join([*phrases, *quoted])
