"""The abstention rule is fitted on one conversation and reported on the other."""

from __future__ import annotations

import json

from app.answer.grounding import Evidence, should_abstain
from app.bench import calibrate
from app.bench.calibrate import as_grounding_rule, fit, rates
from locas_engine.bench import run_bench


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
    out = run_bench(calibrate, [str(a), str(b), "--json", str(tmp_path / "rule.json")])
    assert {(h["fitted_on"], h["reported_on"]) for h in out["held_out"]} == {("conv-a", "conv-b"), ("conv-b", "conv-a")}
    assert set(out["abstain_rule"]) == {out["rule_all"]["feature"], "bias"}


def test_a_feature_counts_only_when_every_answer_has_it(tmp_path):
    answers = report("conv-a")["answers"]
    for r in answers:  # coverage and likelihood no longer separate; the answer's support does
        r["evidence"].update(question_coverage=0.5, lp_with=-1.0, lp_without=-2.0, lp_gain=1.0)
        r["evidence"]["answer_support"] = 0.2 if r["category"] == "adversarial" else 0.7
    rule = fit(answers, max_false=0.15)
    assert rule["feature"] == "answer_support" and rates(answers, rule)["abstain_unanswerable"] == 1.0
    del answers[0]["evidence"]["answer_support"]  # one answer without it: not a feature
    assert fit(answers, max_false=0.15)["feature"] != "answer_support"
    # a report with several modes is calibrated on one of them
    other = [{**r, "mode": "retrieval"} for r in report("conv-b")["answers"]]
    path = tmp_path / "both.json"
    path.write_text(json.dumps({"answers": [{**r, "mode": "memory+retrieval"} for r in answers] + other}))
    out = run_bench(calibrate, [str(path), "--mode", "retrieval"])
    assert out["held_out"] == []  # only conv-b's answers: nothing to hold out
