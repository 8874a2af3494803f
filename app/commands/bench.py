"""`locas bench NAME`: every benchmark behind docs/benchmarks.md, in one place.

`ppl`, `forget` and `shelf` are engine benchmarks (locas_engine.bench; also runnable without the
app as ``python -m locas_engine.bench NAME``); `qa` and `latency` need the library and the answer
pipeline and `speed` the app's defaults, so they live in app.bench; `gui-stall` runs the window
and `models` times its model list, so they live in app.ui (imported only when they run: the core
stays Qt-free). `combine`, `calibrate` and `tables` read the reports the others wrote. Each
module owns its flags; `locas_engine.bench.run_bench` runs any of them and writes its report.

The benchmark modules import torch, so the `locas` parser lists them by name and help only;
`locas bench NAME ...` is parsed by the benchmark's own parser (bench_command), imported then.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from locas_engine.bench import ENGINE_BENCHES, run_bench

BENCHES = {
    **ENGINE_BENCHES,
    "qa": ("app.bench.qa", "question answering over chat logs or a book, in several modes"),
    "retrieval": ("app.bench.retrieval", "recall@k of the gold evidence: bm25 against the model's rerank"),
    "speed": ("app.bench.speed", "memorization time against scoring alone, default vs fp32"),
    "attribution": ("app.bench.attribution", "how often the misattribution check abstains (no model)"),
    "latency": ("app.bench.latency", "an answer's time to first word and to the end, stage by stage, "
                "against a bare generate"),
    "gui-stall": ("app.ui.stall_bench", "how long the window stalls while it memorizes and answers"),
    "models": ("app.ui.models_bench", "how long listing the models takes (command line and window), first "
               "and cached"),
    # Tools over the reports the benchmarks wrote:
    "combine": ("app.bench.combine", "pool qa reports run apart; pair them with earlier ones"),
    "calibrate": ("app.bench.calibrate", "fit the abstention rule on one conversation, report on another"),
    "tables": ("app.bench.tables", "the Markdown tables of docs/benchmarks.md from JSON reports"),
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmarks: perplexity, QA, speed, forgetting, GUI stalls")
    bsub = p.add_subparsers(dest="bench", required=True, metavar="BENCH")
    for name, (_module, help_text) in BENCHES.items():
        # Listed for `locas bench --help`; bench_command parses `locas bench NAME ...` itself.
        bsub.add_parser(name, help=help_text)


def bench_command(argv: Sequence[str]) -> tuple[Callable[[argparse.Namespace], int], argparse.Namespace] | None:
    """(handler, args) for `bench NAME ARGS...`; the benchmark parses its own flags when it runs.
    None for anything else."""
    if len(argv) < 2 or argv[0] != "bench" or argv[1] not in BENCHES:
        return None
    name, flags = argv[1], list(argv[2:])

    def run(_args: argparse.Namespace) -> int:
        run_bench(BENCHES[name][0], flags, prog=f"locas bench {name}")
        return 0

    return run, argparse.Namespace(bench=name)
