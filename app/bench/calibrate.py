"""Calibrate the abstention rule (app/answer/grounding.py) on a `locas bench qa` report, honestly.

Every answer with passages records its evidence (retrieval score, question coverage, answer
support, the answer's log-probability with and without the passages). The rule is one
feature and a threshold: abstain when ``sign * feature > threshold``. It is chosen on one
conversation (the feature and threshold that abstain on the most unanswerable questions,
category 5, while abstaining on at most --max-false of the answerable ones) and reported on the
other, both ways round, so that no reported figure comes from the questions it was fitted on.
Finally it prints the rule fitted on all the answers, for ABSTAIN_RULE.

    locas bench calibrate docs/bench-results/qa-s11-conv26-seed7.json docs/bench-results/qa-s11-conv30-seed7.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from app.answer.grounding import strip_citations
from app.bench.scoring import f1_score
from locas_engine.bench import bench_parser

FEATURES = ("retrieval", "question_coverage", "answer_support", "lp_with", "lp_without", "lp_gain")


def rows_of(report: dict) -> list[dict]:
    return [a for a in report["answers"] if a.get("evidence")]


def rates(rows: list[dict], rule: dict) -> dict:
    feature, sign, threshold = rule["feature"], rule["sign"], rule["threshold"]
    abstains = [sign * r["evidence"][feature] > threshold for r in rows]
    unanswerable = [a for a, r in zip(abstains, rows, strict=True) if r["category"] == "adversarial"]
    answerable = [(a, r) for a, r in zip(abstains, rows, strict=True) if r["category"] != "adversarial"]
    f1 = [0.0 if a else f1_score(strip_citations(r["prediction"]), r["reference"]) for a, r in answerable]
    return {"n_unanswerable": len(unanswerable), "n_answerable": len(answerable),
            "abstain_unanswerable": sum(unanswerable) / max(1, len(unanswerable)),
            "false_abstain": sum(a for a, _ in answerable) / max(1, len(answerable)),
            "f1_answerable": sum(f1) / max(1, len(f1))}


def fit(rows: list[dict], max_false: float) -> dict:
    """The single-feature rule with the most category-5 abstention at <= max_false false ones."""
    best = {"feature": "retrieval", "sign": 1, "threshold": float("inf"), "abstain": -1.0, "false": 0.0}
    for feature in [f for f in FEATURES if all(f in r["evidence"] for r in rows)]:
        for sign in (1, -1):
            values = sorted({sign * r["evidence"][feature] for r in rows})
            for threshold in values:
                rule = {"feature": feature, "sign": sign, "threshold": threshold}
                got = rates(rows, rule)
                if got["false_abstain"] <= max_false and (got["abstain_unanswerable"], -got["false_abstain"]) > \
                        (best["abstain"], -best["false"]):
                    best = {**rule, "abstain": got["abstain_unanswerable"], "false": got["false_abstain"]}
    return {k: best[k] for k in ("feature", "sign", "threshold")}


def as_grounding_rule(rule: dict) -> dict[str, float]:
    """The same rule in ABSTAIN_RULE's linear form: sum(weight * feature) + bias > 0."""
    return {rule["feature"]: float(rule["sign"]), "bias": -float(rule["threshold"])}


def build_parser() -> argparse.ArgumentParser:
    p = bench_parser("calibrate", __doc__)
    p.add_argument("reports", nargs="+", type=Path)
    p.add_argument("--max-false", type=float, default=0.15)
    p.add_argument("--json", type=Path)
    p.add_argument("--mode", help="only the answers of this mode (a report may hold several)")
    return p


def run(args: argparse.Namespace) -> dict:
    rows = [r for path in args.reports for r in rows_of(json.loads(path.read_text(encoding="utf-8")))
            if args.mode in (None, r.get("mode"))]
    files = sorted({r["file"] for r in rows})
    out = {"held_out": [], "max_false": args.max_false}
    print(f"{'fitted on':<22}{'reported on':<22}{'rule':<34}{'abstain cat 5':>14}{'false abstain':>15}"
          f"{'F1 1-4 before':>15}{'after':>8}")
    for fit_file in files:
        for test_file in files:
            if test_file == fit_file:
                continue
            rule = fit([r for r in rows if r["file"] == fit_file], args.max_false)
            test = [r for r in rows if r["file"] == test_file]
            got = rates(test, rule)
            before = rates(test, {**rule, "threshold": float("inf")})["f1_answerable"]
            out["held_out"].append({"fitted_on": fit_file, "reported_on": test_file, "rule": rule, **got,
                                    "f1_answerable_without_rule": before})
            text = f"{'-' if rule['sign'] < 0 else ''}{rule['feature']} > {rule['threshold']:.3f}"
            print(f"{fit_file:<22}{test_file:<22}{text:<34}{100 * got['abstain_unanswerable']:>13.0f}%"
                  f"{100 * got['false_abstain']:>14.0f}%{before:>15.3f}{got['f1_answerable']:>8.3f}")
    final = fit(rows, args.max_false)
    out["rule_all"] = final
    out["abstain_rule"] = as_grounding_rule(final)
    print(f"\nfitted on all {len(rows)} answers: {final}  ->  ABSTAIN_RULE = {out['abstain_rule']}")
    return out
