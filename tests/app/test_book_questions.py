"""The book question set (benchmarks/data) is true to the book: every reference answer's words
occur in the section it names, and the unanswerable questions are marked as such."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.bench.book_questions import load_book_questions

QUESTIONS = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "childrens-literature-questions.json"


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower().replace("’", "'")))


def test_every_reference_answer_is_in_its_section(shared_data):
    from app.importers import import_file

    book = shared_data / "books" / "childrens-literature.epub"
    if not book.exists():
        pytest.skip(f"{book} is not on this machine")
    sections = {s.title: s.text for s in import_file(book).sections}
    items = json.loads(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    answerable = [q for q in items if q["answer"] is not None]
    assert len(answerable) >= 40 and len(items) - len(answerable) >= 10
    for q in answerable:
        assert q["section"] in sections, q
        missing = words(q["answer"]) - words(sections[q["section"]])
        assert not missing, (q["question"], missing)


def test_the_bench_reads_the_set_as_categories():
    loaded = load_book_questions(QUESTIONS)
    assert {q["category"] for q in loaded} == {4, 5}
    assert all(q["answer"] == "" for q in loaded if q["category"] == 5)
