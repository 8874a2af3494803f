"""The user's settings: which model, which device, and the defaults for memorizing and asking.

Stored as JSON in the data folder so the GUI and the command line share them. Unknown keys in
the file are ignored (a newer version may have written them) and missing keys take defaults,
so an old settings file never stops the app from starting.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from locas_engine.paths import data_home, private_file

from .settings_check import check_settings

log = logging.getLogger(__name__)


@dataclass
class Settings:
    model: str = "default"  # "default" (embedded SmolLM2-135M), a HF model folder or a .gguf file
    device: str = "auto"  # auto picks CUDA, then Apple MPS, then CPU
    # Memorization defaults (see docs/benchmarks.md for the sweep that chose them).
    rank: int = 64  # memory width r: 3*L*d*r extra parameters (3.3M on the default model)
    init: str = "topk"  # activation-guided cloning, the paper's best initializer
    tau_scale: float = 64.0  # x the method's tau: output scale = mean backbone value norm (sweep)
    lr: float = 6e-3  # with tau_scale 64, the best of the sweep in docs/benchmarks.md
    chunk: int = 256  # tokens trained on per step
    context: int = 256  # preceding tokens that condition a chunk but are not trained on
    steps: int = 1  # optimizer steps per chunk
    layers: str = "all"  # "all", "auto" (upper layers, app/memorize_setup.py) or a range "15-29"
    precision: str = "auto"  # auto (bf16 on CUDA, fp32 on CPUs: locas_engine/precision.py), fp32, bf16
    checkpoint_every: int = 8  # chunks between checkpoints: the most a crash can lose
    # Answer defaults.
    passages: int = 4
    max_new_tokens: int = 200
    use_memory: bool = True
    use_retrieval: bool = True


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
    values, problems = check_settings(raw, Settings(), path)
    for problem in problems:
        log.info(problem)  # the command line prints settings.problems; the window shows them
    return _with_problems(Settings(**values), problems)


def _with_problems(settings: Settings, problems: list[str]) -> Settings:
    """What was wrong with the file, for a window to show (not a field: never saved)."""
    settings.problems = problems  # type: ignore[attr-defined]
    return settings


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write atomically so a crash mid-write never leaves a truncated settings file."""
    path = path or settings_path()
    tmp = private_file(path.with_suffix(".json.tmp"))
    tmp.write_text(json.dumps(asdict(settings), indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
