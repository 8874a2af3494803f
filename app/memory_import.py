"""Import a memory file that was exported (from this computer or another), checked against the model.

A memory only means something on the model it was made for: its slots point at directions of
that model's activations. So an import first reads the file's metadata, then loads it onto the
configured model through the engine's own `load_memory`, whose fingerprint and shape checks
refuse a memory made for another model. Only when that succeeds are the files copied into the
data folder and the memory added to the library; a refused import changes nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from app.errors import JobError
from app.memorize.paths import META, TENSORS, memory_file, stored_memory_path
from app.session import Session
from locas_engine import MemoryMismatchError, detach_memory, load_memory, read_memory_metadata
from locas_engine.store import memory_paths

_CHECK_NAME = "\0import-check"  # attached only while checking: never a user's memory name


def find_memory_file(source: str | os.PathLike) -> Path:
    """The memory's base path (without suffix) for a .safetensors or .json file, the base path
    itself, or a folder holding exactly one exported memory."""
    path = Path(source).expanduser()
    if path.is_dir():
        pairs = sorted(p.with_suffix("") for p in path.glob("*.json")
                       if memory_file(p.with_suffix(""), TENSORS).is_file())
        if len(pairs) != 1:
            what = "no memory" if not pairs else f"{len(pairs)} memories"
            raise JobError(
                f"The folder {path} holds {what} (a .safetensors file beside a .json file of the "
                "same name); choose the memory file itself."
            )
        return pairs[0]
    tensors, meta = memory_paths(path)
    missing = [p for p in (tensors, meta) if not p.is_file()]
    if missing:
        raise JobError(
            f"There is no memory at {path}: {missing[0]} is missing. An exported memory is a "
            ".safetensors file and a .json file side by side; choose one of them."
        )
    return tensors.with_suffix("")


def _read(source: str | os.PathLike) -> tuple[Path, dict]:
    base = find_memory_file(source)
    try:
        return base, read_memory_metadata(base)
    except (ValueError, OSError) as exc:
        raise JobError(f"{memory_file(base, META)} is not a Locas memory file ({exc}).") from exc


def saved_name(base: Path, meta: dict) -> str:
    return str(meta.get("name") or base.name).strip()


def memory_file_name(source: str | os.PathLike) -> str:
    """The name an exported memory is imported under unless another is given (the name it was
    saved with): the window asks for another one before importing when it is taken. Reads the
    small metadata file only; JobError with a sentence when it is not a memory."""
    return saved_name(*_read(source))


def import_memory_file(session: Session, source: str | os.PathLike, name: str | None = None) -> dict:
    """Add an exported memory to the library under ``name`` (default: the name it was saved
    with); returns its library row. JobError with a sentence, and no change, when it cannot."""
    base, meta = _read(source)
    name = (name or saved_name(base, meta)).strip()
    if session.library.get_memory(name) is not None:
        raise JobError(
            f"A memory named '{name}' already exists; import it under another name "
            "(locas memory import FILE --name NEW)."
        )
    backbone = session.backbone()
    try:
        memory = load_memory(backbone, base, name=_CHECK_NAME)  # the engine's fingerprint check
    except MemoryMismatchError as exc:
        raise JobError(f"Not imported: {exc} Nothing was changed.") from exc
    except (KeyError, RuntimeError, ValueError, OSError) as exc:
        raise JobError(f"{memory_file(base, TENSORS)} could not be read as a memory ({exc}); "
                       "it may be damaged. Export it again.") from exc
    detach_memory(backbone, memory)

    # Its specs are in its metadata file (app/memorize/specs.py reads them there).
    row = session.library.create_memory(name, backbone=backbone.name, status="done")
    target = session.memory_path(f"{row['id']}-{name}")
    try:
        _copy_pair(base, target)
    except OSError as exc:
        session.library.delete_memory(name)
        raise JobError(f"The memory could not be copied into the data folder ({exc}).") from exc
    curve = meta.get("ppl_curve") or []
    tokens = int(meta.get("tokens") or 0)
    return session.library.update_memory(
        name, path=stored_memory_path(target), backbone_fingerprint=backbone.fingerprint, tokens_done=tokens,
        tokens_total=tokens, ppl=curve[-1][1] if curve else None,
        message=f"Imported from {memory_file(base, TENSORS)}{_made_from(meta)}.",
    )


def _made_from(meta: dict) -> str:
    """', made from “Moby-Dick”': what it was memorized from elsewhere (not in this library)."""
    names = [str(s.get("name")) for s in meta.get("sources") or [] if isinstance(s, dict) and s.get("name")]
    return ", made from " + ", ".join(f"“{n}”" for n in names) if names else ""


def _copy_pair(base: Path, target: Path) -> None:
    """Copy both files next to each other atomically: a crash leaves no half-imported file."""
    for suffix in (TENSORS, META):
        dest = memory_file(target, suffix)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
        os.close(fd)
        try:
            shutil.copyfile(memory_file(base, suffix), tmp)
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
