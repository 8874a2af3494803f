"""Benchmarks of the engine: online perplexity, forgetting, shelves (each prints a table, writes JSON).

Every benchmark, the engine's and the app's (`app.bench`), is a module with ``build_parser()``
(begun with `bench_parser`) and ``run(args) -> report``; `run_bench` parses its flags, runs it and
writes its report with the one writer, `write_report`, which stamps the date, the machine and the
command on it. ``locas bench NAME`` runs them all; ``python -m locas_engine.bench NAME`` runs the
engine's without the app. Importing this package imports no torch (the benchmarks themselves do).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType

ENGINE_BENCHES = {
    "ppl": ("locas_engine.bench.ppl", "online perplexity: none / locas / templora"),
    "forget": ("locas_engine.bench.forget", "held-out perplexity after memorizing a book"),
    "shelf": ("locas_engine.bench.shelf", "several book memories attached at once vs each alone"),
}


def machine() -> dict:
    """What the figures were measured on, for the report."""
    return {"platform": platform.platform(), "processor": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version()}


def bench_parser(name: str, doc: str | None) -> argparse.ArgumentParser:
    """The parser every benchmark starts its ``build_parser`` with: ``locas bench NAME``, its
    module's docstring as the description, kept as written."""
    return argparse.ArgumentParser(prog=f"locas bench {name}", description=doc,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def write_report(report: dict, path: str | os.PathLike | None) -> None:
    """Write a benchmark's JSON report (if a path was given), creating its folder; the date and
    the machine are added when the benchmark did not set them."""
    if path is None:
        return
    report.setdefault("date", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    report.setdefault("machine", machine())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1), encoding="utf-8")


def run_bench(bench: str | ModuleType, argv: Sequence[str], prog: str | None = None) -> dict | None:
    """Run one benchmark module (or its dotted name) on command-line flags; its report, also
    written to ``--json`` when given."""
    module = importlib.import_module(bench) if isinstance(bench, str) else bench
    parser = module.build_parser()
    if prog:
        parser.prog = prog
    args = parser.parse_args(list(argv))
    report = module.run(args)
    if isinstance(report, dict):
        report.setdefault("argv", list(argv))
        write_report(report, getattr(args, "json", None))
    return report
