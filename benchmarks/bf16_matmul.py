"""Why bf16 means bf16 weights on a CPU, not autocast alone: one FFN-sized matmul three ways.

    python3 benchmarks/bf16_matmul.py [--json docs/bench-results/bf16-matmul.json]

Times ``linear(x, w)`` for x (512, 576) and w (1536, 576), SmolLM2-135M's FFN shape over a
256-token chunk with 256 tokens of context: fp32; bf16 weights and input; fp32 weights under
bf16 autocast (which casts the weight at every call). Each way runs interleaved with the
others, several rounds, and the median is kept: on a shared machine the load moves.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from locas_engine.bench import write_report
from locas_engine.precision import native_bf16


def _time(fn, n: int) -> float:
    fn()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e3


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    x, w = torch.randn(512, 576), torch.randn(1536, 576)
    xb, wb = x.bfloat16(), w.bfloat16()

    def autocast() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            F.linear(x, w)

    ways = {"fp32": lambda: F.linear(x, w), "bf16 weights": lambda: F.linear(xb, wb),
            "fp32 weights + bf16 autocast": autocast}
    times: dict[str, list[float]] = {k: [] for k in ways}
    for _ in range(args.rounds):
        for name, fn in ways.items():
            times[name].append(_time(fn, args.calls))
    median = {k: statistics.median(v) for k, v in times.items()}
    print(f"native bf16: {native_bf16('cpu')}, {torch.get_num_threads()} threads")
    print(f"{'way':<30}{'ms per call':>12}{'vs fp32':>9}")
    for name, ms in median.items():
        print(f"{name:<30}{ms:>12.2f}{median['fp32'] / ms:>8.2f}x")
    report = {"native_bf16": native_bf16("cpu"), "threads": torch.get_num_threads(),
              "ms_per_call": median, "all_ms": times}
    write_report(report, args.json)
    return report


if __name__ == "__main__":
    main()
