"""Checking settings.json when it is loaded, so no bad value reaches the job that would use it.

A hand-edited or damaged settings file (``[]``, ``null``, a rank of 0, a device this machine does
not have) used to fail later, deep inside a job, with a traceback. Here each bad field becomes a
sentence naming the file and the field, and that field falls back to its default; the other
fields keep their values, so the app always starts.

The memorization fields are checked by the engine's specs' own knobs (their range and choices,
locas_engine/spec.py), so a rule is never written twice. A file from before the specs (the
memorization settings flat beside the app's, ``tau_scale`` for the output scale) is read the
same way: both forms are flattened to field names first, then migrated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from locas_engine import spec

_LAYERS = re.compile(r"^\s*(all|auto|\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*)\s*$",
                     re.IGNORECASE)


def _at_least(low: int) -> Callable[[Any], str | None]:
    return lambda v: None if v >= low else f"must be {low} or more"


def _positive(v: float) -> str | None:
    return None if math.isfinite(v) and v > 0 else "must be a number above 0"


def _device(v: str) -> str | None:
    if v.strip().lower() in ("auto", "cpu"):
        return None  # no torch import for the common case: the command line starts fast
    from app.devices import device_problem

    return device_problem(v)


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str | None]:
    return lambda v: None if v in choices else f"must be one of {', '.join(choices)}"


def _knob_rule(knob: spec.Knob, default: Any) -> Callable[[Any], str | None] | None:
    """The check a spec field's knob implies: its choices, its lowest whole number, or above 0."""
    if knob.choices:
        return _one_of(knob.choices)
    if isinstance(default, float):
        return _positive
    if isinstance(default, int) and not isinstance(default, bool) and knob.low is not None:
        return _at_least(int(knob.low))
    return None


# Field -> check of a value that already has the right type; returns why it is bad, or None.
RULES: dict[str, Callable[[Any], str | None]] = {
    name: rule for name, knob, default in spec.all_knobs()
    if (rule := _knob_rule(knob, default)) is not None
}
RULES.update({
    "method": _one_of(spec.METHODS),
    "device": _device,
    "passages": _at_least(0),
    "max_new_tokens": _at_least(1),
    "layers": lambda v: None if _LAYERS.match(v) else "must be 'auto', 'all', a range like 15-29 or a list like 0,2,4",
    "model": lambda v: None if v.strip() else "must name a model ('default', a folder or a .gguf file)",
})


OLD_DEFAULT_TAU_SCALE = 64.0  # settings.json's default before the specs (output scale 1 at r=64)


def flatten(raw: dict[str, Any]) -> dict[str, Any]:
    """A settings file's values by field name: the spec sections (``memory``, ``training``)
    opened out, their versions dropped, old names migrated (``tau_scale``, ``autocast``)."""
    out = {k: v for k, v in raw.items() if k not in ("memory", "training")}
    for section in ("memory", "training"):
        if isinstance(raw.get(section), dict):
            out.update({k: v for k, v in raw[section].items() if k != "version"})
    if out.get("tau_scale") == OLD_DEFAULT_TAU_SCALE:
        # The dialog saved every field, so 64 was nearly always the untouched default, which
        # meant "the tuned scale" only at rank 64: it becomes today's default, at every rank.
        del out["tau_scale"]
    return spec.migrate(out)


def check_settings(raw: Any, defaults: dict[str, Any], path: Path) -> tuple[dict[str, Any], list[str]]:
    """The usable values of ``raw`` (a parsed settings.json), by field name, and a sentence per
    dropped field. ``defaults``: every known field's default, by name."""
    if not isinstance(raw, dict):
        kind = "null" if raw is None else type(raw).__name__
        return {}, [f"The settings file {path} holds {kind} instead of settings; using the default "
                    "settings. Change them in Settings, which rewrites the file."]
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in flatten(raw).items():
        if key not in defaults:
            continue  # written by a newer version, or a typo: ignored
        default = defaults[key]
        expected = type(default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if expected is tuple and isinstance(value, list):  # JSON has no tuples
            value = tuple(value)
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
