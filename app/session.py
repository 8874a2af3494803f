"""One open library plus the model that answers from it.

A Session is what the CLI and the GUI's engine worker hold: the Library, the Settings, the
backbone (loaded lazily, once, because loading costs seconds) and the memories attached to it.
It is not thread-safe by design: exactly one thread (the CLI's main thread, or the GUI's engine
worker) owns a Session and everything that touches the model goes through it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from app.devices import device_problem
from app.errors import JobError
from app.library import Library
from app.memorize.paths import TENSORS, memory_file
from app.paths import memories_dir, model_cache_dir
from app.settings import Settings, load_settings

if TYPE_CHECKING:  # the engine (torch) loads when a model is first needed, not with the library
    from locas_engine import Backbone, LocasMemory

log = logging.getLogger(__name__)


class Session:
    def __init__(self, library: Library | None = None, settings: Settings | None = None) -> None:
        self.library = library or Library()
        self.settings = settings or load_settings()
        self._backbone: Backbone | None = None
        self._backbone_key: tuple[str, str, str] | None = None
        # Set by a running memorize job to its memory's precision, so a question served between
        # its chunks does not reload the model in another dtype under it.
        self.pinned_precision: str | None = None
        self.mark_stale_jobs_interrupted()

    # -- the model ---------------------------------------------------------------------------
    def backbone(self, precision: str | None = None) -> Backbone:
        """The configured model, loaded on first use and again only if the settings change.

        Its weights are bf16 or fp32 as the memorizing precision says (locas_engine.precision):
        ``precision`` if given (a memory's own), else the one a running job pinned, else the
        settings' ("auto": bf16 where the device computes it natively, else fp32).
        """
        dtype = self._weights_dtype(precision or self.pinned_precision or self.settings.training.precision)
        key = (self.settings.model, self.settings.device, dtype)
        if self._backbone is None or self._backbone_key != key:
            self.close_model()
            problem = device_problem(self.settings.device)
            if problem:
                raise JobError(f"{problem} (Settings, Device)")
            try:
                self._backbone = load_backbone(self.settings.model, device=self.settings.device,
                                               dtype="bf16" if dtype == "bf16" else "fp32",
                                               cache_dir=model_cache_dir())
            except FileNotFoundError as exc:
                raise JobError(
                    f"The model '{self.settings.model}' could not be found ({exc}). "
                    "Choose another model in the settings."
                ) from exc
            self._backbone_key = key
        return self._backbone

    def use_backbone(self, backbone: Backbone) -> None:
        """Work with a model already loaded (a tiny one in tests, a shared one in benchmarks) as
        if the settings had loaded it; a later change of model, device or precision reloads."""
        self._backbone = backbone
        self._backbone_key = (self.settings.model, self.settings.device,
                              self._weights_dtype(self.settings.training.precision))

    def device_type(self) -> str:
        """Where the set device runs ("cuda", "mps", "cpu"), without loading the model; "cpu"
        for a device name torch rejects (device_problem says so when the model loads)."""
        from locas_engine.backbone import resolve_device

        try:
            return resolve_device(self.settings.device)[0].type
        except (RuntimeError, ValueError):
            return "cpu"

    def _weights_dtype(self, precision: str | None) -> str:
        """"bf16" or "fp32" for the model's weights under ``precision`` on the set device."""
        from locas_engine.precision import resolve_precision

        try:
            return resolve_precision(precision, self.device_type())
        except ValueError as exc:
            raise JobError(f"{exc} Choose auto, fp32 or bf16 in the settings.") from exc

    def close_model(self) -> None:
        """Forget the model and every memory attached to it (frees their memory)."""
        if self._backbone is not None:
            from locas_engine import detach_memory

            for memory in list(self._backbone.memories.values()):
                detach_memory(self._backbone, memory)
        self._backbone = None
        self._backbone_key = None

    # -- memories ----------------------------------------------------------------------------
    def memory_path(self, name: str) -> Path:
        """Where a new memory's files go: a file-system-safe form of its name."""
        # No dots: the engine adds ".safetensors"/".json" to this stem, and Path.with_suffix
        # (used for the checkpoint) would cut a name like "vol.2" short.
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "memory"
        return memories_dir() / slug

    @property
    def _memories(self) -> dict[str, LocasMemory]:
        """Memories attached to the loaded model, by name (the backbone keeps the registry)."""
        return self._backbone.memories if self._backbone is not None else {}

    def attached(self, name: str) -> LocasMemory | None:
        return self._memories.get(name)

    def memory(self, name: str) -> LocasMemory:
        """The named memory, attached to the backbone (loaded from its file if not yet)."""
        if name in self._memories:
            return self._memories[name]
        row = self.library.get_memory(name)
        if row is None:
            raise JobError(f"There is no memory named '{name}'. See 'locas memories' for the list.")
        path = Path(row["path"]) if row.get("path") else None
        if path is None or not memory_file(path, TENSORS).exists():
            if row["status"] in ("queued", "running", "paused"):
                raise JobError(
                    f"Memory '{name}' has no saved state yet: it is {row['status']} and saves when its "
                    "first document is memorized. Ask again once it has, or ask without it."
                )
            if row["status"] in ("interrupted", "stopped", "failed"):
                raise JobError(
                    f"Memory '{name}' has no saved state yet: it stopped before its first document "
                    f"was memorized. Resume it (locas resume \"{name}\") and ask once it is done, or ask "
                    "without it."
                )
            raise JobError(
                f"The file of memory '{name}' is missing ({path}). Memorize its documents again "
                "or delete the memory."
            )
        from locas_engine import CorruptFileError, load_memory

        try:
            return load_memory(self.backbone(), path, name=name)  # raises MemoryMismatchError
        except (CorruptFileError, FileNotFoundError) as exc:
            raise JobError(f"Memory '{name}' cannot be used: {exc}") from exc

    def unload_memory(self, name: str) -> None:
        if name in self._memories:
            from locas_engine import detach_memory

            detach_memory(self._backbone, name)

    @contextlib.contextmanager
    def only_memories(self, names: Iterable[str]) -> Iterator[list[LocasMemory]]:
        """Switch on exactly the named memories for the duration (the others stay attached, off)."""
        from locas_engine import only_enabled

        names = list(names)
        wanted = [self.memory(n) for n in names]  # loads and attaches any not yet attached
        with only_enabled(self._memories, names):
            yield wanted

    # -- crash recovery ----------------------------------------------------------------------
    def mark_stale_jobs_interrupted(self) -> None:
        """A memory left 'running' by a process that is gone was interrupted: say so, so it can resume."""
        for row in self.library.list_memories():
            if row["status"] in ("running", "paused", "queued"):
                pid = row.get("pid")
                if pid and pid != os.getpid() and _process_alive(pid):
                    continue
                if pid == os.getpid():
                    continue
                self.library.update_memory(row["name"], status="interrupted",
                                           message="Stopped before it finished; resume to continue.")


def load_backbone(*args, **kwargs) -> Backbone:
    """locas_engine.load_backbone, imported on the first load: torch takes seconds to import,
    and the library alone (list, search, import) never needs it."""
    from locas_engine import load_backbone as load

    return load(*args, **kwargs)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
