"""`locas bench ppl|qa|forget|shelf|speed`: the benchmarks behind docs/benchmarks.md.

`ppl` and `forget` are engine benchmarks (locas_engine.bench; also runnable with python -m);
`qa` needs the library and jobs, and `speed` the app's defaults, so they live in app.bench.
Each module owns its flags.

The benchmark modules import torch, so the `locas` parser lists them by name and help only;
`locas bench NAME ...` is parsed by the benchmark's own parser (bench_command), imported then.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Sequence

BENCHES = {
    "ppl": ("locas_engine.bench.ppl", "online perplexity: none / locas / templora"),
    "forget": ("locas_engine.bench.forget", "held-out perplexity after memorizing a book"),
    "shelf": ("locas_engine.bench.shelf", "several book memories attached at once vs each alone"),
    "qa": ("app.bench.qa", "LoCoMo question answering in several modes"),
    "speed": ("app.bench.speed", "memorization time against scoring alone, default vs fp32"),
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmarks: online perplexity, LoCoMo QA, forgetting")
    bsub = p.add_subparsers(dest="bench", required=True, metavar="BENCH")
    for name, (module, help_text) in BENCHES.items():
        # Listed for `locas bench --help`; bench_command parses `locas bench NAME ...` itself.
        bsub.add_parser(name, help=help_text).set_defaults(func=_runner(module))


def bench_command(argv: Sequence[str]) -> tuple[Callable[[argparse.Namespace], int], argparse.Namespace] | None:
    """(handler, args) for `bench NAME ARGS...`, parsed by that benchmark's parser; else None."""
    if len(argv) < 2 or argv[0] != "bench" or argv[1] not in BENCHES:
        return None
    module = BENCHES[argv[1]][0]
    parser = importlib.import_module(module).build_parser()
    parser.prog = f"locas bench {argv[1]}"
    return _runner(module), parser.parse_args(list(argv[2:]))


def _runner(module: str):
    def run(args: argparse.Namespace) -> int:
        importlib.import_module(module).run(args)
        return 0

    return run
