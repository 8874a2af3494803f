"""`locas bench tables`: the Markdown tables of docs/benchmarks.md from the benchmarks' JSON reports.

    locas bench tables docs/bench-results/*.json

Each benchmark writes JSON; this turns any of them into the table the docs show, so the figures
in the docs are copied by a program, never by hand.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from app.bench.latency import _s
from app.bench.scoring import overall_at_tokens
from locas_engine.bench import bench_parser


def _pct(value: float, base: float) -> str:
    return f"{100 * (value / base - 1):+.1f}%"


def ppl_table(report: dict) -> str:
    rows = report["results"]
    none = next((r for r in rows if r["method"] == "none"), None)
    out = ["| method | init | rank | lr | output scale | layers | ppl | vs none | extra params | tok/s | time vs none |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        vs = _pct(r["ppl"], none["ppl"]) if none else "-"
        rel = f"{r['rel_time']:.2f}x" if r.get("rel_time") else "-"
        lr = f"{r['lr']:g}" if r.get("lr") else "-"
        out.append(f"| {r['method']} | {r.get('init') or '-'} | {r['rank']} | {lr} | "
                   f"{_output_scale(r) if r['method'] == 'locas' else '-'} | "
                   f"{r.get('layers', '-') if r['method'] == 'locas' else '-'} | {r['ppl']:.3f} | {vs} | "
                   f"{r['extra_params']:,} | {r['tokens_per_s']:.0f} | {rel} |")
    return "\n".join(out)


def _output_scale(row: dict) -> str:
    """The row's output scale; rows from before the spec kept tau_scale (= scale x rank)."""
    if "output_scale" in row:
        return f"{row['output_scale']:g}"
    if "tau_scale" in row:
        return f"{row['tau_scale'] / row['rank']:g}"
    return "-"


def forget_table(report: dict) -> str:
    out = ["| method | lr | book ppl (online) | held-out ppl | change |", "| --- | --- | --- | --- | --- |"]
    for r in report["results"]:
        book = f"{r['book_ppl']:.3f}" if r.get("book_ppl") else "-"
        lr = f"{r['lr']:g}" if r.get("lr") else "-"
        out.append(f"| {r['method']} | {lr} | {book} | {r['heldout_ppl']:.3f} | {r['change_pct']:+.2f}% |")
    return "\n".join(out)


def shelf_table(report: dict) -> str:
    routed = "routed" in report["results"][0]  # reports before routing existed lack the columns
    columns = ["book", "no memory", "own memory", "all memories", "all vs own"]
    columns += ["routed", "routed vs own", "chunks routed to own"] if routed else []
    out = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for r in report["results"]:
        row = (f"| {r['book']} | {r['none']:.3f} | {r['own']:.3f} | {r['shelf']:.3f} | "
               f"{r['shelf_vs_own_pct']:+.2f}% |")
        if routed:
            row += f" {r['routed']:.3f} | {r['routed_vs_own_pct']:+.2f}% | {r['routed_to_own']:.0%} |"
        out.append(row)
    return "\n".join(out)


def qa_table(report: dict) -> str:
    cats = list(dict.fromkeys(r["category"] for r in report["results"]))
    modes = list(dict.fromkeys(r["mode"] for r in report["results"]))
    cell = {(r["mode"], r["category"]): r for r in report["results"]}
    out = ["| mode | " + " | ".join(cats) + " |", "| --- |" + " --- |" * len(cats)]
    for m in modes:
        vals = [f"{cell[(m, c)]['f1']:.3f} (n={cell[(m, c)]['n']})" if (m, c) in cell else "-" for c in cats]
        out.append(f"| {m} | " + " | ".join(vals) + " |")
    cuts = report.get("results_at_tokens") or {}
    if cuts:  # overall F1 of the same answers cut after k tokens
        overall = overall_at_tokens(report)
        full = report["settings"]["max_new_tokens"]
        out += ["", "| mode | " + " | ".join(f"{k} tokens" for k in cuts) + f" | {full} (full) |",
                "| --- |" + " --- |" * (len(cuts) + 1)]
        for m in modes:
            vals = [f"{overall[(m, k)]:.3f}" for k in cuts] + [f"{cell[(m, 'overall')]['f1']:.3f}"]
            out.append(f"| {m} | " + " | ".join(vals) + " |")
    if report.get("comparisons"):
        out += ["", "| difference (overall) | answers cut after | mean | 95% interval |", "| --- | --- | --- | --- |"]
        for c in report["comparisons"]:
            low, high = c["ci95"]
            cut = f"{c['at_tokens']} tokens" if c.get("at_tokens") else "full"
            out.append(f"| {c['mode']} - {c['versus']} | {cut} | {c['difference']:+.3f} | "
                       f"{low:+.3f} to {high:+.3f} |")
    return "\n".join(out)


def speed_table(report: dict) -> str:
    out = ["| row | precision | layers | rank | steps | seconds | tok/s | ppl | time vs score-fp32 | "
           "gain kept | extra params |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in report["results"]:
        gain = f"{100 * r['gain_kept']:.0f}%" if r.get("gain_kept") is not None else "-"
        out.append(f"| {r['row']} | {r['precision']} | {r['layers']} | {r.get('rank', '-')} | "
                   f"{r.get('steps', '-')} | {r['seconds']:.1f} | {r['tokens_per_s']:.1f} | "
                   f"{r['ppl']:.3f} | {r['time_vs_score']:.2f}x | {gain} | {r.get('extra_params', 0):,} |")
    return "\n".join(out)


def latency_table(report: dict) -> str:
    out = ["| mode | questions | first word | answer | bare generate | answer / bare | tokens | "
           "app tok/s | bare tok/s |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    stages = []
    for mode, s in report["summary"].items():
        out.append(f"| {mode} | {s['questions']} | {_s(s['first_word_s'])} | {_s(s['answer_s'])} | "
                   f"{_s(s['bare_s'])} | {_s(s['ratio'], 'x')} | {_s(s['tokens'], '', 0)} | "
                   f"{_s(s['app_tokens_per_s'], '', 1)} | {_s(s['bare_tokens_per_s'], '', 1)} |")
        if s.get("stages_s"):
            stages.append(f"{mode}: " + ", ".join(f"{k} {v:.3f}" for k, v in s["stages_s"].items()))
    if stages:
        out += ["", "Stages, median seconds per answer (a/b is part of a):", ""]
        out += [f"- {line}" for line in stages]
    return "\n".join(out)


def models_table(report: dict) -> str:
    s = report["seconds"]
    return "\n".join(["| listing | first (nothing cached) | cached |", "| --- | --- | --- |",
                      f"| `locas models` | {s['cli_first']:.2f} s | {s['cli_cached']:.2f} s |",
                      f"| the window's list | {s['window_first']:.2f} s | {s['window_cached']:.2f} s |"])


def gui_stall_table(report: dict) -> str:
    """The longest gap between the GUI's timer ticks in each state, and what is left of it once
    the time the OS kept the GUI thread waiting for a CPU is taken off (the app's own part)."""

    def ms(value) -> str:  # whole milliseconds, halves up (10.5 -> 11)
        return "-" if value is None else f"{int(value + 0.5)} ms"

    out = ["| state | longest gap | less CPU wait |", "| --- | --- | --- |"]
    own = report.get("states_less_cpu_wait", {})
    for state, gap in report["states"].items():
        out.append(f"| {state} | {ms(gap)} | {ms(own.get(state))} |")
    load = report.get("phases", {}).get("model load")
    if load:
        out.append(f"| model load at start-up (not a state) | {ms(load['max_ms'])} | "
                   f"{ms(load.get('max_own_ms'))} |")
    return "\n".join(out)


def render(path: Path) -> str:
    report = json.loads(path.read_text(encoding="utf-8"))
    if report.get("bench") == "speed":
        return speed_table(report)
    if report.get("bench") == "latency":
        return latency_table(report)
    if report.get("bench") == "models":
        return models_table(report)
    if report.get("bench") == "gui-stall":
        return gui_stall_table(report)
    rows = report.get("results", [])
    if rows and "mode" in rows[0]:
        return qa_table(report)
    if rows and "heldout_ppl" in rows[0]:
        return forget_table(report)
    if rows and "shelf" in rows[0]:
        return shelf_table(report)
    if rows:
        return ppl_table(report)
    return "(no table: `locas bench tables` has none for this kind of report; read its JSON)"


def build_parser() -> argparse.ArgumentParser:
    p = bench_parser("tables", __doc__)
    p.add_argument("reports", nargs="+", type=Path, help="JSON reports that benchmarks wrote")
    return p


def run(args: argparse.Namespace) -> None:
    for path in args.reports:
        print(f"<!-- {path} -->\n{render(path)}\n")
