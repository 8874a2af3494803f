"""Benchmarks of the engine: online perplexity, forgetting, shelves (each prints a table, writes JSON)."""

import json
from pathlib import Path


def write_report(report: dict, path) -> None:
    """Write a benchmark's JSON report (if a path was given), creating its folder."""
    if path is None:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1))
