"""The abstention rule is fitted on one conversation and reported on the other."""

from __future__ import annotations

import json

from app.bench.calibrate import as_grounding_rule, fit, main, rates
from app.grounding import Evidence, should_abstain


def row(file: str, category: str, coverage: float, lp: float) -> dict:
    evidence = Evidence(retrieval=5.0, question_coverage=coverage, answer_support=0.5,
                        lp_with=lp, lp_without=lp - 1).features()
    return {"file": file, "category": category, "prediction": "Pebble [1]", "reference": "Pebble",
            "evidence": evidence}


def report(file: str) -> dict:
    # unanswerable questions: the passages cover little of the question
    answers = [row(file, "adversarial", c, -2.0) for c in (0.1, 0.2, 0.3, 0.9)]
    answers += [row(file, "single-hop", c, -1.0) for c in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.15)]
    return {"answers": answers}


def test_the_rule_separates_what_it_can_within_the_false_abstention_bound():
    rows = report("a.json")["answers"]
    rule = fit(rows, max_false=0.15)
    got = rates(rows, rule)
    assert got["false_abstain"] <= 0.15 and got["abstain_unanswerable"] >= 0.75
    linear = as_grounding_rule(rule)
    decisions = [should_abstain(Evidence(**{k: r["evidence"][k] for k in (
        "retrieval", "question_coverage", "answer_support", "lp_with", "lp_without")}), linear) for r in rows]
    assert decisions == [rule["sign"] * r["evidence"][rule["feature"]] > rule["threshold"] for r in rows]


def test_figures_are_reported_on_the_conversation_not_fitted(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(report("conv-a")))
    b.write_text(json.dumps(report("conv-b")))
    out = main([str(a), str(b), "--json", str(tmp_path / "rule.json")])
    assert {(h["fitted_on"], h["reported_on"]) for h in out["held_out"]} == {("conv-a", "conv-b"), ("conv-b", "conv-a")}
    assert set(out["abstain_rule"]) == {out["rule_all"]["feature"], "bias"}
