"""`locas bench retrieval`: the gold passages of LoCoMo and book questions, and recall@k."""

from __future__ import annotations

import json
from pathlib import Path

from app.bench import retrieval
from app.importers import import_file
from app.library import Library
from locas_engine.bench import run_bench

TINY_LOCOMO = {
    "speaker_a": "Ana", "speaker_b": "Ben",
    "session_1_date_time": "1:56 pm on 8 May, 2023",
    "session_1": [{"speaker": "Ana", "dia_id": "D1:1", "text": "I adopted a grey cat called Pebble."},
                  {"speaker": "Ben", "dia_id": "D1:2", "text": "Lovely! I started learning the cello."}],
    "session_2_date_time": "10:00 am on 20 May, 2023",
    "session_2": [{"speaker": "Ana", "dia_id": "D2:1", "text": "Pebble knocked my violin off the shelf."},
                  {"speaker": "Ben", "dia_id": "D2:2", "text": "My cello teacher lives in Porto."}],
    "qa": [{"question": "What is the name of Ana's cat?", "answer": "Pebble", "evidence": ["D1:1"], "category": 4},
           {"question": "Where does Ben's cello teacher live?", "answer": "Porto", "evidence": ["D2:2"],
            "category": 1},
           {"question": "What did Ben's dog eat?", "evidence": ["D2:2"], "category": 5}],
}


def test_locomo_evidence_maps_to_the_passage_holding_the_turn(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY_LOCOMO))
    library = Library()
    doc = library.add_document(import_file(path))
    sections = library.sections(doc)
    assert retrieval.locomo_gold(library, doc, ["D2:2"]) == {(sections[1].id, 0)}
    assert retrieval.locomo_gold(library, doc, ["D1:1; D2:1"]) == {(sections[0].id, 0), (sections[1].id, 0)}
    assert retrieval.locomo_gold(library, doc, ["D9:9"]) == set()


def test_book_gold_is_the_passage_holding_the_quote(tmp_path):
    book = tmp_path / "book.txt"
    first = " ".join(["The miller ground the corn all day."] * 20)
    second = " ".join(["The cat slept by the fire."] * 20) + " The king gave the boy a golden key."
    book.write_text(f"CHAPTER I\n\n{first}\n\n{second}\n")
    library = Library()
    doc = library.add_document(import_file(book))
    section = library.sections(doc)[0]
    gold = retrieval.book_gold(library, doc, section.title, "a golden key", "The king gave the boy a golden key.")
    assert len(gold) == 1
    (section_id, idx), = gold
    passage = [p for p in library.search("golden key", document_ids=[doc]) if p.index == idx][0]
    assert "golden key" in passage.text


def test_recall_pairs_each_order_with_todays_search():
    def record(gold_at: int | None, today: int = 1, upr_best: int = 0) -> dict:
        cands = [{"gold": i == gold_at, "today": i < today, "upr": 1.0 if i == upr_best else 0.0}
                 for i in range(6)]
        return {"gold": [[1, 1]], "candidates": cands}

    nothing_found = {"gold": [[1, 1]], "candidates": []}  # a miss for every order, not a reason to drop one
    records = [record(3, today=1, upr_best=3), record(0), record(None), nothing_found]
    report = retrieval.summarize(records, [1, 4])
    rows = {r["order"]: r for r in report["recall"]}
    assert rows["bm25"]["recall@4"] == 1 / 4  # today's search returned one passage only
    assert rows["bm25-fill"]["recall@4"] == 2 / 4
    assert rows["upr"]["recall@1"] == 2 / 4 and rows["bm25-fill"]["recall@1"] == 1 / 4
    assert any(c["order"] == "upr" and c["k"] == 1 and c["difference"] > 0 for c in report["comparisons"])


def test_bench_runs_bm25_only_without_a_model(tmp_path, capsys):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY_LOCOMO))
    out = tmp_path / "r.json"
    report = run_bench(retrieval, ["--locomo", str(path), "--no-model", "--no-memory", "--home", str(tmp_path / "h"),
                             "--json", str(out)])
    assert json.loads(Path(out).read_text())["recall"] == report["recall"]
    assert len(report["records"]) == 2  # the unanswerable question has no gold to find
    assert {r["order"] for r in report["recall"]} == {"bm25", "bm25-fill"}
    assert "recall@4" in capsys.readouterr().out


def test_search_fill_adds_passages_holding_only_some_terms(tmp_path):
    book = tmp_path / "book.txt"
    paragraphs = ["The golden key opened the door. " * 30, "A golden crown lay there. " * 30,
                  "The key was lost. " * 30]
    book.write_text("CHAPTER I\n\n" + "\n\n".join(paragraphs) + "\n")
    library = Library()
    doc = library.add_document(import_file(book))
    today = library.search("golden key", document_ids=[doc], limit=3)
    wide = library.search("golden key", document_ids=[doc], limit=3, fill=True)
    assert len(today) == 1 and "golden key" in today[0].text  # all terms only
    assert wide[0].text == today[0].text and len(wide) == 3  # then passages with either term


def test_a_follow_up_is_searched_with_the_conversations_last_questions():
    from app.answer.pipeline import search_text

    history = [("Who kept the light?", "Maren."), ("Who came to the island?", "Tobias."),
               ("Who was the shepherd?", "Fleecefold.")]
    assert search_text("And what was his wife's name?", history) == (
        "Who came to the island? Who was the shepherd? And what was his wife's name?")
    assert search_text("Who won?") == "Who won?"
