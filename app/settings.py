"""The user's settings: which model, which device, and the defaults for memorizing and asking.

Stored as JSON in the data folder so the GUI and the command line share them. Unknown keys in
the file are ignored (a newer version may have written them) and missing keys take defaults,
so an old settings file never stops the app from starting. The memorization defaults are stored
as the engine's two specs (``"memory"`` and ``"training"``, each with its version); a file from
before the specs kept them flat beside the app's fields, with ``tau_scale`` for the output
scale, and still loads (app/settings_check.py migrates it).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from app.paths import data_home, private_file
from locas_engine import spec
from locas_engine.spec import MemorySpec, Specs, TrainingSpec

from .settings_check import check_settings

log = logging.getLogger(__name__)


def app_memory_spec() -> MemorySpec:
    """The app's default memory: the engine's, on layers "auto" (app.memorize.setup.auto_layers:
    all but the lowest sixth, the same gain for less backward pass); the engine's own default
    stays "all", the method as published."""
    return MemorySpec(layers="auto")


@dataclass
class Settings:
    """The app's own choices, and the two engine specs that hold the memorization defaults.

    The memorization settings are not declared here: ``memory`` (what a new memory is) and
    ``training`` (how it is trained) are the engine's MemorySpec and TrainingSpec, whose
    defaults are the tuned ones (docs/benchmarks.md). ``specs`` gives them as the pair a
    memorize request carries; change one with ``dataclasses.replace``.
    """

    model: str = "default"  # "default" (embedded SmolLM2-135M), a HF model folder or a .gguf file
    device: str = "auto"  # auto picks CUDA, then Apple MPS, then CPU
    memory: MemorySpec = field(default_factory=app_memory_spec)
    training: TrainingSpec = field(default_factory=TrainingSpec)
    # Answer defaults.
    passages: int = 4
    max_new_tokens: int = 200
    use_memory: bool = True
    use_retrieval: bool = True

    @classmethod
    def of(cls, **values: Any) -> Settings:
        """Settings from flat keyword arguments: the app's fields and any spec field by name
        (``Settings.of(rank=8, lr=1e-2, passages=2)``)."""
        own = {k: values.pop(k) for k in list(values) if k in APP_FIELDS}
        unknown = set(values) - set(SPEC_FIELDS)
        if unknown:
            raise TypeError(f"Settings has no field {', '.join(sorted(unknown))}")
        memory, training = Specs(app_memory_spec(), TrainingSpec()).with_values(values)
        return cls(**own, memory=memory, training=training)

    @property
    def specs(self) -> Specs:
        """The memorization defaults as the pair a memorize request carries."""
        return Specs(self.memory, self.training)

    def to_json(self) -> dict[str, Any]:
        """The file's form: the app's fields, then each spec once, with its version."""
        out = {name: getattr(self, name) for name in APP_FIELDS}
        out["memory"] = spec.to_dict(self.memory)
        out["training"] = spec.to_dict(self.training)
        return out


SPEC_FIELDS = (*spec.field_names(MemorySpec), *spec.field_names(TrainingSpec))
APP_FIELDS = tuple(f.name for f in fields(Settings) if f.name not in ("memory", "training"))


def default_values() -> dict[str, Any]:
    """Every field's default by name: the app's and both specs'."""
    defaults = Settings()
    return {**{name: getattr(defaults, name) for name in APP_FIELDS}, **spec.flat(*defaults.specs)}


def settings_path() -> Path:
    return data_home() / "settings.json"


def load_settings(path: Path | None = None) -> Settings:
    """Read and check the settings file: a field that is missing, of the wrong type or unusable
    falls back to its default, with a logged sentence naming the file and the field (also kept
    in ``settings.problems``)."""
    path = path or settings_path()
    if not path.exists():
        return _with_problems(Settings(), [])
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problem = (f"The settings file {path} could not be read ({exc}); using the default settings. "
                   "Change them in Settings, which rewrites the file.")
        log.info(problem)
        return _with_problems(Settings(), [problem])
    values, problems = check_settings(raw, default_values(), path)
    for problem in problems:
        log.info(problem)  # the command line prints settings.problems; the window shows them
    try:
        return _with_problems(Settings.of(**values), problems)
    except ValueError as exc:  # values each fine alone, not together: the specs say why
        problem = (f"The settings file {path} holds settings that do not fit together ({exc}); "
                   "using the default settings. Change them in Settings, which rewrites the file.")
        log.info(problem)
        return _with_problems(Settings(), [*problems, problem])


def _with_problems(settings: Settings, problems: list[str]) -> Settings:
    """What was wrong with the file, for a window to show (not a field: never saved)."""
    settings.problems = problems  # type: ignore[attr-defined]
    return settings


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write atomically so a crash mid-write never leaves a truncated settings file."""
    path = path or settings_path()
    tmp = private_file(path.with_suffix(".json.tmp"))
    tmp.write_text(json.dumps(settings.to_json(), indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
