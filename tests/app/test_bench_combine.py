"""QA reports run apart pool into the table one run would print (app/bench/combine.py)."""

from __future__ import annotations

import json

from app.bench import combine
from app.bench.combine import pool
from locas_engine.bench import run_bench


def answer(file: str, mode: str, question: str, prediction: str, reference: str = "Pebble",
           category: str = "single-hop") -> dict:
    from app.bench.combine import CATEGORY_IDS
    from app.bench.qa import score

    return {"file": file, "mode": mode, "category": category, "question": question,
            "reference": reference, "prediction": prediction,
            "score": score(prediction, CATEGORY_IDS[category], reference)}


def test_modes_run_apart_are_paired_by_question(tmp_path):
    # two runs, one per mode; the memory run answered one question the other did not
    plain = {"answers": [answer("a.json", "recent-context", f"q{i}", "No idea") for i in range(4)]}
    memory = {"answers": [answer("a.json", "memory+recent-context", f"q{i}", "Pebble") for i in range(5)]}
    paths = [tmp_path / "plain.json", tmp_path / "memory.json"]
    for path, report in zip(paths, (plain, memory), strict=True):
        path.write_text(json.dumps(report))
    out = run_bench(combine, [str(p) for p in paths] + ["--json", str(tmp_path / "all.json")])
    (comparison,) = out["comparisons"]
    assert comparison["mode"] == "memory+recent-context" and comparison["n"] == 4
    assert comparison["difference"] == 1.0
    assert json.loads((tmp_path / "all.json").read_text())["comparisons"] == out["comparisons"]


def test_trim_rescores_answers_as_now_shown():
    cut = answer("a.json", "memory+retrieval", "q", "The dog is Pebble. It was a gift from the [2]")
    whole = answer("a.json", "memory+retrieval", "q2", "Pebble, a gift. [1]")
    out = pool([{"answers": [cut, whole]}], trim=True)
    assert [a["prediction"] for a in out["answers"]] == ["The dog is Pebble. [2]", "Pebble, a gift. [1]"]
    assert out["answers"][0]["score"] > cut["score"]
    (effect,) = out["trim_effect"]
    assert effect["changed"] == 1 and effect["difference"] == (out["answers"][0]["score"] - cut["score"]) / 2


def test_the_bench_scores_recent_context_answers_as_the_app_would_show_them():
    from app.bench.qa import shown_answer

    pieces = ["Caroline went ", "to a support group. ", "She said it was the"]
    assert shown_answer(pieces, None) == "Caroline went to a support group."
    whole_budget = ["Caroline went ", "to a support group. ", "She said it helped"]
    assert shown_answer(whole_budget, None) == "Caroline went to a support group. She said it helped"
    assert shown_answer(whole_budget, None, at_budget=True) == "Caroline went to a support group."

    class Answer:
        text = "The text does not say."

    assert shown_answer(pieces, Answer()) == "The text does not say."


def test_against_pairs_each_mode_with_its_earlier_answers(tmp_path, capsys):
    before = [answer("a.json", "retrieval", "q1", "No idea"), answer("a.json", "retrieval", "q2", "Pebble"),
              answer("a.json", "retrieval", "q5", "Pebble, surely.", reference="", category="adversarial")]
    after = [answer("a.json", "retrieval", "q1", "Pebble"), answer("a.json", "retrieval", "q2", "Pebble"),
             {**answer("a.json", "retrieval", "q5", "The text does not say.", reference="", category="adversarial"),
              "abstained": True},
             answer("a.json", "retrieval", "q9", "Pebble")]  # not asked before: left out
    paths = [tmp_path / "before.json", tmp_path / "after.json"]
    for path, answers in zip(paths, (before, after), strict=True):
        path.write_text(json.dumps({"answers": answers}))
    out = run_bench(combine, [str(paths[1]), "--against", str(paths[0])])
    (c,) = out["against"]
    assert (c["mode"], c["n"], c["changed"], c["f1_difference"]) == ("retrieval", 3, 2, 0.5)
    assert c["abstained_unanswerable"] == [0, 1, 1] and c["abstained_answerable"] == [0, 0, 2]
    assert "category 5 abstained 0 -> 1 of 1" in capsys.readouterr().out
