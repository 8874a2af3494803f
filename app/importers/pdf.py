"""PDF through pypdf: page text rejoined into paragraphs, sections from bookmarks or page ranges.

PDF has no paragraphs, only positioned lines; pypdf gives one line per text row. We undo
hyphenation at line ends and start a new paragraph where a line ends a sentence well short of
the usual line width, which recovers prose paragraphs well enough for memorizing and search.
"""

from __future__ import annotations

import io
import re
import statistics
from pathlib import Path

from ..document import Document, ImportFailed, Section, content_hash

PAGES_PER_SECTION = 10  # without bookmarks, a citation still points at a 10-page range
_HYPHEN_END = re.compile(r"(\w)-$")


def page_paragraphs(text: str) -> list[str]:
    """Reflow one page's lines into paragraphs."""
    lines = [line.rstrip() for line in text.replace("\r", "\n").split("\n")]
    widths = [len(line) for line in lines if line.strip()]
    if not widths:
        return []
    full = statistics.median(widths)
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        stripped = line.strip()
        if not stripped:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        if current.endswith("-") and _HYPHEN_END.search(current) and stripped[:1].islower():
            current = current[:-1] + stripped
        else:
            current = f"{current} {stripped}" if current else stripped
        if stripped[-1:] in ".!?:\"”’" and len(stripped) < 0.8 * full:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return [re.sub(r"\s+", " ", p).strip() for p in paragraphs if p.strip()]


def _outline_starts(reader) -> list[tuple[int, str]]:
    """Top-level bookmarks as (first page index, title), sorted by page."""
    starts = []
    try:
        for entry in reader.outline:
            if isinstance(entry, list):
                continue  # nested bookmarks: keep only the top level as sections
            page = reader.get_destination_page_number(entry)
            if page is not None and page >= 0:
                starts.append((page, str(entry.title).strip()))
    except Exception:
        return []
    return sorted(set(starts))


def import_pdf(path: Path, data: bytes) -> Document:
    """Read a PDF into a Document; scanned (image-only) and locked PDFs are refused."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ImportFailed(path, "the PDF is password-protected")
        pages = [page.extract_text() or "" for page in reader.pages]
    except ImportFailed:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise ImportFailed(path, f"the PDF file is damaged or incomplete ({exc})") from exc
    except Exception as exc:  # pypdf raises a wide variety on broken files
        raise ImportFailed(path, f"the PDF file could not be read ({type(exc).__name__}: {exc})") from exc

    paragraphs = [page_paragraphs(text) for text in pages]
    if not any(paragraphs):
        raise ImportFailed(path, "the PDF contains no text (it may be scanned images)")

    starts = _outline_starts(reader)
    if not starts or starts[0][0] != 0:
        starts = [(0, "Opening")] + starts if starts else [
            (i, f"Pages {i + 1}–{min(i + PAGES_PER_SECTION, len(pages))}")
            for i in range(0, len(pages), PAGES_PER_SECTION)
        ]
    sections = []
    for n, (first, title) in enumerate(starts):
        last = starts[n + 1][0] if n + 1 < len(starts) else len(pages)
        text = "\n\n".join(p for page in paragraphs[first:last] for p in page)
        if text:
            sections.append(Section(title, text, {"pages": [first + 1, last]}))

    meta = reader.metadata or {}
    title = (getattr(meta, "title", None) or "").strip() or path.stem
    author = (getattr(meta, "author", None) or "").strip()
    return Document(
        title=title,
        authors=[author] if author else [],
        language=None,
        kind="book",
        source_path=str(path),
        content_hash=content_hash(data),
        sections=sections,
        meta={"format": "pdf", "pages": len(pages)},
    )
