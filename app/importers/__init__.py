"""Import any supported file into a Document: one entry point that picks the format from content.

People rename files, download ``book.epub.zip`` or a chat export called ``data.json``; the
extension alone is a weak hint. We look at magic bytes, JSON keys and line patterns first and
use the extension only to break ties and to word the error when a file is not what it claims.
Every refusal is an ImportFailed whose message is one sentence naming the file and the cause.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

from .. import units
from ..document import Document, ImportFailed
from ._encoding import NotText, clean_name, decode_text
from .chats import (
    import_chatgpt,
    import_locomo,
    import_telegram,
    import_transcript,
    import_whatsapp,
    is_chatgpt,
    is_locomo,
    is_telegram,
    transcript_lines,
    whatsapp_lines,
)
from .epub import import_epub
from .html import import_html
from .notes import import_notes
from .pdf import import_pdf
from .text import import_text

__all__ = ["import_file", "detect_format", "ImportFailed", "DEFAULT_MAX_BYTES", "SUPPORTED_EXTENSIONS"]

DEFAULT_MAX_BYTES = 200 * 1024 * 1024  # larger than any book; keeps a stray video out of memory
SUPPORTED_EXTENSIONS = {
    ".epub", ".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml", ".pdf", ".json",
}
_MARKDOWN_EXT = {".md", ".markdown"}
log = logging.getLogger(__name__)
_HTML_EXT = {".html", ".htm", ".xhtml"}


def max_bytes() -> int:
    """Size limit: ``LOCAS_MAX_IMPORT_MB`` overrides the default (for huge PDFs or tests)."""
    env = os.environ.get("LOCAS_MAX_IMPORT_MB")
    return int(float(env) * 1024 * 1024) if env else DEFAULT_MAX_BYTES


def _read(path: Path, limit: int) -> bytes:
    if not path.exists():
        raise ImportFailed(path, "the file does not exist")
    if path.is_dir():
        raise ImportFailed(path, "it is a folder, not a file")
    try:
        size = path.stat().st_size
        if size > limit:
            raise ImportFailed(path, f"the file is {units.size(size, binary=True)}, over the "
                                     f"{units.size(limit, binary=True)} import limit")
        data = path.read_bytes()
    except PermissionError as exc:
        raise ImportFailed(path, "the file cannot be read (permission denied)") from exc
    except OSError as exc:
        raise ImportFailed(path, f"the file cannot be read ({exc.strerror or exc})") from exc
    if not data.strip():
        raise ImportFailed(path, "the file is empty")
    return data


def detect_format(path: Path, data: bytes) -> str:
    """One of epub, pdf, json, html, whatsapp, transcript, markdown, text; or raise ImportFailed."""
    ext = path.suffix.lower()
    if data.startswith(b"PK\x03\x04") or ext == ".epub":
        if ext != ".epub" and b"META-INF/container.xml" not in data[:200_000] and b"epub" not in data[:100]:
            raise ImportFailed(path, "the file is a zip archive, not an EPUB book")
        return "epub"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if ext == ".pdf":
        raise ImportFailed(path, "the file is not a valid PDF (it has no PDF header)")
    try:
        text = decode_text(data[:400_000])
    except NotText as exc:
        if ext in SUPPORTED_EXTENSIONS:
            raise ImportFailed(path, f"the file is not a valid {ext[1:].upper()} file ({exc})") from exc
        raise ImportFailed(path, "the file format is not supported") from exc
    head = text.lstrip()[:2000]
    # "[5/12/23, 2:03 PM] Ann: ..." (a WhatsApp line) also starts with "[": JSON arrays here hold
    # objects, arrays or strings.
    if ext == ".json" or head.startswith("{") or re.match(r'\[\s*[\[{"\]]', head):
        if ext not in _HTML_EXT | _MARKDOWN_EXT:
            return "json"
    lowered = head.lower()
    if ext in _HTML_EXT or lowered.startswith(("<!doctype html", "<html", "<?xml")) or "<body" in lowered[:2000]:
        return "html"
    if whatsapp_lines(text) >= 2:
        return "whatsapp"
    hits, lines, speakers = transcript_lines(text)
    if lines >= 3 and len(speakers) >= 2 and hits >= 0.6 * lines:
        return "transcript"
    if ext in _MARKDOWN_EXT:
        return "markdown"
    return "text"


def _import_json(path: Path, data: bytes) -> Document:
    try:
        obj = json.loads(decode_text(data))
    except NotText as exc:
        raise ImportFailed(path, "the chat file is not valid JSON (it holds binary data)") from exc
    except json.JSONDecodeError as exc:
        raise ImportFailed(path, f"the chat file is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from exc
    try:
        if is_locomo(obj):
            return import_locomo(path, data, obj)
        if is_chatgpt(obj):
            return import_chatgpt(path, data, obj)
        if is_telegram(obj):
            return import_telegram(path, data, obj)
    except ImportFailed:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ImportFailed(path, f"the chat file is malformed ({type(exc).__name__}: {exc})") from exc
    raise ImportFailed(path, "the JSON file is not a recognised chat export (LoCoMo, ChatGPT or Telegram)")


def import_file(path: str | os.PathLike, max_size: int | None = None) -> Document:
    """Read ``path`` into a Document, or raise ImportFailed (never another exception type).

    A folder is read as a folder of notes (one Document, a Section per note). File names that
    are not valid UTF-8 are stored with U+FFFD in place of their bad bytes.
    """
    return _clean_names(_import_file(Path(path).expanduser(), max_size))


def _clean_names(doc: Document) -> Document:
    doc.title = clean_name(doc.title)
    doc.source_path = clean_name(doc.source_path)
    for section in doc.sections:
        section.title = clean_name(section.title)
        section.meta = {k: clean_name(v) if isinstance(v, str) else v for k, v in section.meta.items()}
    return doc


def _import_file(path: Path, max_size: int | None) -> Document:
    if path.is_dir():
        try:
            return import_notes(path)
        except ImportFailed:
            raise
        except Exception as exc:  # as below: one sentence for the user, whatever went wrong
            log.warning("Import of %s failed", path, exc_info=True)
            raise ImportFailed(path, "a file in the folder is damaged or in a form Locas Reader cannot read") from exc
    data = _read(path, max_size if max_size is not None else max_bytes())
    try:
        fmt = detect_format(path, data)
        if fmt == "epub":
            return import_epub(path, data)
        if fmt == "pdf":
            return import_pdf(path, data)
        if fmt == "json":
            return _import_json(path, data)
        if fmt == "html":
            return import_html(path, data)
        text = decode_text(data)
        if fmt == "whatsapp":
            return import_whatsapp(path, data, text)
        if fmt == "transcript":
            return import_transcript(path, data, text)
        return import_text(path, data, markdown=fmt == "markdown")
    except ImportFailed:
        raise
    except NotText as exc:
        raise ImportFailed(path, str(exc)) from exc
    except RecursionError as exc:
        raise ImportFailed(path, "the file is nested too deeply to read") from exc
    except Exception as exc:  # a bug or an unforeseen malformation: still one sentence for the user
        log.warning("Import of %s failed", path, exc_info=True)  # the details, for a bug report
        raise ImportFailed(path, "the file is damaged or in a form Locas Reader cannot read") from exc
