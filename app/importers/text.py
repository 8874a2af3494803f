"""Plain text and Markdown: decode, drop boilerplate, unwrap hard line breaks, split chapters.

Plain-text books (Project Gutenberg and friends) are hard-wrapped at ~70 columns and carry a
licence header and footer; Markdown notes carry link and emphasis syntax. Both are reduced to
paragraphs separated by blank lines, cut into sections at headings or "CHAPTER ..." lines so the
library can cite a chapter rather than "the whole file".
"""

from __future__ import annotations

import re
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


def _plain_sections(text: str, default_title: str) -> tuple[str, list[tuple[str, str]]]:
    text = strip_gutenberg(text)
    marks = [(m.start(), m.end(), m.group(1)) for m in _CHAPTER.finditer(text)]
    if len(marks) < 2:
        marks = []
    return default_title, split_at(text, marks, "Opening" if marks else default_title)


def import_text(path: Path, data: bytes, markdown: bool = False) -> Document:
    """Read a .txt or .md file into a Document."""
    text = decode_or_fail(path, data)
    if not text.strip():
        raise ImportFailed(path, "the file contains no text")
    fields = {m.group(1).lower(): m.group(2).strip() for m in _FIELD.finditer(text[:5000])}
    default_title = fields.get("title") or path.stem.replace("_", " ")
    if not markdown and "title" not in fields:  # a heading line names a book better than its file
        default_title = first_heading(strip_gutenberg(text).replace("\r\n", "\n")) or default_title
    splitter = _markdown_sections if markdown else _plain_sections
    title, parts = splitter(text, default_title)
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
