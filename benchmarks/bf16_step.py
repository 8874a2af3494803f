"""One memorizing step (forward and backward through a rank-64 memory on every layer) of the
default model, fp32 against bf16 weights + autocast, in the same process.

    python3 benchmarks/bf16_step.py [--tokens 128] [--json docs/bench-results/bf16-step.json]

A window of ``--tokens`` context plus ``--tokens`` chunk tokens from the shared book; each way
runs ``--rounds`` times, interleaved, and the fastest is kept. Scoring alone (forward without
gradients) is timed too, the floor `locas bench speed` measures against; then the product's
Memorizer runs over all ``4 * --tokens`` tokens each way (initialization, steps, AdamW, clipping).
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import torch

from locas_engine import (
    Memorizer,
    MemorySpec,
    TrainingSpec,
    attach_memory,
    backbone_from_model,
    detach_memory,
    load_backbone,
)
from locas_engine.bench import write_report
from locas_engine.bench.ppl import first_tokens, read_text
from locas_engine.memorizer import chunk_loss

BOOK = Path(__file__).resolve().parents[2] / "shared" / "data" / "books" / "childrens-literature.epub"


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--tokens", type=int, default=128)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--file", type=Path, default=BOOK)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    bb = load_backbone("default", device="cpu", dtype="fp32")
    bb16 = backbone_from_model(copy.deepcopy(bb.model).to(torch.bfloat16), bb.tokenizer, bb.name)
    n = args.tokens
    ids = first_tokens(bb, read_text(args.file), 4 * n)
    span = (2 * n, 3 * n, 4 * n)
    ways = {"fp32": (bb, False), "bf16 weights + autocast": (bb16, True)}
    best: dict[str, dict[str, float]] = {k: {"score": 1e9, "step": 1e9} for k in ways}
    for _ in range(args.rounds):
        for name, (b, autocast) in ways.items():
            memory = attach_memory(b, MemorySpec(), name="step")
            for param in memory.parameters():
                torch.nn.init.normal_(param, std=0.01)
            ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if autocast else torch.enable_grad
            t0 = time.perf_counter()
            with torch.no_grad(), ctx():
                chunk_loss(b.model, ids, span)
            t1 = time.perf_counter()
            with ctx():
                loss, _ = chunk_loss(b.model, ids, span)
            loss.backward()
            t2 = time.perf_counter()
            detach_memory(b, memory)
            best[name]["score"] = min(best[name]["score"], t1 - t0)
            best[name]["step"] = min(best[name]["step"], t2 - t1)
            print(f"{name}: score {t1 - t0:.2f} s, forward+backward {t2 - t1:.2f} s", flush=True)
    memorize = {}
    for name, (b, autocast) in ways.items():  # the product's Memorizer: init, steps, AdamW, clip
        memory = attach_memory(b, MemorySpec(), name="run")
        t0 = time.perf_counter()
        training = TrainingSpec(chunk=n, context=n, precision="bf16" if autocast else "fp32")
        result = Memorizer(b, memory, training).run(ids)
        memorize[name] = {"seconds": time.perf_counter() - t0, "ppl": result.ppl,
                          "tokens": int(ids.numel())}
        detach_memory(b, memory)
        print(f"{name}: Memorizer.run over {ids.numel()} tokens {memorize[name]['seconds']:.2f} s, "
              f"ppl {result.ppl:.3f}", flush=True)
    report = {"tokens": n, "window": 2 * n, "seconds": best, "memorize": memorize}
    write_report(report, args.json)
    return report


if __name__ == "__main__":
    main()
