"""Managing memories as things a user owns: show, rename, delete, export.

Shared by the command line and the GUI. Files and library rows change together, and a delete
keeps nothing half-done: the row goes only after its files are gone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from app.errors import JobError
from app.library import Library
from app.recovery import MEMORY_SUFFIXES, memory_problem, remove_temp_files
from app.recovery import memory_row as _row
from app.session import Session
from locas_engine import export_merged, read_memory_metadata


def memory_summary(library: Library, name: str) -> dict:
    """Everything a person wants to see about a memory: status, settings, sources, curve."""
    row = _row(library, name)
    sources = []
    for s in library.memory_sources(name):
        doc = library.get_document(s["document_id"])
        sources.append({**s, "title": doc["title"] if doc else "(deleted document)"})
    curve: list = []
    path = Path(row["path"]) if row.get("path") else None
    problem = memory_problem(row)
    if problem is None and path is not None and path.with_suffix(".json").exists():
        curve = read_memory_metadata(path).get("ppl_curve", [])
    if problem is not None:  # shown as damaged, never as done; the library row is unchanged
        row = {**row, "status": "damaged", "message": problem}
    return {**row, "sources": sources, "curve": curve}


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
            Path(row["path"]).with_suffix(suffix).unlink(missing_ok=True)
        remove_temp_files(Path(row["path"]))
    library.delete_memory(name)


def _finished_file(library: Library, name: str) -> Path:
    row = _row(library, name)
    source = Path(row["path"]) if row.get("path") else None
    if source is None or not source.with_suffix(".safetensors").exists():
        raise JobError(f"Memory '{name}' has no finished file yet ({row['status']}); memorize it first.")
    return source


def export_memory_file(library: Library, name: str, dest: str | Path) -> list[Path]:
    """Copy the memory's tensors and metadata to dest (.safetensors + .json); no model needed."""
    source = _finished_file(library, name)
    target = Path(dest).expanduser()
    if target.suffix in (".safetensors", ".json"):
        target = target.with_suffix("")
    target.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix in (".safetensors", ".json"):
        shutil.copyfile(source.with_suffix(suffix), target.with_suffix(suffix))
        written.append(target.with_suffix(suffix))
    return written


def export_merged_model(session: Session, name: str, folder: str | Path) -> Path:
    """Write the model with the memory folded in, as a folder any transformers install can load."""
    _finished_file(session.library, name)
    folder = Path(folder).expanduser()
    if folder.exists() and any(folder.iterdir()):
        raise JobError(f"The folder {folder} is not empty; choose an empty or new folder.")
    export_merged(session.backbone(), session.memory(name), folder)
    return folder
