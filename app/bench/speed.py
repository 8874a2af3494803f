"""Memorization speed against scoring alone, on the same text in the same run.

    locas bench speed --file book.epub --tokens 4096 --json out.json [--device cpu|cuda]

Rows (each: seconds, tokens/s, online perplexity, time relative to ``score-fp32`` and the share
of ``memorize-fp32``'s perplexity gain it keeps):
  score-fp32        no memory, fp32, each chunk scored given its context: the floor
  memorize-fp32     memorization as it was before issue 14: fp32, memory on every layer
  memorize-default  what the app does by default on this machine (app.memorize.setup resolves
                    the user's default settings for this device, exactly as a memorize job does)
``--variants`` adds rows to explore, each ``PRECISION:LAYERS[:CHUNK[:CONTEXT]]`` (e.g.
``bf16:all``, ``fp32:10-29``, ``bf16:auto:512:256``), ``score:bf16``, or settings as
``precision=bf16,layers=10-29,rank=128,steps=2``; ``--templora LR...`` adds TempLoRA rows
(rank 64, one step per chunk), for perplexity against time and parameters. Rows with another chunk
or context are scored on that protocol: a longer chunk gives its tokens more context on average,
which lowers perplexity with no memory at all, so such a row's gain is measured from its own
base (the model without memory, fp32, scored on that protocol, untimed) and then compared with
``memorize-fp32``'s gain over ``score-fp32``. ``--repeat K`` runs all rows K times, interleaved, and keeps each row's
median time: on a shared machine the load changes between rows, and interleaving spreads it.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import torch

from app.memorize.setup import resolve
from app.paths import model_cache_dir
from app.settings import Settings
from locas_engine import Memorizer, attach_memory, detach_memory
from locas_engine.backbone import Backbone, backbone_from_model, load_backbone
from locas_engine.bench import bench_parser
from locas_engine.bench.ppl import first_tokens, read_text, run_templora, score_ppl
from locas_engine.memorizer import chunk_loss, chunk_spans
from locas_engine.precision import native_bf16, precision_context, precision_dtype
from locas_engine.spec import (
    MemorySpec,
    TrainingSpec,
    add_flags,
    all_knobs,
    flat,
    split,
    tau_scales,
)

# The settings a row may set: every knob of the engine's two specs.
MEMORY_KEYS = tuple(name for name, _, _ in all_knobs())


def default_settings() -> dict:
    """The app's built-in memorization defaults (not the user's file: a benchmark must not
    depend on what someone set): both specs' fields."""
    return flat(*Settings().specs)


def parse_variant(spec: str, base: dict) -> dict:
    """A row from ``PRECISION:LAYERS[:CHUNK[:CONTEXT]]``, ``score:PRECISION`` or settings as
    ``key=value,...`` (any of MEMORY_KEYS, e.g. ``precision=bf16,layers=10-29,rank=128,steps=2``)."""
    if "=" in spec:
        row = {**base, "score": False}
        for pair in spec.split(","):
            key, _, value = pair.partition("=")
            if key not in MEMORY_KEYS:
                raise ValueError(f"'{key}' is not one of {', '.join(MEMORY_KEYS)}.")
            row[key] = type(base[key])(value) if base.get(key) is not None else value
        row["row"] = "memorize-" + spec.replace("=", "").replace(",", "-")
        return row
    parts = spec.split(":")
    if parts[0] == "score":
        if len(parts) != 2:
            raise ValueError(f"'{spec}': a scoring row is score:fp32 or score:bf16.")
        return {"row": f"score-{parts[1]}", "score": True, **base, "precision": parts[1]}
    if not 2 <= len(parts) <= 4:
        raise ValueError(f"'{spec}' is not PRECISION:LAYERS[:CHUNK[:CONTEXT]].")
    row = {**base, "precision": parts[0], "layers": parts[1], "score": False}
    if len(parts) > 2:
        row["chunk"] = int(parts[2])
    if len(parts) > 3:
        row["context"] = int(parts[3])
    suffix = "" if (row["chunk"], row["context"]) == (base["chunk"], base["context"]) \
        else f"-c{row['chunk']}x{row['context']}"
    row["row"] = f"memorize-{parts[0]}-{parts[1]}{suffix}"
    return row


def plan_rows(bb: Backbone, base: dict, variants: list[str],
              templora: list[float] | tuple[float, ...] = ()) -> list[dict]:
    """The three standard rows, the variants, then TempLoRA at each learning rate; every row's
    settings resolved for ``bb``."""
    rows = [
        {"row": "score-fp32", "score": True, **base, "precision": "fp32"},
        {"row": "memorize-fp32", "score": False, **base, "precision": "fp32", "layers": "all"},
        {"row": "memorize-default", "score": False, **base},
    ] + [parse_variant(v, base) for v in variants]
    rows += [{"row": f"templora-lr{lr:g}", "score": False, "templora": True, **base,
              "precision": "fp32", "layers": "all", "lr": lr} for lr in templora]
    return [{**resolved(r, bb), "row": r["row"], "score": r["score"],
             "templora": r.get("templora", False)} for r in rows]


def resolved(row: dict, bb: Backbone) -> dict:
    """A row's settings made concrete for ``bb``, as a memorize job makes them."""
    return {**row, **flat(*resolve(split(row), bb))}


def in_dtype(bb: Backbone, dtype: torch.dtype, cache: dict) -> Backbone:
    """``bb`` with its weights in ``dtype`` (a converted copy, made once), as the app loads the
    model for a memory of that precision (app.session.Session.backbone)."""
    if bb.dtype == dtype:
        return bb
    if dtype not in cache:
        assert not bb.memories, "copy the backbone before attaching memories"
        cache[dtype] = backbone_from_model(copy.deepcopy(bb.model).to(dtype), bb.tokenizer, bb.name)
    return cache[dtype]


def time_row(bb: Backbone, ids: torch.Tensor, row: dict) -> tuple[float, float, int]:
    """(seconds, online perplexity, trained parameters) of one row: scoring only, the product's
    Memorizer, or TempLoRA (the ppl benchmark's, at rank 64 and one step per chunk). ``bb``
    holds its weights in the row's precision."""
    if row.get("templora"):
        r = run_templora(bb, ids, row["chunk"], row["context"], rank=64, lr=row["lr"], steps=1,
                         alpha=None, seed=0)
        return r["seconds"], r["ppl"], r["extra_params"]
    if row["score"]:
        t0 = time.perf_counter()
        with precision_context(bb.device, row["precision"]):
            ppl = score_ppl(bb.model, bb.device, ids, row["chunk"], row["context"], row["row"])
        _sync(bb.device)
        return time.perf_counter() - t0, ppl, 0
    specs = split(row)
    memory = attach_memory(bb, specs.memory, name="bench-speed")
    try:
        t0 = time.perf_counter()
        result = Memorizer(bb, memory, specs.training).run(ids)
        _sync(bb.device)
        return time.perf_counter() - t0, result.ppl, memory.num_parameters()
    finally:
        detach_memory(bb, memory)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _warm_up(backbones: dict, ids: torch.Tensor, rows: list[dict]) -> None:
    """One chunk forward per precision and chunking, so no timed row pays for kernel set-up."""
    for precision, chunk, context in sorted({(r["precision"], r["chunk"], r["context"]) for r in rows}):
        bb = backbones[precision]
        with torch.no_grad(), precision_context(bb.device, precision):
            chunk_loss(bb.model, ids.to(bb.device), chunk_spans(ids.numel(), chunk, context)[0])


def protocol_bases(bb: Backbone, ids: torch.Tensor, rows: list[dict],
                   ppls: dict[str, float]) -> dict[tuple[int, int], float]:
    """The perplexity without memory (fp32) on every chunk/context protocol a row uses: the
    base each row's gain is measured from. ``score-fp32``'s own protocol is already scored."""
    score_row = next(r for r in rows if r["row"] == "score-fp32")
    bases = {(score_row["chunk"], score_row["context"]): ppls["score-fp32"]}
    for chunk, context in sorted({(r["chunk"], r["context"]) for r in rows} - set(bases)):
        print(f"[base] fp32 without memory, chunk {chunk}, context {context} (untimed)",
              file=sys.stderr, flush=True)
        bases[(chunk, context)] = score_ppl(bb.model, bb.device, ids, chunk, context, "base")
    return bases


def measure(bb: Backbone, ids: torch.Tensor, base: dict | None = None,
            variants: list[str] | tuple[str, ...] = (), repeat: int = 1,
            templora: list[float] | tuple[float, ...] = ()) -> list[dict]:
    """Run every row ``repeat`` times (interleaved) on ``ids``; one result dict per row."""
    rows = plan_rows(bb, base or default_settings(), list(variants), templora)
    cache: dict = {}
    backbones = {p: in_dtype(bb, precision_dtype(p), cache) for p in {r["precision"] for r in rows}}
    _warm_up(backbones, ids, rows)
    times: dict[str, list[float]] = {r["row"]: [] for r in rows}
    ppls: dict[str, float] = {}
    params: dict[str, int] = {}
    for k in range(repeat):
        for r in rows:
            print(f"[{k + 1}/{repeat}] {r['row']} ({r['precision']}, layers {r['layers']}, "
                  f"chunk {r['chunk']}, context {r['context']})", file=sys.stderr, flush=True)
            seconds, ppl, params[r["row"]] = time_row(backbones[r["precision"]], ids, r)
            times[r["row"]].append(seconds)
            ppls[r["row"]] = ppl
    n = ids.numel()
    score_s = statistics.median(times["score-fp32"])
    base_ppl, full_ppl = ppls["score-fp32"], ppls["memorize-fp32"]
    bases = protocol_bases(backbones["fp32"], ids, rows, ppls)
    results = []
    for r in rows:
        seconds = statistics.median(times[r["row"]])
        own_base = bases[(r["chunk"], r["context"])]
        gain = None if r["score"] or base_ppl == full_ppl else \
            (own_base - ppls[r["row"]]) / (base_ppl - full_ppl)
        results.append({
            "row": r["row"], "method": "templora" if r["templora"] else "locas",
            "precision": r["precision"], "layers": r["layers"], "rank": 64 if r["templora"] else r["rank"],
            "steps": r["steps"], "lr": r["lr"], "chunk": r["chunk"], "context": r["context"],
            "memorizes": not r["score"], "extra_params": params[r["row"]],
            "seconds": seconds, "seconds_each": times[r["row"]], "tokens_per_s": n / seconds,
            "ppl": ppls[r["row"]], "base_ppl": own_base, "time_vs_score": seconds / score_s,
            "gain_kept": gain,
        })
    return results


def format_table(results: list[dict]) -> str:
    head = (f"{'row':<30} {'precision':<9} {'layers':<7} {'seconds':>8} {'tok/s':>8} "
            f"{'ppl':>8} {'x score':>8} {'gain kept':>9} {'params':>11}")
    lines = [head, "-" * len(head)]
    for r in results:
        gain = f"{100 * r['gain_kept']:.0f}%" if r["gain_kept"] is not None else "-"
        lines.append(f"{r['row']:<30} {r['precision']:<9} {r['layers']:<7} {r['seconds']:>8.1f} "
                     f"{r['tokens_per_s']:>8.1f} {r['ppl']:>8.3f} {r['time_vs_score']:>7.2f}x "
                     f"{gain:>9} {r['extra_params']:>11,}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = bench_parser("speed", __doc__)
    p.add_argument("--file", required=True, type=Path, help=".txt/.md or .epub")
    p.add_argument("--tokens", type=int, default=4096, help="first N tokens of the file")
    p.add_argument("--json", type=Path, default=None, help="write the report here")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--model", default="default", help="'default', a HF folder or a .gguf file")
    p.add_argument("--variants", nargs="*", default=[],
                   help="extra rows: PRECISION:LAYERS[:CHUNK[:CONTEXT]] or score:PRECISION")
    p.add_argument("--templora", nargs="*", type=float, default=[], metavar="LR",
                   help="also TempLoRA (rank 64, one step per chunk) at these learning rates")
    p.add_argument("--repeat", type=int, default=1, help="run all rows K times, keep medians")
    defaults = Settings()  # the app's built-in defaults, not the user's file
    add_flags(p, MemorySpec, defaults.memory)
    add_flags(p, TrainingSpec, defaults.training)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    return p


def run(args: argparse.Namespace) -> dict:
    if args.threads:
        torch.set_num_threads(args.threads)
    bb = load_backbone(args.model, device=args.device, dtype="fp32",  # bf16 rows: a copy
                       cache_dir=model_cache_dir())
    ids = first_tokens(bb, read_text(args.file), args.tokens)
    print(f"{bb.name} on {bb.device} ({bb.dtype}), {torch.get_num_threads()} threads; "
          f"{ids.numel()} tokens of {args.file.name}", file=sys.stderr, flush=True)
    tau_scales(args)  # an old --tau-scale becomes --output-scale
    base = {**default_settings(), **{k: getattr(args, k) for k in MEMORY_KEYS}}
    defaults = resolved(base, bb)
    app_precision = defaults["precision"]
    print(f"The app memorizes in {app_precision} on this device (memorize-default); every row is "
          f"timed against score-fp32", file=sys.stderr, flush=True)
    results = measure(bb, ids, base, args.variants, args.repeat, args.templora)
    report = {"bench": "speed", "model": bb.name, "device": str(bb.device),
              "dtype": str(bb.dtype).replace("torch.", ""), "threads": torch.get_num_threads(),
              "native_bf16": native_bf16(bb.device), "app_precision": app_precision,
              "tokens": int(ids.numel()),
              "file": str(args.file), "repeat": args.repeat,
              "defaults": defaults, "results": results}
    print(format_table(results))
    return report
