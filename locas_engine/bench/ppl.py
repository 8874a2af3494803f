"""Online-perplexity benchmark: score each chunk, then train on it, over the first N tokens.

    locas bench ppl --file book.epub --tokens 16384 --methods none locas templora

Methods, all on the same chunk / context protocol (locas_engine.memorizer.chunk_spans and
chunk_loss):
  none      context truncation: each chunk scored given ``context`` preceding tokens, no training
  locas     a Locas-GLU memory trained by the engine's own Memorizer (the product's code path)
  templora  TempLoRA: a peft LoRA on q,k,v,o,gate,up,down trained the same way
  locas-mlp a Locas-MLP memory (two-layer MLP models: GPT-2, GPT-Neo, OPT, Pythia, BLOOM):
            slots written from each chunk's gradients until --capacity, then backprop at --lr
            (--compress backprop) or NL-SVD compression (--compress nlsvd)
List-valued flags (--lr, --rank, --init, --steps, --layers, --output-scale, --lora-rank,
--lora-lr) run every combination. The Locas flags and their defaults come from the engine's
specs (locas_engine/spec.py); --tau-scale is the old form of --output-scale (tau_scale / rank).

Precision: the memorizing methods run in ``--precision``, by default the app's on this device
(``auto``: bf16 weights and arithmetic on CUDA and on CPUs with native bf16, fp32 elsewhere;
locas_engine.precision), so their seconds are the app's. ``none`` is always scored in fp32: the
floor every ``rel_time`` is relative to (in the same run), as `locas bench speed` measures
against ``score-fp32``, so the two benches give the same ratio for the same work.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import itertools
import math
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import torch

from ..adapter import detach_memory
from ..backbone import Backbone, backbone_from_model, load_backbone
from ..memorizer import Memorizer, autocast_context, chunk_loss, chunk_spans
from ..memory import attach_memory
from ..mlp.config import MLPMemoryConfig
from ..mlp.memory import attach_mlp_memory
from ..precision import PRECISIONS, precision_dtype, resolve_precision
from ..spec import MemorySpec, TrainingSpec, add_flags, parse_layers, scales_for, tau_scales
from . import bench_parser

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
# The same roles in two-layer-MLP models (GPT-2 / OPT / GPT-NeoX / BLOOM names), so TempLoRA
# can be compared with Locas-MLP on them.
MLP_LORA_TARGETS = ["c_attn", "c_proj", "c_fc", "out_proj", "fc1", "fc2", "query_key_value",
                    "dense", "dense_h_to_4h", "dense_4h_to_h"]


# --- input -----------------------------------------------------------------------------------
def read_text(path: Path) -> str:
    """Plain text of a .txt / .md file or an .epub (spine order, one line per block)."""
    if path.suffix.lower() != ".epub":
        return path.read_text(encoding="utf-8", errors="replace")
    import ebooklib
    from bs4 import BeautifulSoup
    from ebooklib import epub

    book = epub.read_epub(str(path), options={"ignore_ncx": True})
    parts = []
    for item_id, _linear in book.spine:
        item = book.get_item_with_id(item_id)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        soup = BeautifulSoup(item.get_content(), "html.parser")
        for tag in soup(["script", "style"]):
            tag.decompose()
        text = soup.get_text("\n")
        lines = [" ".join(line.split()) for line in text.splitlines()]
        parts.append("\n".join(line for line in lines if line))
    return "\n\n".join(p for p in parts if p)


def first_tokens(backbone: Backbone, text: str, n: int) -> torch.Tensor:
    """The first ``n`` token ids of ``text`` (tokenizes only a prefix of a long book)."""
    tok = backbone.tokenizer
    chars = n * 8
    while True:
        ids = tok(text[:chars], add_special_tokens=False)["input_ids"]
        if len(ids) > n or chars >= len(text):
            return torch.tensor(ids[:n], dtype=torch.long)
        chars *= 2


# --- methods ---------------------------------------------------------------------------------
def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _progress_every(n_chunks: int):
    step = max(1, n_chunks // 8)

    def show(i: int, ppl: float, tps: float, label: str) -> None:
        if (i + 1) % step == 0 or i + 1 == n_chunks:
            _log(f"  [{label}] chunk {i + 1}/{n_chunks}  ppl {ppl:.3f}  {tps:.0f} tok/s")

    return show


@torch.no_grad()
def score_ppl(model: torch.nn.Module, device: torch.device, ids: torch.Tensor, chunk: int,
              context: int, label: str = "none",
              chunk_context: Callable[[tuple[int, int, int]], AbstractContextManager] | None = None) -> float:
    """Perplexity of ``ids`` under ``model`` on the chunk/context protocol, without training.

    Each chunk is scored inside ``chunk_context(span)`` when given: the shelf benchmark routes
    there, switching memories on for that chunk with ``only_enabled``.
    """
    spans = chunk_spans(ids.numel(), chunk, context)
    dev_ids = ids.to(device)
    show = _progress_every(len(spans))
    nll = torch.zeros((), device=device, dtype=torch.float64)
    n_total = 0
    t0 = time.perf_counter()
    for i, span in enumerate(spans):
        with (chunk_context(span) if chunk_context else contextlib.nullcontext()), \
                autocast_context(device, None):
            loss, n = chunk_loss(model, dev_ids, span)
        nll += loss.double() * n
        n_total += n
        show(i, math.exp(nll.item() / n_total), span[2] / (time.perf_counter() - t0), label)
    return math.exp(nll.item() / n_total)


def run_none(bb: Backbone, ids: torch.Tensor, chunk: int, context: int) -> dict:
    t0 = time.perf_counter()
    ppl = score_ppl(bb.model, bb.device, ids, chunk, context)
    return {"method": "none", "init": None, "rank": 0, "lr": None,
            "ppl": ppl, "extra_params": 0, "seconds": time.perf_counter() - t0}


def _memorize_timed(bb: Backbone, mem, ids: torch.Tensor, training: TrainingSpec,
                    label: str) -> tuple[object, float, int]:
    """Memorize ``ids`` into ``mem`` with the product's Memorizer, showing progress:
    (result, seconds, trained parameters)."""
    show = _progress_every(len(chunk_spans(ids.numel(), training.chunk, training.context)))
    t0 = time.perf_counter()
    result = Memorizer(bb, mem, training).run(
        ids, progress=lambda p: show(p.chunk_index, p.ppl, p.tokens_per_s, label))
    return result, time.perf_counter() - t0, mem.num_parameters()


def run_locas(bb: Backbone, ids: torch.Tensor, spec: MemorySpec, training: TrainingSpec,
              after: Callable[[torch.nn.Module], dict] | None = None) -> dict:
    """``after(model)``, if given, runs on the memorized model (memory on) before it is detached."""
    mem = attach_memory(bb, spec, name="bench")
    try:
        result, seconds, extra = _memorize_timed(bb, mem, ids, training, "locas")
        measured = after(bb.model) if after is not None else {}
    finally:
        detach_memory(bb, mem)
    return {"method": "locas", "init": spec.init, "rank": spec.rank, "lr": training.lr,
            "ppl": result.ppl, "extra_params": extra, "seconds": seconds, "steps": training.steps,
            "layers": spec.layers, "output_scale": spec.output_scale, "clip": spec.clip, **measured}


def run_locas_mlp(bb: Backbone, ids: torch.Tensor, chunk: int, context: int, *, capacity: int,
                  epsilon: float, support: float, compress: str, lr: float, steps: int,
                  layers: str, seed: int, precision: str = "auto") -> dict:
    """A Locas-MLP memory memorized by the engine's Memorizer (the product's code path)."""
    config = MLPMemoryConfig(capacity=capacity, layers=parse_layers(layers, bb.num_layers),
                             epsilon=epsilon, support=support, compress=compress, seed=seed)
    mem = attach_mlp_memory(bb, config, name="bench")
    training = TrainingSpec(chunk=chunk, context=context, steps=steps, lr=lr, precision=precision)
    try:
        result, seconds, extra = _memorize_timed(bb, mem, ids, training, "locas-mlp")
        used = max(mem.used().values())
    finally:
        detach_memory(bb, mem)
    return {"method": "locas-mlp", "init": compress, "rank": capacity, "lr": lr,
            "ppl": result.ppl, "extra_params": extra, "seconds": seconds, "steps": steps,
            "layers": layers, "epsilon": epsilon, "support": support, "compress": compress,
            "slots_used": used}


def run_templora(bb: Backbone, ids: torch.Tensor, chunk: int, context: int, *, rank: int,
                 lr: float, steps: int, alpha: float | None, seed: int,
                 after: Callable[[torch.nn.Module], dict] | None = None) -> dict:
    """``after(model)``, if given, runs on the trained LoRA model before it is discarded."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    targets = sorted({name.rsplit(".", 1)[-1] for name, _ in bb.model.named_modules()}
                     & set(LORA_TARGETS + ["qkv_proj", "gate_up_proj"] + MLP_LORA_TARGETS))
    lora = LoraConfig(r=rank, lora_alpha=alpha if alpha is not None else rank,
                      lora_dropout=0.0, target_modules=targets, bias="none")
    model = get_peft_model(copy.deepcopy(bb.model), lora)  # the backbone stays untouched
    model.eval()  # no dropout anywhere; LoRA weights still train
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    spans = chunk_spans(ids.numel(), chunk, context)
    dev_ids = ids.to(bb.device)
    show = _progress_every(len(spans))
    nll, n_total = 0.0, 0
    t0 = time.perf_counter()
    for i, span in enumerate(spans):
        for step in range(steps):
            # bf16 weights train as the Memorizer trains them: under bf16 autocast; fp32 weights
            # in fp32 (no device default: on CUDA that would be bf16 against --precision fp32)
            with autocast_context(bb.device, bb.dtype == torch.bfloat16):
                loss, n = chunk_loss(model, dev_ids, span)
            if step == 0:
                score = loss.detach()
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
        nll += float(score) * n
        n_total += n
        show(i, math.exp(nll / n_total), span[2] / (time.perf_counter() - t0), "templora")
    seconds = time.perf_counter() - t0
    extra = sum(p.numel() for p in params)
    measured = after(model) if after is not None else {}
    del model, opt
    return {"method": "templora", "init": None, "rank": rank, "lr": lr,
            "ppl": math.exp(nll / n_total), "extra_params": extra, "seconds": seconds,
            "steps": steps, "lora_alpha": alpha if alpha is not None else rank, **measured}


# --- driver ----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = bench_parser("ppl", __doc__)
    p.add_argument("--file", required=True, type=Path, help=".txt/.md or .epub")
    p.add_argument("--model", default="default", help="'default', a HF folder or a .gguf file")
    p.add_argument("--device", default="auto")
    p.add_argument("--tokens", type=int, default=16384, help="first N tokens of the file")
    add_flags(p, TrainingSpec, TrainingSpec(), only=("chunk", "context"))
    p.add_argument("--methods", nargs="+", default=["none", "locas", "templora"],
                   choices=["none", "locas", "templora", "locas-mlp"])
    add_flags(p, MemorySpec, MemorySpec(), many=True)
    add_flags(p, TrainingSpec, TrainingSpec(), many=True, only=("lr", "steps"))
    p.add_argument("--no-clip", action="store_true", help="disable weight-norm clipping")
    p.add_argument("--capacity", nargs="+", type=int, default=[1024],
                   help="Locas-MLP slots per layer")
    p.add_argument("--epsilon", nargs="+", type=float, default=[0.05],
                   help="Locas-MLP write size (RMS of one token's write over all layers)")
    p.add_argument("--support", nargs="+", type=float, default=[0.5],
                   help="Locas-MLP slot locality gamma in [0, 1); 0 = the paper's relu(k.a)")
    p.add_argument("--compress", nargs="+", default=["backprop"], choices=["backprop", "nlsvd"],
                   help="Locas-MLP past capacity: train the slots, or compress with NL-SVD")
    p.add_argument("--lora-rank", nargs="+", type=int, default=[64])
    p.add_argument("--lora-lr", nargs="+", type=float, default=[1e-3])
    p.add_argument("--lora-alpha", type=float, default=None, help="default: = LoRA rank")
    p.add_argument("--precision", default="auto", choices=PRECISIONS,
                   help="of the memorizing methods (default: the app's on this device); none is fp32")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None, help="write the results here")
    return p


def format_table(results: list[dict]) -> str:
    base = next((r["ppl"] for r in results if r["method"] == "none"), None)
    head = (f"{'method':<9} {'init':<8} {'rank':>4} {'lr':>8} {'steps':>5} {'layers':<7} "
            f"{'scale':>6} {'ppl':>8} {'vs none':>8} {'params':>10} {'sec':>8} {'tok/s':>7} "
            f"{'rel_time':>8}")
    lines = [head, "-" * len(head)]
    for r in results:
        delta = f"{100 * (r['ppl'] / base - 1):+.1f}%" if base else "-"
        lines.append(
            f"{r['method']:<9} {r['init'] or '-':<8} {r['rank']:>4} "
            f"{(format(r['lr'], '.0e') if r['lr'] else '-'):>8} {r.get('steps', '-'):>5} "
            f"{r.get('layers', '-'):<7} {r.get('output_scale', '-'):>6} {r['ppl']:>8.3f} "
            f"{delta:>8} {r['extra_params']:>10,} {r['seconds']:>8.1f} "
            f"{r['tokens_per_s']:>7.1f} "
            f"{(format(r['rel_time'], '.2f') if r['rel_time'] is not None else '-'):>8}")
    return "\n".join(lines)



def run(args: argparse.Namespace) -> dict:
    """The benchmark for already-parsed flags (``locas bench ppl`` parses them itself)."""
    tau_scales(args)  # an old --tau-scale becomes --output-scale for each rank
    floor = load_backbone(args.model, device=args.device, dtype=torch.float32)  # scores `none`
    precision = resolve_precision(args.precision, floor.device)
    bb = floor if precision == "fp32" else backbone_from_model(
        copy.deepcopy(floor.model).to(precision_dtype(precision)), floor.tokenizer, floor.name)
    ids = first_tokens(bb, read_text(args.file), args.tokens)
    n = ids.numel()
    _log(f"{bb.name} on {bb.device}: memorizing in {precision} ({bb.dtype} weights), none in fp32; "
         f"{n} tokens of {args.file.name}; chunk {args.chunk}, context {args.context}")
    with torch.no_grad():  # warm-up, so the first timed method does not pay for it
        for model in {id(m): m for m in (floor.model, bb.model)}.values():
            chunk_loss(model, ids.to(bb.device), chunk_spans(n, args.chunk, args.context)[0])
    results: list[dict] = []
    for method in args.methods:
        if method == "none":
            _log("none")
            results.append(run_none(floor, ids, args.chunk, args.context))
        elif method == "locas":
            grid = [(init, rank, lr, steps, layers, scale)
                    for init, rank, lr, steps, layers in itertools.product(
                        args.init, args.rank, args.lr, args.steps, args.layers)
                    for scale in scales_for(args.output_scale, rank)]
            for init, rank, lr, steps, layers, scale in grid:
                _log(f"locas init={init} rank={rank} lr={lr} steps={steps} layers={layers} "
                     f"output_scale={scale}")
                spec = MemorySpec(rank=rank, init=init, layers=layers, output_scale=scale,
                                  clip=not args.no_clip, seed=args.seed)
                training = TrainingSpec(chunk=args.chunk, context=args.context, lr=lr, steps=steps,
                                        precision=precision)
                results.append(run_locas(bb, ids, spec, training))
        elif method == "locas-mlp":
            grid = itertools.product(args.capacity, args.epsilon, args.support, args.compress,
                                     args.lr, args.steps, args.layers)
            for capacity, eps, support, compress, lr, steps, layers in grid:
                _log(f"locas-mlp capacity={capacity} epsilon={eps} support={support} "
                     f"compress={compress} lr={lr} steps={steps} layers={layers}")
                results.append(run_locas_mlp(
                    bb, ids, args.chunk, args.context, capacity=capacity, epsilon=eps,
                    support=support, compress=compress, lr=lr, steps=steps, layers=layers,
                    seed=args.seed, precision=precision))
        else:
            for rank, lr, steps in itertools.product(args.lora_rank, args.lora_lr, args.steps):
                _log(f"templora rank={rank} lr={lr} steps={steps}")
                results.append(run_templora(bb, ids, args.chunk, args.context, rank=rank, lr=lr,
                                            steps=steps, alpha=args.lora_alpha, seed=args.seed))
    none_s = next((r["seconds"] for r in results if r["method"] == "none"), None)
    for r in results:
        r["tokens_per_s"] = n / r["seconds"]
        r["rel_time"] = r["seconds"] / none_s if none_s else None
    report = {"model": bb.name, "tokens": n, "chunk": args.chunk, "context": args.context,
              "results": results, "file": str(args.file), "device": str(bb.device),
              "precision": precision, "none_precision": "fp32",
              "dtype": str(bb.dtype).replace("torch.", "")}
    print(format_table(results))
    return report
