"""A memory's own settings, kept in its files: the one place the app reads them from.

What a memory is and how it is trained (locas_engine.spec: MemorySpec, TrainingSpec) belong to
the memory, wherever its files go (an export, a backup, another computer), so the library row
holds only status and a path. The memory file (``<stem>.json``, format 2) stores each spec
once, but it is written only when a document is finished, with the tensors and their digest;
a memory that exists without a save yet (a first run stopped or killed) needs its specs too.
So the app writes them, at creation and whenever a run changes them, to ``<stem>.spec.json``:
a small file of their own, written atomically beside the others. Not an early metadata file:
that one describes saved tensors (its digest must match theirs, and one without tensors means
a damaged memory), so writing it before the tensors exist would make it lie.

``memory_settings`` reads the spec file, else the metadata file (an imported memory or one
saved by the engine alone), else finds nothing. Libraries from before kept the settings in
their memory rows; schema migration 4 writes those out with ``write_memory_settings``.

Settings go in and out flat, both specs' fields by name, the form the jobs merge a request's
overrides and the user's defaults in. A ``precision`` of None is a memory made before precision
was recorded (app.memorize.setup.resolve_settings gives what such memories used).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.memorize.paths import META, SPECS, memory_file
from locas_engine import spec
from locas_engine.atomic import atomic_write
from locas_engine.memory_files import memory_spec_values, read_memory_metadata
from locas_engine.spec import MemorySpec, TrainingSpec

log = logging.getLogger(__name__)

SPEC_FILE_FORMAT = 1


def _flat(memory_values: Mapping[str, Any], training_values: Mapping[str, Any]) -> dict[str, Any]:
    """Both specs' fields, checked by the specs themselves (ValueError with a sentence)."""
    precision = training_values.get("precision")
    memory = spec.from_dict(MemorySpec, memory_values)
    training = spec.from_dict(TrainingSpec, {**training_values, "precision": precision or "auto"})
    out = spec.flat(memory, training)
    out["precision"] = precision
    return out


def write_memory_settings(stem: str | Path, settings: Mapping[str, Any]) -> None:
    """Write the memory's specs from flat ``settings`` (keys of either spec, any version;
    others are ignored), replacing what its spec file held."""
    values = spec.migrate(settings)
    flat = _flat(values, values)
    memory = {k: flat[k] for k in spec.field_names(MemorySpec)}
    training = {k: flat[k] for k in spec.field_names(TrainingSpec)}
    data = {"format": SPEC_FILE_FORMAT,
            "memory": {**memory, "version": MemorySpec.VERSION},
            "training": {**training, "betas": list(training["betas"]), "version": TrainingSpec.VERSION}}
    target = memory_file(stem, SPECS)
    atomic_write(target, lambda tmp: Path(tmp).write_text(json.dumps(data, indent=1, sort_keys=True),
                                                          encoding="utf-8"))


def memory_settings(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The memory's own settings (both specs' fields, flat) from its files; None when it has
    none (a memory whose first run has not started). ValueError with a sentence when they
    cannot be read."""
    if not row.get("path"):
        return None
    stem = Path(row["path"])
    specs_path = memory_file(stem, SPECS)
    if specs_path.is_file():
        try:
            data = json.loads(specs_path.read_text(encoding="utf-8"))
            return _flat(data["memory"], data["training"])
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"The settings file {specs_path} of memory '{row.get('name')}' is damaged ({exc}); "
                "restore it from a backup, or delete the memory and memorize its documents again."
            ) from exc
    if memory_file(stem, META).is_file():
        meta = read_memory_metadata(stem)
        training = meta.get("training") or {"lr": meta.get("lr"), **(meta.get("chunking") or {})}
        return _flat(memory_spec_values(meta), {k: v for k, v in training.items() if v is not None})
    return None


def adopt_row_settings(name: str, stem: Path, settings: Mapping[str, Any]) -> None:
    """Schema migration 4: an old library row's settings become its memory's spec file, unless
    the memory has one, or its folder is gone (no files left for them to describe). Settings the
    specs refuse are left out with a warning: the memory's metadata file is read instead."""
    if not settings or memory_file(stem, SPECS).exists() or not stem.parent.is_dir():
        return
    try:
        write_memory_settings(stem, settings)
    except ValueError as exc:
        log.warning("The stored settings of memory '%s' were not kept (%s).", name, exc)
