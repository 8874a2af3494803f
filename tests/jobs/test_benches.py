"""The benchmarks run end to end on tiny inputs and write the JSON their docs promise."""

from __future__ import annotations

import json

import pytest

from app.bench.scoring import abstained, f1_score, normalize_answer
from locas_engine.bench import run_bench


def test_answer_normalization_and_f1():
    assert normalize_answer("The  Lighthouse, at dawn!") == "lighthouse at dawn"
    assert f1_score("7 May 2023", "7 May 2023") == 1.0
    assert f1_score("on 7 May", "7 May 2023") == pytest.approx(2 * (2 / 3) * (2 / 3) / (4 / 3))
    assert f1_score("Paris", "London") == 0.0
    assert abstained("That is not mentioned in the conversation.") == 1.0
    assert abstained("She ran a charity race.") == 0.0


TINY_LOCOMO = {
    "speaker_a": "Ana", "speaker_b": "Ben",
    "session_1_date_time": "1:56 pm on 8 May, 2023",
    "session_1": [
        {"speaker": "Ana", "dia_id": "D1:1", "text": "I adopted a grey cat called Pebble last week."},
        {"speaker": "Ben", "dia_id": "D1:2", "text": "Lovely! I started learning the cello."},
    ],
    "session_2_date_time": "10:00 am on 20 May, 2023",
    "session_2": [
        {"speaker": "Ana", "dia_id": "D2:1", "text": "Pebble knocked my violin off the shelf."},
        {"speaker": "Ben", "dia_id": "D2:2", "text": "My cello teacher lives in Porto."},
    ],
    "qa": [
        {"question": "What is the name of Ana's cat?", "answer": "Pebble", "evidence": ["D1:1"], "category": 4},
        {"question": "When did Ana adopt her cat?", "answer": "early May 2023", "evidence": ["D1:1"], "category": 2},
        {"question": "Where does Ben's cello teacher live?", "answer": "Porto", "evidence": ["D2:2"], "category": 1},
        {"question": "What did Ben's dog eat?", "evidence": ["D2:2"], "category": 5, "adversarial_answer": "cake"},
    ],
}


def cut_overall(results: list[dict], mode: str) -> float:
    return next(r["f1"] for r in results if r["mode"] == mode and r["category"] == "overall")


@pytest.mark.slow  # loads the real model (it was on the helper above, so the fast tier ran it)
def test_qa_bench_reports_every_mode_and_category(tmp_path):
    from app.bench import qa, qa_tables

    path = tmp_path / "tiny-locomo.json"
    path.write_text(json.dumps(TINY_LOCOMO))
    out = tmp_path / "qa.json"
    report = run_bench(qa, ["--locomo", str(path), "--json", str(out), "--rank", "8", "--chunk", "32",
                      "--lr", "4e-3", "--tau-scale", "1",
                      "--context", "32", "--max-new-tokens", "4", "--passages", "1",
                      "--window", "64", "--score-at", "2", "--home", str(tmp_path / "home")])
    assert json.loads(out.read_text()) == report
    modes = {r["mode"] for r in report["results"]}
    assert modes == set(qa.MODES)
    overall = [r for r in report["results"] if r["category"] == "overall"]
    assert all(r["n"] == 3 and 0.0 <= r["f1"] <= 1.0 for r in overall)
    assert {r["category"] for r in report["results"]} >= {"single-hop", "temporal", "multi-hop", "adversarial"}
    # Every answer is kept for inspection, with the score it got.
    assert len(report["answers"]) == 4 * len(qa.MODES)
    first = report["answers"][0]
    assert first["question"] == "What is the name of Ana's cat?" and first["reference"] == "Pebble"
    assert first["score"] == pytest.approx(f1_score(first["prediction"], "Pebble"))
    assert not report["conversations"][0]["reused_memory"]
    # The target's comparisons come with how sure they are.
    pairs = {(c["mode"], c["versus"]): c for c in report["comparisons"] if c["at_tokens"] is None}
    assert set(pairs) == set(qa_tables.COMPARISONS)
    vs_retrieval = pairs[("memory+retrieval", "retrieval")]
    f1 = {r["mode"]: r["f1"] for r in overall}
    assert vs_retrieval["difference"] == pytest.approx(f1["memory+retrieval"] - f1["retrieval"])
    low, high = vs_retrieval["ci95"]
    assert low <= vs_retrieval["difference"] <= high
    # The same answers scored when cut after 2 tokens: an answer that was 2 tokens or fewer
    # scores the same, and every mode and comparison is there for the cut too.
    cut = report["results_at_tokens"]["2"]
    assert {r["mode"] for r in cut} == set(qa.MODES)
    assert all(a["tokens"] <= 4 for a in report["answers"])
    assert {c["at_tokens"] for c in report["comparisons"]} == {None, 2}

    # A second run in the same --home answers with the memory the first one made, and (greedy
    # decoding) answers capped at 2 tokens are the first run's answers cut after 2 tokens...
    again = run_bench(qa, ["--locomo", str(path), "--modes", "memory", "--rank", "8", "--chunk", "32",
                     "--lr", "4e-3", "--tau-scale", "1", "--context", "32", "--max-new-tokens", "2",
                     "--home", str(tmp_path / "home")])
    assert again["conversations"][0]["reused_memory"]
    assert again["conversations"][0]["tokens"] == report["conversations"][0]["tokens"]
    # (drafts: what the model wrote, before an empty one becomes "The text does not say.")
    memory_answers = [a["draft"] for a in report["answers"] if a["mode"] == "memory"]
    assert all(full.startswith(short) for short, full in
               zip([a["draft"] for a in again["answers"]], memory_answers, strict=True))
    assert cut_overall(again["results"], "memory") == pytest.approx(cut_overall(cut, "memory"))
    # By default the memory-off model says where an answer ends; the ablation lets the memory
    # say it, which can only write the same tokens for longer.
    assert report["settings"]["plain_ending"] is True
    ablation = run_bench(qa, ["--locomo", str(path), "--modes", "memory", "--rank", "8", "--chunk", "32",
                        "--lr", "4e-3", "--tau-scale", "1", "--context", "32", "--max-new-tokens", "4",
                        "--memory-ends-answers", "--home", str(tmp_path / "home")])
    assert ablation["settings"]["plain_ending"] is False
    assert all(longer.startswith(plain) for plain, longer in
               zip(memory_answers, [a["draft"] for a in ablation["answers"]], strict=True))
    # Every answer is checked for loops, emptiness, abstention and contradicting its passage.
    checks = {c["mode"]: c for c in report["answer_checks"]}
    assert set(checks) == set(qa.MODES) and all(c["loops"] == 0 and c["empty"] == 0 for c in checks.values())
    assert all(0.0 <= c["abstain_unanswerable"] <= 1.0 for c in checks.values())
    # ...and refuses one made with other settings instead of silently mixing them.
    with pytest.raises(SystemExit, match="other settings"):
        run_bench(qa, ["--locomo", str(path), "--modes", "memory", "--rank", "16", "--chunk", "32",
                 "--lr", "4e-3", "--tau-scale", "1", "--context", "32", "--max-new-tokens", "4",
                 "--home", str(tmp_path / "home")])


@pytest.mark.slow
def test_ppl_forget_and_shelf_benches_write_json(tmp_path, shared_data):
    from locas_engine.bench import forget, ppl, shelf

    book = shared_data / "books" / "childrens-literature.epub"
    other = shared_data / "books" / "accessible_epub_3.epub"
    common = ["--chunk", "64", "--context", "64"]
    report = run_bench(ppl, ["--file", str(book), "--tokens", "192", "--methods", "none", "locas", "templora",
                       "--rank", "8", "--lora-rank", "4", "--json", str(tmp_path / "ppl.json"), *common])
    assert {r["method"] for r in report["results"]} == {"none", "locas", "templora"}
    for r in report["results"]:
        assert {"method", "init", "rank", "lr", "ppl", "extra_params", "seconds", "tokens_per_s",
                "rel_time"} <= r.keys()
    assert report["results"][0]["rel_time"] == 1.0

    report = run_bench(forget, ["--book", str(book), "--heldout", str(other), "--book-tokens", "128",
                          "--heldout-tokens", "128", "--rank", "8", "--lora-rank", "4",
                          "--json", str(tmp_path / "forget.json"), *common])
    methods = [r["method"] for r in report["results"]]
    assert methods == ["base", "locas", "templora"] and report["results"][0]["change_pct"] == 0.0

    report = run_bench(shelf, ["--books", str(book), str(other), "--tokens", "128", "--rank", "8",
                         "--json", str(tmp_path / "shelf.json"), *common])
    assert len(report["results"]) == 2
    for r in report["results"]:
        assert r["own"] < r["none"]  # a memory lowers the perplexity of the text it memorized
        assert {"routed", "routed_vs_own_pct", "routed_to_own"} <= r.keys()
        assert 0.0 <= r["routed_to_own"] <= 1.0 and r["routed"] > 0


@pytest.mark.slow
def test_qa_bench_answers_a_book_question_set(tmp_path):
    """`--book FILE --questions FILE`: scored like LoCoMo, unanswerable questions by abstention,
    and every answer is checked against the passage it cites."""
    from app.bench import qa

    book = tmp_path / "lighthouse.txt"
    book.write_text("The Keeper\n\nIdris kept the lighthouse on the north cape for forty years. "
                    "Every night he lit the great lamp with a brass key.\n", encoding="utf-8")
    questions = tmp_path / "questions.json"
    questions.write_text(json.dumps({"questions": [
        {"question": "Who kept the lighthouse?", "answer": "Idris", "section": "The Keeper"},
        {"question": "What was the keeper's dog called?", "answer": None, "section": None}]}))
    report = run_bench(qa, ["--book", str(book), "--questions", str(questions), "--modes", "retrieval",
                      "--max-new-tokens", "6", "--passages", "1", "--home", str(tmp_path / "home")])
    assert [r["category"] for r in report["results"]] == ["single-hop", "adversarial", "overall"]
    assert not report["conversations"][0]["memorized"]  # no mode needs a memory: none is made
    first = report["answers"][0]
    assert first["section"] == "The Keeper" and "contradicts" in first and first["cited"]["text"]
    assert report["answer_checks"][0]["n_unanswerable"] == 1
    with pytest.raises(SystemExit, match="--book needs the question set"):
        run_bench(qa, ["--book", str(book), "--modes", "retrieval"])


@pytest.mark.slow
def test_latency_bench_times_the_app_against_a_bare_generate(tmp_path):
    """`locas bench latency`: the sample memorized, each question answered by the app and by a
    bare generate of the same prompt and length; every stage the pipeline reports is in the
    report, and the JSON is written."""
    from app.cli import main

    out = tmp_path / "latency.json"
    assert main(["bench", "latency", "--n", "2", "--max-new-tokens", "8", "--home", str(tmp_path / "home"),
                 "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert set(report["summary"]) == {"memory+retrieval", "retrieval"}
    for mode, summary in report["summary"].items():
        assert summary["questions"] == 2 and summary["answer_s"] > 0 and summary["bare_s"] > 0
        assert summary["first_word_s"] <= summary["answer_s"] and summary["ratio"] > 0
        assert {"search", "prompt", "prefill", "decode", "grounding", "record"} <= set(summary["stages_s"])
        for row in report["answers"][mode]:
            assert row["bare"]["tokens"] == max(1, row["app"]["tokens"])
    assert report["load_average"]["start"] >= 0 and "date" in report and "machine" in report
