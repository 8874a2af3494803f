"""A generated Obsidian-style vault: a few dozen notes in nested folders, with front matter,
wiki links, an image attachment and hidden folders that must be skipped."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

TOPICS = ["garden", "bread", "cycling", "chess", "piano", "birds", "tea", "hiking"]
FOLDERS = ["", "journal", "projects/home", "projects/work", "reading"]


def png_bytes() -> bytes:
    """A valid 1x1 PNG (an attachment the importer must skip)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")


def note_text(i: int) -> str:
    topic = TOPICS[i % len(TOPICS)]
    other = TOPICS[(i + 3) % len(TOPICS)]
    return (
        f"---\ntitle: Note {i} about {topic}\ntags:\n  - {topic}\n  - personal\ncreated: 2024-03-{i % 28 + 1:02d}\n---\n"
        f"# Heading {i}\n\n"
        f"On day {i} I spent time on {topic}; it links to [[{other} log|my {other} log]] and [[Index]].\n\n"
        f"- a **bold** remark number {i}\n- see ![[photo.png]] for the picture\n"
    )


@pytest.fixture
def vault(tmp_path) -> Path:
    root = tmp_path / "vault"
    for i in range(30):
        folder = root / FOLDERS[i % len(FOLDERS)]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"note-{i:02d}.md").write_text(note_text(i), encoding="utf-8")
    (root / "Index.md").write_text("Plain index without a heading: see [[note-01]] and [[reading/note-04#Heading 4]].\n",
                                   encoding="utf-8")
    (root / "reading" / "quotes.txt").write_text("A plain text note.\nSecond line of quotes.\n", encoding="utf-8")
    (root / "attachments").mkdir()
    (root / "attachments" / "photo.png").write_bytes(png_bytes())
    (root / "attachments" / "paper.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    for hidden in (".obsidian", ".trash", ".git"):
        (root / hidden).mkdir()
        (root / hidden / "secret.md").write_text("# Hidden\n\nshould never be imported\n", encoding="utf-8")
    (root / ".hidden-note.md").write_text("# Dot file\n\nskipped\n", encoding="utf-8")
    return root


@pytest.fixture
def library():
    from app.library import Library

    lib = Library()
    yield lib
    lib.close()


def _edit(vault: Path) -> None:
    """One note rewritten, one plain-text note revised, two deleted, one added in a new folder."""
    (vault / "journal" / "note-01.md").write_text("# Changed\n\nA completely new body about violins.\n", encoding="utf-8")
    (vault / "reading" / "quotes.txt").write_text("Quotes, revised.\n", encoding="utf-8")
    (vault / "projects" / "work" / "note-03.md").unlink()
    (vault / "Index.md").unlink()
    (vault / "new-folder").mkdir()
    (vault / "new-folder" / "fresh.md").write_text("# Fresh\n\nBrand new note about kites.\n", encoding="utf-8")


@pytest.fixture
def edit_vault():
    return _edit
