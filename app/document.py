"""The one shape every importer returns, whatever the file format.

Keeping a single plain-data `Document` lets the library, the memorizer and the GUI ignore where a
text came from: a book chapter and a chat session are both a titled `Section` of text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import UserError

KINDS = ("book", "chat", "notes")
# No-break and narrow spaces become plain spaces in text (one for one, so offsets hold): they
# printed as double spaces and kept words apart from a search for them.
_NO_BREAK = str.maketrans({"\u00a0": " ", "\u2007": " ", "\u202f": " "})


def one_line(title: str) -> str:
    """A title as shown: any run of whitespace (no-break spaces, newlines) is one space."""
    return " ".join(title.split())


class ImportFailed(UserError):
    """A file could not be imported; ``str()`` is one sentence naming the file and the cause.

    The GUI and the command line show the message as is, so it must read well to a person who
    does not know what an EPUB spine or a JSON key is.
    """

    def __init__(self, path: str | Path, cause: str) -> None:
        self.path = Path(path)
        self.cause = cause.rstrip(".")
        name = self.path.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        super().__init__(f"Could not import {name}: {self.cause}.")


@dataclass
class Section:
    """A titled run of text: a chapter, a web page, a PDF, one chat session."""

    title: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.title = one_line(self.title)
        self.text = self.text.translate(_NO_BREAK)


@dataclass
class Document:
    """An imported file: metadata plus its ordered sections of clean text."""

    title: str
    authors: list[str]
    language: str | None
    kind: str  # one of KINDS: "book" | "chat" | "notes"
    source_path: str
    content_hash: str
    sections: list[Section]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert self.kind in KINDS, f"kind must be one of {KINDS}, got {self.kind!r}"
        self.title = one_line(self.title)
        self.authors = [one_line(a) for a in self.authors]

    @property
    def characters(self) -> int:
        """Total characters of section text (what the CLI and GUI report as size)."""
        return sum(len(s.text) for s in self.sections)


def content_hash(data: bytes) -> str:
    """SHA-256 of the raw file bytes: the same file imported twice is recognised as such."""
    return hashlib.sha256(data).hexdigest()


def memorized_text(title: str, text: str) -> str:
    """A section as it is memorized: its title above its text (the text alone when untitled).
    A whole document is its sections joined by a blank line; a section memorized on its own
    (chosen chapters, notes) is followed by one."""
    return f"{title}\n\n{text}" if title else text


def section_hash(title: str, text: str) -> str:
    """SHA-256 of a section's title and text: tells a changed note from an untouched one, and
    which version of a note a memory holds. Fixed forever (stored hashes must keep matching), so
    an untitled section still hashes a leading blank line where ``memorized_text`` has none."""
    return hashlib.sha256(f"{title}\n\n{text}".encode()).hexdigest()
