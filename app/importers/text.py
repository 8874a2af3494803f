"""Plain text and Markdown: decode, drop boilerplate, unwrap hard line breaks, split chapters.

Plain-text books (Project Gutenberg and friends) are hard-wrapped at ~70 columns and carry a
licence header and footer; Markdown notes carry link and emphasis syntax. Both are reduced to
paragraphs separated by blank lines, cut into sections at headings or "CHAPTER ..." lines so the
library can cite a chapter rather than "the whole file".
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from ..document import Document, ImportFailed, Section, content_hash
from ._encoding import NotText, decode_text

_GUTENBERG_START = re.compile(r"^\*{3}\s*START OF (THE|THIS) PROJECT GUTENBERG.*$", re.I | re.M)
_GUTENBERG_END = re.compile(r"^\*{3}\s*END OF (THE|THIS) PROJECT GUTENBERG.*$", re.I | re.M)
_CHAPTER = re.compile(
    r"^[ \t]*((?:CHAPTER|Chapter|BOOK|Book|PART|Part|LETTER|Letter)[ \t]+"
    r"(?:[IVXLCDM]+|\d+|[A-Za-z]+(?:-[A-Za-z]+)?)\b[^\n]{0,80}|PROLOGUE|Prologue|EPILOGUE|Epilogue)[ \t]*$",
    re.M,
)
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_FIELD = re.compile(r"^(Title|Author|Language):[ \t]*(.+)$", re.M)


def decode_or_fail(path: Path, data: bytes) -> str:
    """Decode a text file, turning "this is binary" into the user-facing error."""
    try:
        return decode_text(data)
    except NotText as exc:
        raise ImportFailed(path, str(exc)) from exc


def unwrap(text: str) -> str:
    """Join hard-wrapped lines into paragraphs; keep short-line blocks (verse, lists) as they are."""
    paragraphs = []
    for block in re.split(r"\n[ \t]*\n+", text.strip()):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        long_lines = sum(len(line) >= 50 for line in lines[:-1])
        if len(lines) > 1 and long_lines >= (len(lines) - 1) * 0.6:
            paragraphs.append(" ".join(lines))
        else:
            paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def strip_gutenberg(text: str) -> str:
    start, end = _GUTENBERG_START.search(text), _GUTENBERG_END.search(text)
    if start and end and start.end() < end.start():
        return text[start.end() : end.start()]
    return text


def split_at(text: str, marks: list[tuple[int, int, str]], first_title: str) -> list[tuple[str, str]]:
    """Cut ``text`` at (start, end, title) marks; the text before the first mark keeps first_title."""
    parts = []
    cursor, title = 0, first_title
    for start, end, next_title in marks:
        parts.append((title, text[cursor:start]))
        cursor, title = end, next_title
    parts.append((title, text[cursor:]))
    return [(t.strip(), body) for t, body in parts if body.strip()]


def _markdown_sections(text: str, default_title: str) -> tuple[str, list[tuple[str, str]]]:
    text = _HTML_COMMENT.sub("", text)
    headings = list(_MD_HEADING.finditer(text))
    title = next((m.group(2) for m in headings if m.group(1) == "#"), default_title)
    if headings:
        top = min(len(m.group(1)) for m in headings)
        # Split on the top heading level, or the next one down when there is a single title heading.
        levels = [len(m.group(1)) for m in headings]
        split_level = top + 1 if levels.count(top) == 1 and any(lv == top + 1 for lv in levels) else top
        marks = [(m.start(), m.end(), m.group(2)) for m in headings if len(m.group(1)) <= split_level]
    else:
        marks = []
    parts = split_at(text, marks, title)
    cleaned = []
    for part_title, body in parts:
        body = _MD_HEADING.sub(lambda m: m.group(2), body)
        body = _MD_IMAGE.sub(lambda m: m.group(1), body)
        body = _MD_LINK.sub(lambda m: m.group(1), body)
        body = _MD_EMPHASIS.sub(lambda m: m.group(2), body)
        cleaned.append((_MD_EMPHASIS.sub(lambda m: m.group(2), part_title), body))
    return title, cleaned


def first_heading(text: str) -> str | None:
    """The title line a plain text opens with: short, alone in its paragraph, not a sentence and
    not a chapter mark ("AESOP'S FABLES" above the first fable). None when it has none."""
    block = text.strip().split("\n\n", 1)[0].strip()
    if not block or "\n" in block or len(block) > 80 or _CHAPTER.fullmatch(block):
        return None
    if block[-1] in ".,;:!?" or len(block.split()) > 12:
        return None
    return block


# A title line: at most this long, in words and characters; a section's text at least this long.
_TITLE_WORDS, _TITLE_CHARS, _SECTION_CHARS = 12, 80, 150
# Text before the first title shorter than this (a title line, a translator's note) opens the
# first section instead of being a section of its own.
_FRONT_MATTER_CHARS = 300
_SMALL_WORDS = frozenset(
    "a an and as at but by for from in into nor of off on or out over per than the to up upon via "
    "vs with".split())
_ADMONITIONS = frozenset({"note", "tip", "hint", "caution", "warning", "important", "danger"})
_NUMERAL = re.compile(r"(?:[IVXLCDM]+|\d{1,3})\.?")  # "IV.", "12": a heading that only numbers
_OPENERS = "\"'“‘«„‹([{<*•·-–—_=#>|~"  # dialogue, lists, rules and markup start with these
_CLOSERS = ".,;:!?\"'”’»…-–—*_=/\\]"  # a sentence, a dialogue line, a reference ends so
_NEXT_LINE = re.compile(r"\n([^\n]*\S[^\n]*)")  # the very next line, when it is not blank
_BLOCK = re.compile(r"(?:[^\n]*\S[^\n]*(?:\n|\Z))+")  # lines up to a blank line


def is_title_line(block: str) -> bool:
    """Whether a paragraph reads as a title: one short line that does not end as a sentence or a
    dialogue line ends, whose words are capitalized as titles are ("The Hare and the Tortoise",
    "THE FIR TREE", "3. It's Alive: Rich Content") or that only numbers ("IV.")."""
    if _NUMERAL.fullmatch(block):
        return True
    if "\n" in block or not 2 <= len(block) <= _TITLE_CHARS:
        return False
    words = block.split()
    if len(words) > _TITLE_WORDS or block[0] in _OPENERS or block[-1] in _CLOSERS:
        return False
    if not (block[0].isupper() or block[0].isdigit()):
        return False
    for word in words[1:]:
        letters = word.lstrip("\"'“‘([-–—&")
        if letters[:1].isalpha() and letters[:1].islower() and word.lower() not in _SMALL_WORDS:
            return False
    return True


def _chapter_marks(text: str) -> list[tuple[int, int, str]]:
    """"CHAPTER I." lines as (start, end, title) marks. A chapter title hard-wrapped onto a line
    or two more ("CHAPTER I HOW THE AGRICULTURAL SYSTEM ... WAS" / "ALTERED BY ...") is whole."""
    marks = []
    for m in _CHAPTER.finditer(text):
        end, lines = m.end(), [m.group(1).strip()]
        while len(lines) < 3 and (line := _NEXT_LINE.match(text, end)):
            more = line.group(1).strip()
            if not (more.isupper() or len(more) < 50) or _CHAPTER.fullmatch(more):
                break
            lines.append(more)
            end = line.end()
        marks.append((m.start(), end, " ".join(lines)))
    return marks


def _title_marks(text: str, title_line: str | None) -> list[tuple[int, int, str]]:
    """Titles on their own line between blank lines, as (start, end, title) marks.

    A title is a title line (is_title_line) with text after it. Of two title lines in a row the
    first is the title and the second (a byline, a subtitle) stays in the section's text; a
    number line right above a title joins it ("IV." + "Friendship"). A longer run of title lines
    is a list of contents and heads no section, but for its last line when that repeats an
    entry of the list (the first title, right after the contents). The document's own title
    line at the very top is not a section, nor is a line that comes back ("Note" above each
    note in a manual).
    """
    blocks = [(m.start(), m.end(), m.group().strip()) for m in _BLOCK.finditer(text)]
    titles = [is_title_line(b[2]) and not _FIELD.match(b[2]) for b in blocks]  # "Title: ..."
    if blocks and title_line is not None and blocks[0][2] == title_line:
        titles[0] = False
    marks, i = [], 0
    while i < len(blocks):
        if not titles[i]:
            i += 1
            continue
        run_end = i  # a run of title lines: a title, a byline, a list of contents...
        while run_end + 1 < len(blocks) and titles[run_end + 1]:
            run_end += 1
        followed = run_end + 1 < len(blocks)  # by text
        numbered = _NUMERAL.fullmatch(blocks[i][2]) is not None
        if followed and run_end - i < (3 if numbered else 2):
            head = i + 1 if numbered and run_end > i else i  # "IV." + "Friendship"
            title = blocks[i][2] if head == i else f"{blocks[i][2].rstrip('.')}. {blocks[head][2]}"
            marks.append((blocks[i][0], blocks[head][1], title))  # a byline stays in the text
        elif followed and blocks[run_end][2].casefold() in {
                b[2].casefold() for b in blocks[i:run_end]}:
            marks.append(blocks[run_end])  # the contents, then the first title they list
        i = run_end + 1
    # A line that comes back ("Note" above each note) labels a box in the text, as the labels
    # of DocBook's admonitions do even once; neither names a section.
    seen = Counter(title.casefold() for _, _, title in marks)
    return [mark for mark in marks
            if seen[mark[2].casefold()] == 1 and mark[2].casefold() not in _ADMONITIONS]


def _with_text(text: str, marks: list[tuple[int, int, str]],
               titles: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The marks that head some text: a title heading less than a few lines (a stray short line)
    or a chapter line heading nothing (a line of a list of contents) is taken back, its text
    joining the section before. Two at least, or none."""
    marks, titles = sorted(marks + titles), set(titles)
    for _ in range(len(marks)):
        ends = [m[0] for m in marks[1:]] + [len(text)]
        short = [k for k, (mark, end) in enumerate(zip(marks, ends, strict=True))
                 if len(text[mark[1]:end].strip()) < (_SECTION_CHARS if mark in titles else 1)]
        if not short:
            break
        del marks[short[0]]
    return marks if len(marks) >= 2 else []


def _plain_sections(text: str, default_title: str,
                    title_line: str | None = None) -> tuple[str, list[tuple[str, str]]]:
    """Sections at "CHAPTER ..." lines and at titles on their own line between blank lines
    (_title_marks; in an anthology the stories have titles and one of them chapters). Front
    matter shorter than a few lines opens the first section rather than being one."""
    text = strip_gutenberg(text).replace("\r\n", "\n")
    chapters = _chapter_marks(text)
    titles = [t for t in _title_marks(text, title_line)
              if not any(c[0] <= t[1] and t[0] <= c[1] for c in chapters)]
    marks = _with_text(text, chapters if len(chapters) >= 2 else [], titles)
    if not marks:
        return default_title, split_at(text, [], default_title)
    if len(text[: marks[0][0]].strip()) < _FRONT_MATTER_CHARS:
        # The front matter stays, as the opening of the first section (mark cut from 0).
        first = marks[0]
        body = text[: first[0]] + text[first[1]:]
        shift = first[1] - first[0]
        text, marks = body, [(0, 0, first[2])] + [(a - shift, b - shift, t) for a, b, t in marks[1:]]
    return default_title, split_at(text, marks, "Opening")


def import_text(path: Path, data: bytes, markdown: bool = False) -> Document:
    """Read a .txt or .md file into a Document."""
    text = decode_or_fail(path, data)
    if not text.strip():
        raise ImportFailed(path, "the file contains no text")
    fields = {m.group(1).lower(): m.group(2).strip() for m in _FIELD.finditer(text[:5000])}
    default_title = fields.get("title") or path.stem.replace("_", " ")
    title_line = None
    if not markdown and "title" not in fields:  # a heading line names a book better than its file
        title_line = first_heading(strip_gutenberg(text).replace("\r\n", "\n"))
        default_title = title_line or default_title
    if markdown:
        title, parts = _markdown_sections(text, default_title)
    else:
        title, parts = _plain_sections(text, default_title, title_line)
    sections = []
    for part_title, body in parts:
        body = unwrap(body)
        if body:
            sections.append(Section(part_title or f"Section {len(sections) + 1}", body))
    if not sections:
        raise ImportFailed(path, "the file contains no readable text")
    return Document(
        title=title,
        authors=[fields["author"]] if "author" in fields else [],
        language=fields.get("language"),
        kind="notes" if markdown else "book",
        source_path=str(path),
        content_hash=content_hash(data),
        sections=sections,
        meta={"format": "markdown" if markdown else "text"},
    )
