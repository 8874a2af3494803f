"""Every benchmark runs the same way: its own flags, its report written by the one writer."""

from __future__ import annotations

import argparse
import json
from types import SimpleNamespace

from app.cli import main
from locas_engine.bench import run_bench
from locas_engine.bench.__main__ import main as engine_bench_main


def _bench(report: dict):
    def build_parser() -> argparse.ArgumentParser:
        p = argparse.ArgumentParser()
        p.add_argument("--n", type=int, default=1)
        p.add_argument("--json")
        return p

    return SimpleNamespace(build_parser=build_parser, run=lambda args: {**report, "n": args.n})


def test_the_report_carries_the_command_the_date_and_the_machine(tmp_path):
    out = tmp_path / "deep" / "report.json"
    report = run_bench(_bench({"results": [1]}), ["--n", "3", "--json", str(out)])
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written == report
    assert written["n"] == 3 and written["argv"] == ["--n", "3", "--json", str(out)]
    assert written["date"][:2] == "20" and written["machine"]["cpus"] >= 1


def test_no_report_file_without_json(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = set(tmp_path.rglob("*"))
    assert run_bench(_bench({}), [])["n"] == 1
    assert set(tmp_path.rglob("*")) == before


def test_locas_bench_tables_prints_the_docs_table_of_a_report(tmp_path, capsys):
    report = {"results": [{"method": "locas", "lr": 0.006, "book_ppl": 10.5, "heldout_ppl": 20.25,
                           "change_pct": 1.5}]}
    path = tmp_path / "forget.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    assert main(["bench", "tables", str(path)]) == 0
    out = capsys.readouterr().out
    assert "| method | lr | book ppl (online) | held-out ppl | change |" in out
    assert "| locas | 0.006 | 10.500 | 20.250 | +1.50% |" in out


def test_locas_bench_tables_prints_the_gui_stall_table(tmp_path, capsys):
    report = {"bench": "gui-stall", "states": {"idle": 46.9, "memorizing": 598.1},
              "states_less_cpu_wait": {"idle": 10.5, "memorizing": 81.3},
              "phases": {"model load": {"max_ms": 275.0, "max_own_ms": 197.8}}}
    path = tmp_path / "gui-stall.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    assert main(["bench", "tables", str(path)]) == 0
    out = capsys.readouterr().out
    assert "| state | longest gap | less CPU wait |" in out
    assert "| idle | 47 ms | 11 ms |" in out and "| memorizing | 598 ms | 81 ms |" in out
    assert "| model load at start-up (not a state) | 275 ms | 198 ms |" in out


def test_locas_bench_tables_says_when_it_has_no_table_for_a_report(tmp_path, capsys):
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"rules": []}), encoding="utf-8")
    assert main(["bench", "tables", str(path)]) == 0
    assert "no table" in capsys.readouterr().out


def test_the_engine_benches_run_without_the_app(capsys):
    assert engine_bench_main([]) == 2
    listing = capsys.readouterr().out
    assert all(name in listing for name in ("ppl", "forget", "shelf"))
