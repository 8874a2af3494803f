"""Shelf benchmark: do memories of different books compose when attached together?

    locas bench shelf --books a.epub b.epub --tokens 4096 --json out.json

Each book gets its own Locas-GLU memory (memorized alone). Then each book's memorized text is
scored again (chunk/context protocol, no training) with: no memory, its own memory alone, and
every memory attached at once, and the shelf routed: before each chunk, the memory (or all of
them) that best predicts the chunk's context is switched on (locas_engine.routing), the way a
question's prompt picks the memory that answers it. The first chunk has no context to judge
by and is scored with every memory on.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..adapter import detach_memory, only_enabled
from ..backbone import load_backbone
from ..memorizer import Memorizer
from ..memory import attach_memory
from ..routing import route_memories
from ..spec import MemorySpec, TrainingSpec, add_flags, tau_scales
from . import bench_parser
from .ppl import _log, first_tokens, read_text, score_ppl


def build_parser() -> argparse.ArgumentParser:
    p = bench_parser("shelf", __doc__)
    p.add_argument("--books", nargs="+", required=True, type=Path)
    p.add_argument("--tokens", type=int, default=4096, help="first N tokens of each book")
    p.add_argument("--model", default="default")
    p.add_argument("--device", default="auto")
    add_flags(p, MemorySpec, MemorySpec(), only=("rank", "output_scale", "layers"))
    add_flags(p, TrainingSpec, TrainingSpec(), only=("lr", "chunk", "context", "steps"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None)
    return p


def run(args: argparse.Namespace) -> dict:
    tau_scales(args)  # an old --tau-scale becomes --output-scale
    bb = load_backbone(args.model, device=args.device)
    texts = {path.name: first_tokens(bb, read_text(path), args.tokens) for path in args.books}
    memories = {}
    for i, (name, ids) in enumerate(texts.items()):
        _log(f"memorizing {name} ({ids.numel()} tokens)")
        spec = MemorySpec(rank=args.rank, layers=args.layers, output_scale=args.output_scale,
                          seed=args.seed)
        memory = attach_memory(bb, spec, name=f"book{i}")
        training = TrainingSpec(chunk=args.chunk, context=args.context, steps=args.steps, lr=args.lr)
        Memorizer(bb, memory, training).run(ids)  # alone: see run()
        memories[name] = memory

    shelf = [m.name for m in memories.values()]

    def scored(name: str, on: list[str], chunk_context=None) -> float:
        """Perplexity of one book's text with the named memories on."""
        with only_enabled(bb.memories, on):
            return score_ppl(bb.model, bb.device, texts[name], args.chunk, args.context, name,
                             chunk_context)

    def scored_routed(name: str) -> tuple[float, float]:
        """Perplexity with the routed shelf, and the share of routed chunks that went to the
        book's own memory."""
        ids, own = texts[name], [memories[name].name]
        went_own: list[bool] = []

        def route(span: tuple[int, int, int]):
            c0, start, _ = span
            chosen = route_memories(bb, shelf, ids[c0:start])
            if chosen.routed:
                went_own.append(chosen.memories == own)
            return only_enabled(bb.memories, chosen.memories)  # for this chunk only

        return scored(name, shelf, chunk_context=route), sum(went_own) / max(len(went_own), 1)

    rows = []
    for name in texts:
        none, own, all_on = scored(name, []), scored(name, [memories[name].name]), scored(name, shelf)
        routed, to_own = scored_routed(name)
        rows.append({"book": name, "none": none, "own": own, "shelf": all_on,
                     "shelf_vs_own_pct": 100.0 * (all_on / own - 1.0),
                     "routed": routed, "routed_vs_own_pct": 100.0 * (routed / own - 1.0),
                     "routed_to_own": to_own})
    for memory in memories.values():
        detach_memory(bb, memory)
    print(f"{'book':<32}{'no memory':>11}{'own memory':>12}{'all memories':>14}{'shelf vs own':>14}"
          f"{'routed':>10}{'routed vs own':>15}{'to own':>8}")
    for r in rows:
        print(f"{r['book']:<32}{r['none']:>11.3f}{r['own']:>12.3f}{r['shelf']:>14.3f}"
              f"{r['shelf_vs_own_pct']:>+13.2f}%{r['routed']:>10.3f}{r['routed_vs_own_pct']:>+14.2f}%"
              f"{r['routed_to_own']:>8.0%}")
    report = {"model": bb.name, "tokens": args.tokens, "chunk": args.chunk, "context": args.context,
              "rank": args.rank, "lr": args.lr, "results": rows}
    return report
