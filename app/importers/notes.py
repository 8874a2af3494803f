"""A folder of notes (an Obsidian or Logseq vault, or any tree of .md/.txt files) as one Document.

A person's notes are many small files that change one at a time, so the folder is one library
document with one Section per note: sync can then replace just the notes that changed, and a
memory can be brought up to date with only those. Each section's meta keeps the note's path
relative to the folder (its identity across syncs), its modification time and a hash of the
text as stored (what tells a changed note from an untouched one).

Vault syntax is rewritten into plain readable text rather than dropped: YAML front matter becomes
"key: value" lines, ``[[Page|alias]]`` becomes "alias" and ``[[Page]]`` "Page", Logseq
``key:: value`` properties become "key: value". Attachments (images, PDFs...) and hidden folders
(.obsidian, .git, .trash) are skipped, as is Logseq's own ``logseq/`` folder of settings and backups.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime, timezone
from pathlib import Path

from ..document import Document, ImportFailed, Section, section_hash
from ._encoding import NotText, decode_text
from .links import link_problem
from .text import _HTML_COMMENT, _MD_EMPHASIS, _MD_HEADING, _MD_IMAGE, _MD_LINK

NOTE_EXTENSIONS = {".md", ".markdown", ".txt", ".text"}
_MARKDOWN = {".md", ".markdown"}
MAX_NOTE_BYTES = 5 * 1024 * 1024  # a "note" bigger than this is a book or a log: import it as a file

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_EMBED = re.compile(r"!\[\[([^\]\n]+)\]\]")
_WIKI = re.compile(r"\[\[([^\]\n]+)\]\]")
_BLOCK_REF = re.compile(r"\(\([0-9a-f-]{36}\)\)")
_LOGSEQ_PROPERTY = re.compile(r"^([ \t]*(?:- )?)([A-Za-z][\w-]*)::[ \t]*", re.M)
_BLANK_RUNS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def _skip_dir(parent: Path, name: str) -> bool:
    """Hidden folders and Logseq's settings/backup folder hold no notes of the person's own."""
    return name.startswith(".") or (name == "logseq" and (parent / name / "config.edn").exists())


def note_files(folder: Path, warnings: list[str] | None = None) -> tuple[list[Path], int]:
    """The note files under ``folder`` sorted by relative path, and how many other files were
    skipped; a bad link is skipped with a sentence added to ``warnings``."""
    notes: list[Path] = []
    skipped = 0
    for root, dirs, files in os.walk(folder):
        base = Path(root)
        dirs[:] = sorted(d for d in dirs if not _skip_dir(base, d))
        for name in files:
            path = base / name
            if name.startswith(".") or path.suffix.lower() not in NOTE_EXTENSIONS:
                skipped += 1
                continue
            problem = link_problem(folder, path)
            if problem:
                skipped += 1
                if warnings is not None:
                    warnings.append(problem)
                continue
            notes.append(path)
    notes.sort(key=lambda p: p.relative_to(folder).as_posix().casefold())
    return notes, skipped


def _front_matter_lines(block: str) -> tuple[list[str], dict[str, str]]:
    """YAML front matter as readable "key: value" lines; lists are joined with commas.

    A tiny reader rather than a YAML parser: notes' front matter is flat keys, lists and
    strings, and a malformed block must still come out as text instead of failing the import.
    """
    lines: list[str] = []
    fields: dict[str, str] = {}
    key: str | None = None
    items: list[str] = []

    def flush() -> None:
        if key is not None and items:
            fields[key] = ", ".join(items)
            lines.append(f"{key}: {fields[key]}")

    for raw in block.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        item = re.match(r"^\s+-\s*(.*)$", raw) or re.match(r"^-\s+(.*)$", raw)
        if item and key is not None:
            items.append(item.group(1).strip().strip("'\""))
            continue
        flush()
        match = re.match(r"^([^:]+):\s*(.*)$", raw)
        if not match:
            key, items = None, []
            lines.append(raw.strip())
            continue
        key, value = match.group(1).strip(), match.group(2).strip()
        items = []
        if value.startswith("[") and value.endswith("]"):
            value = ", ".join(v.strip().strip("'\"") for v in value[1:-1].split(",") if v.strip())
        value = value.strip("'\"")
        if value:
            fields[key] = value
            lines.append(f"{key}: {value}")
            key = None
    flush()
    return lines, fields


def _link_text(target: str) -> str:
    """``Page|alias`` -> alias; ``Page#Heading`` -> "Page > Heading"; ``folder/Page`` -> Page."""
    if "|" in target:
        return target.split("|", 1)[1].strip()
    page, _, heading = target.partition("#")
    page = page.strip().rsplit("/", 1)[-1]
    page = re.sub(r"\.(md|markdown)$", "", page)
    heading = heading.lstrip("^").strip()
    return f"{page} > {heading}" if page and heading else page or heading


def _embed_text(match: re.Match[str]) -> str:
    """An embedded note reads as its name; an embedded attachment (image, PDF) is dropped."""
    target = match.group(1).split("|", 1)[0].split("#", 1)[0].strip()
    suffix = Path(target).suffix.lower()
    return "" if suffix and suffix not in _MARKDOWN else _link_text(match.group(1))


def clean_note(text: str, markdown: bool) -> tuple[str, str | None, dict[str, str]]:
    """(readable text, first heading or None, front matter fields) of one note."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    fields: dict[str, str] = {}
    header: list[str] = []
    front = _FRONT_MATTER.match(text)
    if front:
        header, fields = _front_matter_lines(front.group(1))
        text = text[front.end():]
    heading = None
    if markdown:
        text = _HTML_COMMENT.sub("", text)
        first = _MD_HEADING.search(text)
        if first and not text[: first.start()].strip():
            heading = _MD_EMPHASIS.sub(lambda m: m.group(2), first.group(2)).strip()
            text = text[first.end():]  # the title is memorized above the text; say it once
        elif first:
            heading = first.group(2).strip()
        text = _EMBED.sub(_embed_text, text)
        text = _WIKI.sub(lambda m: _link_text(m.group(1)), text)
        text = _BLOCK_REF.sub("", text)
        text = _LOGSEQ_PROPERTY.sub(lambda m: f"{m.group(1)}{m.group(2)}: ", text)
        text = _MD_HEADING.sub(lambda m: m.group(2), text)
        text = _MD_IMAGE.sub(lambda m: m.group(1), text)
        text = _MD_LINK.sub(lambda m: m.group(1), text)
        text = _MD_EMPHASIS.sub(lambda m: m.group(2), text)
    body = _BLANK_RUNS.sub("\n\n", "\n".join(line.rstrip() for line in text.split("\n"))).strip()
    return "\n\n".join(p for p in ("\n".join(header), body) if p), heading, fields


def note_section(folder: Path, path: Path) -> Section | None:
    """One note file as a Section, or None when it holds no readable text."""
    data = path.read_bytes()
    if len(data) > MAX_NOTE_BYTES:
        return None
    try:
        raw = decode_text(data)
    except NotText:
        return None
    text, heading, fields = clean_note(raw, markdown=path.suffix.lower() in _MARKDOWN)
    if not text:
        return None
    title = fields.get("title") or heading or path.stem.replace("_", " ")
    mtime = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
    meta = {"path": path.relative_to(folder).as_posix(), "mtime": mtime, "hash": section_hash(title, text)}
    return Section(title, text, meta)


def folder_hash(source: str, sections: list[Section]) -> str:
    """A notes folder's identity is its path; the hash also changes with any note so it stays unique."""
    digest = hashlib.sha256(f"notes-folder\0{source}".encode())
    for section in sections:
        digest.update(f"\0{section.meta.get('path')}\0{section.meta.get('hash')}".encode())
    return digest.hexdigest()


def import_notes(folder: Path) -> Document:
    """Read every note under ``folder`` into one Document of kind "notes", a Section per note."""
    folder = folder.expanduser().resolve()
    if not folder.exists():
        raise ImportFailed(folder, "the folder does not exist")
    try:
        warnings: list[str] = []
        paths, skipped = note_files(folder, warnings)
        if not paths and not skipped and not any(folder.iterdir()):
            raise ImportFailed(folder, "the folder is empty")
        if not paths:
            raise ImportFailed(folder, "the folder holds no Markdown or text notes")
        sections = [s for s in (note_section(folder, p) for p in paths) if s is not None]
    except PermissionError as exc:
        raise ImportFailed(folder, f"a note in the folder cannot be read ({exc.filename}: permission denied)") from exc
    except OSError as exc:
        raise ImportFailed(folder, f"the folder cannot be read ({exc.strerror or exc})") from exc
    if not sections:
        raise ImportFailed(folder, "the notes in the folder hold no text")
    source = str(folder)
    return Document(
        title=folder.name or source,
        authors=[],
        language=None,
        kind="notes",
        source_path=source,
        content_hash=folder_hash(source, sections),
        sections=sections,
        meta={"format": "notes-folder", "notes": len(sections), "skipped_files": skipped + len(paths) - len(sections),
              "warnings": warnings},
    )
