"""The question-kinds sets (benchmarks/data/kinds-*.json) hold what issue 28's answer work is
measured on, and are true to their texts as the app imports them: every evidence quote is in the
section it names, every reference answer's words are there too, and every kind is asked often
enough to report on its own."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from app.bench.book_questions import KINDS, book_path, load_book_questions

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"
SETS = {"aesop": "aesop-fables.txt", "childrens-literature": "childrens-literature.epub",
        "accessible-epub": "accessible_epub_3.epub"}
QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def flat(text: str) -> str:
    return " ".join(text.translate(QUOTES).split())


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", flat(text).lower()))


def raw(name: str) -> dict:
    return json.loads((DATA / f"kinds-{name}.json").read_text(encoding="utf-8"))


def test_every_kind_is_asked_often_enough_and_each_text_asks_them_all():
    total = Counter()
    for name, book in SETS.items():
        data = raw(name)
        assert Path(data["book"]).name == book and data["about"]
        kinds = Counter(q["kind"] for q in data["questions"])
        assert set(kinds) == set(KINDS), (name, kinds)
        total += kinds
    assert sum(total.values()) >= 100
    assert all(total[kind] >= 8 for kind in KINDS), total


@pytest.mark.parametrize("name", SETS)
def test_each_question_has_what_its_kind_needs(name):
    questions = raw(name)["questions"]
    asked = [q["question"] for q in questions]
    assert len(asked) == len(set(asked)), "a question is asked twice"
    for q in questions:
        assert set(q) <= {"question", "kind", "answer", "also", "section", "evidence", "follows"}, q
        assert q["kind"] in KINDS, q
        assert ("follows" in q) == (q["kind"] == "follow-up"), q
        if q["kind"] == "unanswerable":
            assert q["answer"] is None and "section" not in q and "evidence" not in q, q
            continue
        assert q["answer"] and q["section"] and q["evidence"], q
        assert len(q["evidence"].split()) <= 30, q
        assert all(isinstance(form, str) and form for form in q.get("also", [])), q
        if q["kind"] == "yes-no":
            assert q["answer"] in ("yes", "no"), q
        if q["kind"] == "choice":
            # The question names its options, and the reference is one of them.
            assert words(q["answer"]) - {"the", "a", "an"} <= words(q["question"]), q
        if q["kind"] == "follow-up":
            assert q["follows"] and all(isinstance(t, str) and t.endswith("?") for t in q["follows"]), q


def test_the_loader_carries_kinds_to_the_bench():
    loaded = load_book_questions(DATA / "kinds-childrens-literature.json")
    assert {q["kind"] for q in loaded} == set(KINDS)
    for q in loaded:
        assert q["category"] == (5 if q["kind"] == "unanswerable" else 4)
        assert (q["answer"] == "") == (q["kind"] == "unanswerable")
        assert bool(q["follows"]) == (q["kind"] == "follow-up")
    # The older set, without kinds, still loads.
    old = load_book_questions(DATA / "childrens-literature-questions.json")
    assert {q["kind"] for q in old} == {None} and {q["category"] for q in old} == {4, 5}


def check_against(name: str, sections: dict[str, str]) -> None:
    for q in raw(name)["questions"]:
        if q["answer"] is None:
            continue
        assert q["section"] in sections, (q["question"], q["section"], list(sections))
        text = sections[q["section"]]
        assert flat(q["evidence"]) in flat(text), (q["question"], q["evidence"])
        if q["kind"] == "yes-no":
            continue
        forms = [q["answer"], *q.get("also", [])]
        assert any(not words(form) - words(text) for form in forms), (q["question"], forms)


def test_the_sample_set_is_true_to_the_sample():
    from app.importers import import_file

    doc = import_file(book_path(DATA / "kinds-aesop.json"))
    sections = {s.title: s.text for s in doc.sections}
    check_against("aesop", sections)


@pytest.mark.parametrize("name", ["childrens-literature", "accessible-epub"])
def test_the_shared_book_sets_are_true_to_their_books(shared_data, name):
    from app.importers import import_file

    book = book_path(DATA / f"kinds-{name}.json")
    if not book.exists():
        pytest.skip(f"{book} is not on this machine")
    check_against(name, {s.title: s.text for s in import_file(book).sections})
