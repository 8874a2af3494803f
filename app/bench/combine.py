"""Pool `locas bench qa` reports that were run apart into one table.

On a shared CPU a long benchmark is safer run in pieces (one conversation, or one mode, per
run), each writing its own JSON, so that a run cut short leaves the others. Pooled, the figures
are those one run would print: every answer keeps its score, the per-answer checks are the
bench's own, and each paired 95% interval pairs two modes' answers to the same question (same
file, same question text), over the questions both modes answered.

``--trim`` rescores every answer as the app now shows it: without a last sentence its token
budget cut off (``trim_unfinished``; exact for the answers that were written, not replaced by
the passage's sentence or abstained, which end in a full sentence anyway).

``--against OLD...`` pairs each mode's answers with the same mode's answers to the same questions
in earlier reports: what a change to the code did, question by question (F1 on categories 1-4
with its paired 95% interval, and how many answers abstained, on category 5 and wrongly).

    locas bench combine qa26-mr.json qa30-mr.json qa26-rc.json qa30-rc.json --json all.json
    locas bench combine after.json --against before.json
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from app.answer.grounding import strip_citations, with_citation
from app.bench.answer_checks import answer_checks, contradicts
from app.bench.qa import score
from app.bench.qa_tables import (
    CATEGORIES,
    COMPARISONS,
    kind_table,
    print_kinds,
    print_table,
    tabulate,
)
from app.bench.scoring import paired_difference
from locas_engine.answer_text import trim_unfinished
from locas_engine.bench import bench_parser

CATEGORY_IDS = {name: cat for cat, name in CATEGORIES.items()}
_LAST_CITATION = re.compile(r"\[(\d{1,2})\]\s*$")


def trimmed(answer: dict) -> dict:
    """The answer as shown with a budget-cut last sentence removed, rescored."""
    if answer.get("abstained"):
        return answer
    cat = CATEGORY_IDS[answer["category"]]
    plain = trim_unfinished(strip_citations(answer["prediction"]))
    if plain == strip_citations(answer["prediction"]):
        return answer  # not cut off: shown as it was
    cited = _LAST_CITATION.search(answer["prediction"])
    prediction = with_citation(plain, int(cited.group(1)) - 1 if cited else None)
    out = {**answer, "prediction": prediction, "score": score(prediction, cat, answer["reference"])}
    if "contradicts" in answer:
        out["contradicts"] = contradicts(plain, answer["reference"], answer["cited"]["text"])
    return out


def pool(reports: list[dict], trim: bool = False) -> dict:
    answers = [a for r in reports for a in r["answers"]]
    trim_effect = []
    if trim:
        recorded, answers = answers, [trimmed(a) for a in answers]
        for mode in dict.fromkeys(a["mode"] for a in answers):  # trimmed minus as recorded, 1-4
            pairs = [(t["score"], a["score"]) for t, a in zip(answers, recorded, strict=True)
                     if a["mode"] == mode and a["category"] != "adversarial"]
            diff, low, high = paired_difference([t for t, _ in pairs], [a for _, a in pairs])
            changed = sum(t is not a for t, a in zip(answers, recorded, strict=True) if a["mode"] == mode)
            trim_effect.append({"mode": mode, "changed": changed, "difference": diff, "ci95": [low, high]})
    modes = list(dict.fromkeys(a["mode"] for a in answers))
    scores: dict[tuple[str, int], list[float]] = {}
    by_question: dict[str, dict[tuple[str, str], float]] = {m: {} for m in modes}
    for a in answers:
        cat = CATEGORY_IDS[a["category"]]
        scores.setdefault((a["mode"], cat), []).append(a["score"])
        if cat != 5:
            by_question[a["mode"]][(a["file"], a["question"])] = a["score"]
    comparisons = []
    for first, second in COMPARISONS:
        if first in modes and second in modes:
            both = [q for q in by_question[first] if q in by_question[second]]
            if both:
                diff, low, high = paired_difference([by_question[first][q] for q in both],
                                                    [by_question[second][q] for q in both])
                comparisons.append({"mode": first, "versus": second, "n": len(both),
                                    "difference": diff, "ci95": [low, high]})
    return {"files": sorted({a["file"] for a in answers}), "trimmed": trim,
            "settings": reports[0].get("settings", {}), "results": tabulate(scores, modes),
            "answer_checks": answer_checks(answers, modes), "kinds": kind_table(answers),
            "comparisons": comparisons, "trim_effect": trim_effect, "answers": answers}


def against(answers: list[dict], earlier: list[dict]) -> list[dict]:
    """Per mode: these answers minus the earlier answers of the same mode to the same questions."""
    def key(a: dict) -> tuple[str, str, str]:
        return a["mode"], a["file"], a["question"]

    before = {key(a): a for a in earlier}
    out = []
    for mode in dict.fromkeys(a["mode"] for a in answers):
        pairs = [(a, before[key(a)]) for a in answers if a["mode"] == mode and key(a) in before]
        if not pairs:
            continue
        answerable = [(a, b) for a, b in pairs if a["category"] != "adversarial"]
        unanswerable = [(a, b) for a, b in pairs if a["category"] == "adversarial"]
        diff, low, high = paired_difference([a["score"] for a, _ in answerable], [b["score"] for _, b in answerable])
        out.append({"mode": mode, "n": len(pairs), "f1_difference": diff, "ci95": [low, high],
                    "abstained_unanswerable": [sum(bool(b["score"]) for _, b in unanswerable),
                                               sum(bool(a["score"]) for a, _ in unanswerable), len(unanswerable)],
                    "abstained_answerable": [sum(bool(b.get("abstained")) for _, b in answerable),
                                             sum(bool(a.get("abstained")) for a, _ in answerable), len(answerable)],
                    "changed": sum(a["prediction"] != b["prediction"] for a, b in pairs)})
        held = [(a, b) for a, b in answerable if "holds" in a and "holds" in b]
        if held:  # the question-kinds sets: the shown answer holds the reference, paired
            diff, low, high = paired_difference([float(a["holds"]) for a, _ in held],
                                                [float(b["holds"]) for _, b in held])
            out[-1].update({"holds_difference": diff, "holds_ci95": [low, high], "n_holds": len(held),
                            "holds": [sum(b["holds"] for _, b in held), sum(a["holds"] for a, _ in held)]})
    return out


def build_parser() -> argparse.ArgumentParser:
    p = bench_parser("combine", __doc__)
    p.add_argument("reports", nargs="+", type=Path)
    p.add_argument("--trim", action="store_true", help="rescore with budget-cut last sentences removed")
    p.add_argument("--against", nargs="+", type=Path, default=[],
                   help="earlier reports: pair each mode's answers with theirs, question by question")
    p.add_argument("--json", type=Path)
    return p


def run(args: argparse.Namespace) -> dict:
    report = pool([json.loads(path.read_text()) for path in args.reports], trim=args.trim)
    if args.against:
        earlier = [a for path in args.against for a in json.loads(path.read_text())["answers"]]
        report["against"] = against(report["answers"], earlier)
    print_table({**report, "results_at_tokens": {}})
    for t in report["trim_effect"]:
        print(f"{t['mode']}: {t['changed']} answers trimmed, F1 1-4 {t['difference']:+.3f} "
              f"(95% interval {t['ci95'][0]:+.3f} to {t['ci95'][1]:+.3f})")
    for c in report.get("against", []):
        u, w = c["abstained_unanswerable"], c["abstained_answerable"]
        print(f"{c['mode']} against the earlier answers ({c['n']} questions, {c['changed']} answers changed): "
              f"F1 1-4 {c['f1_difference']:+.3f} (95% interval {c['ci95'][0]:+.3f} to {c['ci95'][1]:+.3f}); "
              f"category 5 abstained {u[0]} -> {u[1]} of {u[2]}; answerable abstained {w[0]} -> {w[1]} of {w[2]}")
        if "holds_difference" in c:
            h = c["holds"]
            print(f"  holds the reference: {h[0]} -> {h[1]} of {c['n_holds']}, {c['holds_difference']:+.3f} "
                  f"(95% interval {c['holds_ci95'][0]:+.3f} to {c['holds_ci95'][1]:+.3f})")
    print_kinds(report.get("kinds", []))
    return report
