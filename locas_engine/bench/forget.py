"""Forgetting benchmark: does memorizing a book hurt the model on text it did not memorize?

    locas bench forget --book book.epub --heldout other.epub --json out.json

Measures the perplexity of a held-out text (chunk/context protocol, no training) with the base
model, then with a Locas-GLU memory trained on the whole book attached, then with a TempLoRA
adapter trained on the same book, and reports each change in percent. This is the product's
version of the paper's MMLU-after-a-book check: a memory that is on while a person asks about
other things should not make the model worse at them.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from ..backbone import load_backbone
from ..precision import precision_dtype
from ..spec import MemorySpec, TrainingSpec, add_flags, tau_scales
from . import bench_parser
from .ppl import _log, first_tokens, read_text, run_locas, run_templora, score_ppl


def build_parser() -> argparse.ArgumentParser:
    p = bench_parser("forget", __doc__)
    p.add_argument("--book", required=True, type=Path, help="the text to memorize (.txt or .epub)")
    p.add_argument("--heldout", required=True, type=Path, help="a text that is not memorized")
    p.add_argument("--book-tokens", type=int, default=None, help="memorize only the first N tokens")
    p.add_argument("--heldout-tokens", type=int, default=4096)
    p.add_argument("--model", default="default")
    p.add_argument("--device", default="auto")
    add_flags(p, MemorySpec, MemorySpec())
    add_flags(p, TrainingSpec, TrainingSpec(), only=("lr", "chunk", "context", "steps"))
    p.add_argument("--lora-rank", type=int, default=64)
    p.add_argument("--lora-lr", type=float, default=1e-3)
    p.add_argument("--methods", nargs="+", default=["locas", "templora"], choices=["locas", "templora"])
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"],
                   help="the model's weights and arithmetic (bf16: weights in bf16 and autocast, "
                        "as the app memorizes on hardware with native bf16)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None)
    return p


def run(args: argparse.Namespace) -> dict:
    tau_scales(args)  # an old --tau-scale becomes --output-scale
    bb = load_backbone(args.model, device=args.device, dtype=precision_dtype(args.precision))
    book_text = read_text(args.book)
    n_book = args.book_tokens or len(bb.tokenizer(book_text, add_special_tokens=False)["input_ids"])
    book = first_tokens(bb, book_text, n_book)
    heldout = first_tokens(bb, read_text(args.heldout), args.heldout_tokens)
    _log(f"{bb.name} on {bb.device}; book {args.book.name}: {book.numel()} tokens; "
         f"held-out {args.heldout.name}: {heldout.numel()} tokens")

    def heldout_ppl(model: torch.nn.Module) -> dict:
        return {"heldout_ppl": score_ppl(model, bb.device, heldout, args.chunk, args.context, "heldout")}

    t0 = time.perf_counter()
    base = heldout_ppl(bb.model)["heldout_ppl"]
    rows = [{"method": "base", "book_ppl": None, "heldout_ppl": base, "change_pct": 0.0,
             "seconds": time.perf_counter() - t0}]
    for method in args.methods:
        _log(f"{method}: memorizing the book")
        if method == "locas":
            spec = MemorySpec(rank=args.rank, init=args.init, layers=args.layers,
                              output_scale=args.output_scale, seed=args.seed)
            training = TrainingSpec(chunk=args.chunk, context=args.context, lr=args.lr,
                                    steps=args.steps, precision=args.precision)
            r = run_locas(bb, book, spec, training, after=heldout_ppl)
        else:
            r = run_templora(bb, book, args.chunk, args.context, rank=args.lora_rank,
                             lr=args.lora_lr, steps=args.steps, alpha=None, seed=args.seed,
                             after=heldout_ppl)
        rows.append({"method": method, "book_ppl": r["ppl"], "heldout_ppl": r["heldout_ppl"],
                     "change_pct": 100.0 * (r["heldout_ppl"] / base - 1.0), "seconds": r["seconds"],
                     "extra_params": r["extra_params"], "lr": r["lr"], "rank": r["rank"]})
    report = {"model": bb.name, "book": str(args.book), "book_tokens": int(book.numel()),
              "heldout": str(args.heldout), "heldout_tokens": int(heldout.numel()),
              "chunk": args.chunk, "context": args.context, "results": rows,
              "precision": args.precision, "layers": args.layers,
              "device": str(bb.device)}
    print(f"{'method':<10}{'book ppl':>10}{'held-out ppl':>14}{'change':>9}")
    for r in rows:
        book_ppl = f"{r['book_ppl']:.3f}" if r["book_ppl"] else "-"
        print(f"{r['method']:<10}{book_ppl:>10}{r['heldout_ppl']:>14.3f}{r['change_pct']:>+8.2f}%")
    return report
