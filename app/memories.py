"""Managing memories as things a user owns: show, rename, delete, export.

Shared by the command line and the GUI. Files and library rows change together, and a delete
keeps nothing half-done: the row goes only after its files are gone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import JobError
from app.library import Library
from app.memorize.paths import MEMORY_SUFFIXES, META, TENSORS, memory_file
from app.memorize.recovery import memory_problem, remove_temp_files
from app.memorize.recovery import memory_row as _row
from app.memorize.sections import number_ranges
from app.memorize.specs import read_specs
from locas_engine.spec import flat

if TYPE_CHECKING:
    from app.session import Session


@dataclass
class Holding:
    """What a memory holds of one of its documents: which sections (numbered as `locas list
    --sections` numbers them) and how many tokens, and what it is still to memorize."""

    document_id: int
    title: str
    sections: int  # how many the document has now (0: deleted from the library)
    held: list[int] = field(default_factory=list)  # numbers of the sections it holds
    tokens: int = 0  # tokens of the text it holds, as memorized
    pending: list[int] = field(default_factory=list)  # numbers still to memorize (a run to come)
    status: str = "done"  # of the source: pending, done or deleted

    @property
    def whole(self) -> bool:
        return self.sections > 0 and len(self.held) == self.sections

    @property
    def partly(self) -> bool:
        return bool(self.held) and not self.whole

    def what(self, noun: str = "sections") -> str:
        """'all 139 sections', 'sections 1-3, 6 of 139', 'nothing yet'."""
        if self.status == "deleted" or not self.sections:
            return "a document since deleted"
        if self.whole:
            return "the whole document" if self.sections == 1 else f"all {self.sections} {noun}"
        if not self.held:
            return "nothing yet"
        one = noun.removesuffix("s") if len(self.held) == 1 else noun
        return f"{one} {number_ranges(self.held)} of {self.sections}"

    def describe(self, noun: str = "sections") -> str:
        """One line: 'sections 1-3 of 139, 12,909 tokens (partly memorized; 4-6 to come)'."""
        text = self.what(noun)
        if self.held or self.tokens:
            text += f", {self.tokens:,} tokens"
        notes = ["partly memorized"] if self.partly else []
        if self.pending:
            one = noun.removesuffix("s") if len(self.pending) == 1 else noun
            notes.append(f"{one} {number_ranges(self.pending)} to come"
                         if len(self.pending) < self.sections else "all of it to come")
        return text + (f" ({'; '.join(notes)})" if notes else "")


def holdings(library: Library, name: str) -> list[Holding]:
    """What the memory holds of each of its documents, in the order memorized."""
    out = []
    for source in library.memory_sources(name):
        doc_id = source["document_id"]
        doc = library.get_document(doc_id)
        if doc is None or source["status"] == "deleted":
            out.append(Holding(doc_id, source.get("document_title") or "(deleted document)", 0,
                               tokens=source.get("tokens") or 0, status="deleted"))
            continue
        sections = library.sections(doc_id)
        held_rows = library.held_sections(name, doc_id)
        tokens = sum(r.get("tokens") or 0 for r in held_rows)
        if held_rows:  # the sections whose current text it holds (a changed note is not held)
            held_ids = {s.id for s in sections} - {s.id for s in library.unheld_sections(name, doc_id)}
        elif source["status"] == "done":  # a library from before sections were recorded
            held_ids, tokens = {s.id for s in sections}, source.get("tokens") or 0
        else:
            held_ids = set()
        pending: list[int] = []
        if source["status"] == "pending":
            planned = library.pending_sections(name, doc_id)
            pending = [s.number for s in sections
                       if (planned is None or s.id in planned) and s.id not in held_ids]
        out.append(Holding(doc_id, doc.title, len(sections),
                           [s.number for s in sections if s.id in held_ids], tokens, pending,
                           source["status"]))
    return out


def memory_summary(library: Library, name: str) -> dict:
    """Everything a person wants to see about a memory: status, settings, what it holds of each
    source, and its curve. ``tokens_held`` is what it holds; ``tokens_done``/``tokens_total``
    count the last (or running) run only."""
    row = _row(library, name)
    held = holdings(library, name)
    sources = [{**s, "title": h.title, "sections": h.sections, "held": h.held,
                "tokens_held": h.tokens, "pending": h.pending, "holds": h.describe(),
                "partly": h.partly}
               for s, h in zip(library.memory_sources(name), held, strict=True)]
    path = Path(row["path"]) if row.get("path") else None
    problem = memory_problem(row)
    curve = _curve(path) if problem is None and path is not None else []
    if problem is not None:  # shown as damaged, never as done; the library row is unchanged
        row = {**row, "status": "damaged", "message": problem}
    try:
        specs = read_specs(row)
        settings = flat(*specs) if specs else {}
    except ValueError as exc:  # a damaged settings file: said (after any file problem)
        settings = {}
        row = {**row, "message": problem or str(exc)}
    return {**row, "settings": settings, "sources": sources, "curve": curve,
            "tokens_held": sum(h.tokens for h in held)}


def _curve(path: Path) -> list:
    """The perplexity curve from the memory's JSON, read directly: listing memories needs no
    torch (locas_engine.store does); a file that is not a memory's shows no curve."""
    try:
        meta = json.loads(memory_file(path, META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    curve = meta.get("ppl_curve", []) if isinstance(meta, dict) else []
    return curve if isinstance(curve, list) else []


def rename_memory(library: Library, name: str, new_name: str) -> None:
    """Only the display name changes; the file keeps its path so nothing can be lost mid-rename."""
    new_name = new_name.strip()
    if not new_name:
        raise JobError("A memory needs a name.")
    _row(library, name)
    if library.get_memory(new_name) is not None:
        raise JobError(f"A memory named '{new_name}' already exists; choose another name.")
    library.rename_memory(name, new_name)


def delete_memory(library: Library, name: str) -> None:
    row = _row(library, name)
    if row.get("path"):
        for suffix in MEMORY_SUFFIXES:
            memory_file(Path(row["path"]), suffix).unlink(missing_ok=True)
        remove_temp_files(Path(row["path"]))
    library.delete_memory(name)


def _finished_file(library: Library, name: str) -> Path:
    row = _row(library, name)
    source = Path(row["path"]) if row.get("path") else None
    if source is None or not memory_file(source, TENSORS).exists():
        raise JobError(f"Memory '{name}' has no finished file yet ({row['status']}); memorize it first.")
    return source


def export_target(name: str, dest: str | Path) -> Path:
    """Where an export of memory ``name`` goes (without suffix): a folder means inside it.

    An existing folder, or a path ending in a separator, gets ``<name>.safetensors`` and
    ``<name>.json`` inside; any other path names the files themselves (a suffix is dropped).
    """
    text = str(dest)
    target = Path(text).expanduser()
    if text.endswith(("/", os.sep)) or target.is_dir():
        slug = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "-", name).strip(" .-") or "memory"
        return target / slug
    return target.with_suffix("") if target.suffix in (TENSORS, META) else target


def export_memory_file(library: Library, name: str, dest: str | Path, force: bool = False) -> list[Path]:
    """Copy the memory's tensors and metadata to dest (.safetensors + .json); no model needed.

    Existing files are overwritten only with ``force`` (a typo must not replace another export).
    The metadata carries the memory's current name, which a rename changed in the library only.
    """
    source = _finished_file(library, name)
    target = export_target(name, dest)
    paths = [memory_file(target, suffix) for suffix in (TENSORS, META)]
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise JobError(f"{existing[0]} already exists; add --force to overwrite it, or choose "
                       "another path.")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(memory_file(source, TENSORS), paths[0])
    meta = json.loads(memory_file(source, META).read_text(encoding="utf-8"))
    meta["name"] = name
    paths[1].write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return paths


def export_merged_model(session: Session, name: str, folder: str | Path) -> Path:
    """Write the model with the memory folded in, as a folder any transformers install can load."""
    from locas_engine import export_merged

    _finished_file(session.library, name)
    folder = Path(folder).expanduser()
    if folder.exists() and any(folder.iterdir()):
        raise JobError(f"The folder {folder} is not empty; choose an empty or new folder.")
    export_merged(session.backbone(), session.memory(name), folder)
    return folder
