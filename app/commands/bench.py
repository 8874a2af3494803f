"""`locas bench ppl|qa|forget`: the benchmarks behind docs/benchmarks.md.

`ppl` and `forget` are engine benchmarks (locas_engine.bench; also runnable with python -m);
`qa` needs the library and jobs, so it lives in app.bench. Each module owns its flags.
"""

from __future__ import annotations

import argparse
import importlib

BENCHES = {
    "ppl": ("locas_engine.bench.ppl", "online perplexity: none / locas / templora"),
    "forget": ("locas_engine.bench.forget", "held-out perplexity after memorizing a book"),
    "shelf": ("locas_engine.bench.shelf", "several book memories attached at once vs each alone"),
    "qa": ("app.bench.qa", "LoCoMo question answering in several modes"),
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmarks: online perplexity, LoCoMo QA, forgetting")
    bsub = p.add_subparsers(dest="bench", required=True)
    for name, (module, help_text) in BENCHES.items():
        bsub.add_parser(name, help=help_text, add_help=False,
                        parents=[_lazy_parser(module)]).set_defaults(func=_runner(module))


def _lazy_parser(module: str) -> argparse.ArgumentParser:
    return importlib.import_module(module).build_parser()


def _runner(module: str):
    def run(args: argparse.Namespace) -> int:
        importlib.import_module(module).run(args)
        return 0

    return run
