"""A single saved web page or HTML book: clean paragraphs, sections at top-level headings."""

from __future__ import annotations

from pathlib import Path

from ..document import Document, ImportFailed, Section, content_hash
from ._encoding import NotText
from ._markup import Block, html_blocks, page_title, parse_html


def _split_at_headings(blocks: list[Block], fallback: str) -> list[Section]:
    """Cut at the highest heading level that occurs at least twice (h1 for books, h2 for pages)."""
    levels = [int(b.kind[1]) for b in blocks if b.kind.startswith("h")]
    split = next((lv for lv in sorted(set(levels)) if levels.count(lv) >= 2), None)
    sections: list[Section] = []
    title, body = fallback, []
    for block in blocks:
        if split and block.kind == f"h{split}":
            if any(b.kind == "p" for b in body):
                sections.append(Section(title, "\n\n".join(b.text for b in body)))
                body = []
            title = block.text
        body.append(block)
    if body and any(b.kind == "p" for b in body):
        sections.append(Section(title, "\n\n".join(b.text for b in body)))
    return sections


def import_html(path: Path, data: bytes) -> Document:
    """Read an .html/.htm/.xhtml file into a Document."""
    try:
        root = parse_html(data)
    except NotText as exc:
        raise ImportFailed(path, str(exc)) from exc
    except Exception as exc:
        raise ImportFailed(path, f"the HTML could not be parsed ({exc})") from exc
    blocks = html_blocks(root)
    heading = next((b.text for b in blocks if b.kind == "h1"), None)
    title = page_title(root) or heading or path.stem
    sections = _split_at_headings(blocks, title)
    if not sections:
        raise ImportFailed(path, "the page contains no readable text")
    author = root.xpath("string(//meta[@name='author']/@content)").strip()
    language = root.get("lang") or root.get("xml:lang") or None
    return Document(
        title=title,
        authors=[author] if author else [],
        language=language,
        kind="book",
        source_path=str(path),
        content_hash=content_hash(data),
        sections=sections,
        meta={"format": "html"},
    )
