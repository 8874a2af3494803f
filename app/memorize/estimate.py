"""How long memorizing will take on this machine, said before it starts.

Every finished (or stopped) run records the tokens/s it measured, per model, device and the
settings that change the speed (precision, layers, rank, chunk, context, steps), in
``throughput.json`` in the data folder. Before a run the estimate is, in order of preference:

1. ``measured``: the last run with the same model, device and settings on this machine;
2. ``similar``: the slowest run measured with the same model and device but other settings;
3. ``calibrated``: a short timing of two chunks on the text itself (the command line does this
   when nothing was measured, since it has the model loaded anyway);
4. ``rough``: a conservative documented figure per device (CONSERVATIVE_TOKENS_PER_S: well
   under what docs/benchmarks.md measured, so a first run finishes earlier than said).

The running job refines it: its ETA uses the tokens/s measured so far.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import torch

from app import units
from app.paths import data_home, private_file
from locas_engine import Memorizer, attach_memory, detach_memory, only_enabled
from locas_engine.backbone import Backbone
from locas_engine.rate import TokenRate
from locas_engine.spec import Specs, flat

log = logging.getLogger(__name__)

# Conservative tokens/s before anything was measured (the default 135M model; a larger model
# is slower, and says so after its first run). The CPU figure is below the 93 tokens/s of fp32
# memorization measured on a 2-core machine (docs/benchmarks.md).
CONSERVATIVE_TOKENS_PER_S = {"cpu": 40.0, "cuda": 1000.0, "mps": 100.0}
# Characters per token, on the low side for English prose with the default tokenizer (about
# 4.2), so a count from characters errs towards more tokens.
CHARS_PER_TOKEN = 3.8
SPEED_KEYS = ("precision", "layers", "rank", "chunk", "context", "steps")


@dataclass
class Estimate:
    tokens: int
    tokens_per_s: float
    source: str  # measured | similar | calibrated | rough
    tokens_exact: bool = True

    @property
    def seconds(self) -> float:
        return self.tokens / max(self.tokens_per_s, 1e-9)

    def describe(self) -> str:
        """One sentence: the cost and where the speed comes from."""
        count = f"{self.tokens:,} tokens" if self.tokens_exact else f"about {self.tokens:,} tokens"
        why = {
            "measured": f"{self.tokens_per_s:,.0f} tokens/s measured here with these settings",
            "similar": f"{self.tokens_per_s:,.0f} tokens/s measured here with other settings",
            "calibrated": f"{self.tokens_per_s:,.0f} tokens/s in a short trial just now",
            "rough": f"a cautious {self.tokens_per_s:,.0f} tokens/s: nothing measured here yet",
        }[self.source]
        return f"{count}: about {units.duration(self.seconds)} on this machine ({why})."


def store_path():
    return data_home() / "throughput.json"


def speed_key(model: str, device: str, specs: Specs) -> str:
    kind = str(device).split(":")[0]
    values = flat(*specs)
    return "|".join([model, kind] + [f"{k}={values[k]}" for k in SPEED_KEYS])


def _load() -> dict[str, Any]:
    path = store_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("Throughput file %s could not be read (%s); starting afresh.", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def record_throughput(model: str, device: str, specs_list: list[Specs],
                      tokens: int, seconds: float) -> None:
    """Remember the tokens/s of a run under each of ``specs_list`` (e.g. the specs as asked,
    with "auto" in them, and as resolved), replacing what an older run measured."""
    if tokens <= 0 or seconds <= 0:
        return
    data = _load()
    entry = {"model": model, "device": str(device).split(":")[0], "tokens": int(tokens),
             "seconds": float(seconds), "tokens_per_s": tokens / seconds, "updated": time.time()}
    for specs in specs_list:
        data[speed_key(model, device, specs)] = entry
    path = store_path()
    tmp = private_file(path.with_suffix(".json.tmp"))
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def stored_throughput(model: str, device: str, specs: Specs) -> tuple[float, str] | None:
    """(tokens/s, "measured" | "similar") from earlier runs here, or None."""
    data = _load()
    exact = data.get(speed_key(model, device, specs))
    if exact:
        return float(exact["tokens_per_s"]), "measured"
    kind = str(device).split(":")[0]
    same = [float(e["tokens_per_s"]) for e in data.values()
            if isinstance(e, dict) and e.get("model") == model and e.get("device") == kind]
    return (min(same), "similar") if same else None


def estimate(tokens: int, model: str, device: str, specs: Specs,
             tokens_exact: bool = True) -> Estimate:
    """The estimate from what was measured here, else the conservative figure."""
    found = stored_throughput(model, device, specs)
    if found:
        return Estimate(tokens, found[0], found[1], tokens_exact)
    rate = CONSERVATIVE_TOKENS_PER_S.get(str(device).split(":")[0], CONSERVATIVE_TOKENS_PER_S["cpu"])
    return Estimate(tokens, rate, "rough", tokens_exact)


def estimate_run(backbone: Backbone, asked: Specs, resolved: Specs,
                 token_ids: list[int], calibrate_if_new: bool = True) -> Estimate:
    """The estimate for memorizing ``token_ids`` with ``resolved`` specs on ``backbone``:
    a measurement with these settings, else a short calibration on the text, else a
    measurement with other settings, else the conservative figure."""
    model, device = backbone.name, str(backbone.device)
    for specs in (resolved, asked):
        found = stored_throughput(model, device, specs)
        if found and found[1] == "measured":
            return Estimate(len(token_ids), found[0], "measured")
    if calibrate_if_new:
        rate = calibrate(backbone, resolved, token_ids)
        if rate:
            return Estimate(len(token_ids), rate, "calibrated")
    return estimate(len(token_ids), model, device, resolved)


def tokens_from_characters(characters: int) -> int:
    """A token count from a character count, for when the text is not tokenized yet."""
    return max(0, round(characters / CHARS_PER_TOKEN))


def calibrate(backbone: Backbone, specs: Specs, token_ids: list[int]) -> float | None:
    """tokens/s of memorizing with resolved ``specs``, timed on the text's first three chunks
    with a throwaway memory (the first chunk, which also initializes the memory, is not timed).
    None if the text is shorter than that."""
    chunk = specs.training.chunk
    if len(token_ids) < 3 * chunk:
        return None
    ids = torch.tensor(token_ids[:3 * chunk], dtype=torch.long)
    memory = attach_memory(backbone, specs.memory, name="locas-calibration")
    rate = TokenRate()
    try:
        with only_enabled(backbone.memories, [memory.name]):
            Memorizer(backbone, memory, specs.training).run(ids, rate=rate)
    finally:
        detach_memory(backbone, memory)
    return rate.measured_tokens_per_s
