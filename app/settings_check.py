"""Checking settings.json when it is loaded, so no bad value reaches the job that would use it.

A hand-edited or damaged settings file (``[]``, ``null``, a rank of 0, a device this machine does
not have) used to fail later, deep inside a job, with a traceback. Here each bad field becomes a
sentence naming the file and the field, and that field falls back to its default; the other
fields keep their values, so the app always starts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

_LAYERS = re.compile(r"^\s*(all|\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*)\s*$", re.IGNORECASE)
_INITS = ("topk", "bottomk", "random", "gaussian")


def _at_least(low: int) -> Callable[[Any], str | None]:
    return lambda v: None if v >= low else f"must be {low} or more"


def _positive(v: float) -> str | None:
    return None if math.isfinite(v) and v > 0 else "must be a number above 0"


def _device(v: str) -> str | None:
    if v.strip().lower() in ("auto", "cpu"):
        return None  # no torch import for the common case: the command line starts fast
    from app.devices import device_problem

    return device_problem(v)


# Field -> check of a value that already has the right type; returns why it is bad, or None.
RULES: dict[str, Callable[[Any], str | None]] = {
    "device": _device,
    "rank": _at_least(1),
    "chunk": _at_least(1),
    "context": _at_least(0),
    "steps": _at_least(1),
    "checkpoint_every": _at_least(1),
    "passages": _at_least(0),
    "max_new_tokens": _at_least(1),
    "lr": _positive,
    "tau_scale": _positive,
    "init": lambda v: None if v in _INITS else f"must be one of {', '.join(_INITS)}",
    "layers": lambda v: None if _LAYERS.match(v) else "must be 'all', a range like 15-29 or a list like 0,2,4",
    "model": lambda v: None if v.strip() else "must name a model ('default', a folder or a .gguf file)",
}


def check_settings(raw: Any, defaults: Any, path: Path) -> tuple[dict[str, Any], list[str]]:
    """The usable values of ``raw`` (a parsed settings.json) and a sentence per dropped field."""
    if not isinstance(raw, dict):
        kind = "null" if raw is None else type(raw).__name__
        return {}, [f"The settings file {path} holds {kind} instead of settings; using the default "
                    "settings. Change them in Settings, which rewrites the file."]
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        if not hasattr(defaults, key):
            continue  # written by a newer version, or a typo: ignored
        default = getattr(defaults, key)
        expected = type(default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            why = f"must be {'a number' if expected in (int, float) else 'true or false' if expected is bool else 'text'}"
        else:
            rule = RULES.get(key)
            why = rule(value) if rule else None
        if why is None:
            values[key] = value
        else:
            problems.append(f"The setting '{key}' in {path} is {value!r}, which {_reason(why)}; "
                            f"using the default ({default!r}) instead.")
    return values, problems


def _reason(why: str) -> str:
    """'must be ...' reads as a clause; a device sentence is quoted as it is."""
    return why if why.startswith("must") else f"cannot be used ({why.rstrip('.')})"
