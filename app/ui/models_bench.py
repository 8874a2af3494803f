"""`locas bench models`: how long listing the models on this computer takes, first and cached.

    locas bench models [--repeat 2] [--json out.json]

Each figure is a fresh process, as a person starts one:
  cli first     `locas models` with the descriptions cache removed (every model read again)
  cli cached    `locas models` again (descriptions from the data folder)
  window first  Settings > Models on this computer…, offscreen, from the click until the search
                is done (each row's time too), the cache removed
  window cached the same, again
The cache (``models/described.json`` in the data folder) is set aside for the "first" runs and
left as the last run wrote it. The load average is recorded: on a shared machine, compare a
run's own figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from locas_engine.bench import bench_parser

# Run in a child process: open the dialog and time each row and the end of the search.
_WINDOW = """
import json, time
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.settings import Settings
from app.ui.model_manager_dialog import ModelManagerDialog
from app.ui.settings_dialog import SettingsDialog
settings = SettingsDialog(Settings())
settings.show()
start = time.perf_counter()
settings.open_model_manager()
dialog = settings.findChild(ModelManagerDialog)
rows = []
while dialog._searching:
    app.processEvents()
    while dialog.table.rowCount() > len(rows):
        rows.append(time.perf_counter() - start)
    time.sleep(0.002)
app.processEvents()
print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows, "status": dialog.status.text()}))
"""


def _timed(cmd: list[str]) -> tuple[float, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - start, done.stdout


def measure(repeat: int = 1) -> dict:
    from app.models.inspect import _cache_path

    cache = _cache_path()
    cli = [sys.executable, "-m", "app.cli", "models"]
    window = [sys.executable, "-c", _WINDOW]
    runs: dict[str, list[float]] = {"cli_first": [], "cli_cached": [], "window_first": [], "window_cached": []}
    rows: dict[str, list[float]] = {}
    listed = ""
    for _ in range(repeat):
        cache.unlink(missing_ok=True)
        seconds, listed = _timed(cli)
        runs["cli_first"].append(seconds)
        runs["cli_cached"].append(_timed(cli)[0])
        for kind in ("first", "cached"):
            if kind == "first":
                cache.unlink(missing_ok=True)
            out = json.loads(_timed(window)[1].strip().splitlines()[-1])
            runs[f"window_{kind}"].append(out["seconds"])
            rows[kind] = out["rows"]
    return {"seconds": {k: statistics.median(v) for k, v in runs.items()}, "seconds_each": runs,
            "window_rows": rows, "models": sum(1 for line in listed.splitlines() if line[:3].strip(". ").isdigit())}


def build_parser() -> argparse.ArgumentParser:
    p = bench_parser("models", __doc__)
    p.add_argument("--repeat", type=int, default=1, help="runs of each figure (medians are kept)")
    p.add_argument("--json", type=Path, help="write the report here")
    return p


def run(args: argparse.Namespace) -> dict:
    load = os.getloadavg()[0]
    report = {"bench": "models", **measure(args.repeat)}
    report["load_average"] = {"start": load, "end": os.getloadavg()[0]}
    s = report["seconds"]
    print(f"{report['models']} models listed; load average {load:.1f} -> {report['load_average']['end']:.1f}")
    print(f"{'':<8} {'first':>8} {'cached':>8}")
    print(f"{'cli':<8} {s['cli_first']:>7.2f}s {s['cli_cached']:>7.2f}s")
    print(f"{'window':<8} {s['window_first']:>7.2f}s {s['window_cached']:>7.2f}s")
    return report
