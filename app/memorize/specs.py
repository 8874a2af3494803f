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

``read_specs`` reads the spec file, else the metadata file (an imported memory or one saved by
the engine alone), else finds nothing. Libraries from before kept the settings in their memory
rows; schema migration 4 writes those out (``adopt_row_settings``).

Old files are migrated here, where they are read, and nowhere else: old names (``tau_scale``,
``autocast``) by the engine's ``spec.from_dict``, and a memory made before its precision was
recorded gets what the memorizer then used, bf16 on CUDA and fp32 elsewhere.
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
from locas_engine.spec import MemorySpec, Specs, TrainingSpec

log = logging.getLogger(__name__)

SPEC_FILE_FORMAT = 1


def write_specs(stem: str | Path, specs: Specs) -> None:
    """Write the memory's specs to its spec file, replacing what it held."""
    _write(stem, spec.to_dict(specs.memory), spec.to_dict(specs.training))


def _write(stem: str | Path, memory: dict[str, Any], training: dict[str, Any]) -> None:
    data = {"format": SPEC_FILE_FORMAT, "memory": memory, "training": training}
    target = memory_file(stem, SPECS)
    atomic_write(target, lambda tmp: Path(tmp).write_text(json.dumps(data, indent=1, sort_keys=True),
                                                          encoding="utf-8"))


def _specs(memory_values: Mapping[str, Any], training_values: Mapping[str, Any], device_type: str) -> Specs:
    """Both specs from stored values of any age, checked by the specs (ValueError, a sentence)."""
    training = spec.migrate(training_values)
    if training.get("precision") is None:  # made before the precision was recorded
        training["precision"] = "bf16" if device_type == "cuda" else "fp32"
    return Specs(spec.from_dict(MemorySpec, memory_values), spec.from_dict(TrainingSpec, training))


def read_specs(row: Mapping[str, Any], device_type: str = "cpu") -> Specs | None:
    """The memory's own specs from its files; None when it has none (a memory whose first run
    has not started). ``device_type``: where it would be memorized, which decides the
    precision of a memory that never recorded one. ValueError with a sentence when they cannot
    be read."""
    if not row.get("path"):
        return None
    stem = Path(row["path"])
    specs_path = memory_file(stem, SPECS)
    if specs_path.is_file():
        try:
            data = json.loads(specs_path.read_text(encoding="utf-8"))
            return _specs(data["memory"], data["training"], device_type)
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"The settings file {specs_path} of memory '{row.get('name')}' is damaged ({exc}); "
                "restore it from a backup, or delete the memory and memorize its documents again."
            ) from exc
    if memory_file(stem, META).is_file():
        meta = read_memory_metadata(stem)
        training = meta.get("training") or {"lr": meta.get("lr"), **(meta.get("chunking") or {})}
        return _specs(memory_spec_values(meta), {k: v for k, v in training.items() if v is not None},
                      device_type)
    return None


def adopt_row_settings(name: str, stem: Path, settings: Mapping[str, Any]) -> None:
    """Schema migration 4: an old library row's settings become its memory's spec file, unless
    the memory has one, or its folder is gone (no files left for them to describe). Settings the
    specs refuse are left out with a warning: the memory's metadata file is read instead."""
    if not settings or memory_file(stem, SPECS).exists() or not stem.parent.is_dir():
        return
    try:
        memory, training = _specs(settings, settings, "cpu")
    except ValueError as exc:
        log.warning("The stored settings of memory '%s' were not kept (%s).", name, exc)
        return
    # A precision the row never recorded stays unrecorded: read_specs decides it by the device.
    precision = spec.migrate(settings).get("precision")
    _write(stem, spec.to_dict(memory), {**spec.to_dict(training), "precision": precision})
