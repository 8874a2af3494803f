"""One numbering of sections everywhere: `locas list --sections`, `--sections`, the citations of
`locas ask` (text and --json) and the window's citations name a section by the same number,
never by the library's internal id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.answer.pipeline import Answer
from app.cli import main
from app.library import Library

FRONT = "Title: The Keeper\n\n" + "A preface about lighthouses, their keepers and their lamps. " * 8
CHAPTERS = "".join(f"\n\nCHAPTER {n}\n\n" + f"The {word} walked along the shore and counted stones. " * 4
                   for n, word in (("ONE", "keeper"), ("TWO", "boy"), ("THREE", "gull")))


@pytest.fixture
def two_books(locas_home, tmp_path) -> int:
    """Two documents, so that the second's section ids (5, 6...) are not its numbers (1, 2...)."""
    first = tmp_path / "first.txt"
    first.write_text("Title: First\n\nCHAPTER I\n\n" + "Words of the first book. " * 10
                     + "\n\nCHAPTER II\n\n" + "More words of the first book. " * 10, encoding="utf-8")
    book = tmp_path / "keeper.txt"
    book.write_text(FRONT + CHAPTERS, encoding="utf-8")
    assert main(["import", str(first)]) == 0 and main(["import", str(book)]) == 0
    return 2


def _fake_answer(monkeypatch, question: str) -> None:
    """`locas ask` without a model: the real library search, a stand-in for the writing."""
    def run_answer(session, request, on_token=None):
        passages = session.library.search("gull counted stones", limit=2)
        return Answer(question=question, text="The gull. [1]", draft="The gull.", citations=passages,
                      cited=0, support=(0, 10))
    monkeypatch.setattr("app.answer.pipeline.run_answer", run_answer)


def test_citations_number_sections_as_the_list_does(two_books, monkeypatch, capsys):
    assert main(["list", "--sections", str(two_books), "--json"]) == 0
    listed = {r["title"]: r["number"] for r in json.loads(capsys.readouterr().out)}
    assert listed == {"Opening": 1, "CHAPTER ONE": 2, "CHAPTER TWO": 3, "CHAPTER THREE": 4}
    with Library() as lib:
        gull = next(s for s in lib.sections(two_books) if s.title == "CHAPTER THREE")
    assert gull.id != listed["CHAPTER THREE"]  # the internal id differs from the number

    _fake_answer(monkeypatch, "Who counted stones?")
    assert main(["ask", "--no-memory", "Who counted stones?"]) == 0
    out = capsys.readouterr().out
    assert "The Keeper — CHAPTER THREE (doc 2, section 4, characters" in out, out
    assert f"section {gull.id}," not in out

    assert main(["ask", "--json", "--no-memory", "Who counted stones?"]) == 0
    passage = json.loads(capsys.readouterr().out)["passages"][0]
    assert passage["section"] == "CHAPTER THREE" and passage["section_number"] == 4
    assert "section_id" not in passage


def test_range_errors_name_what_exists(two_books, capsys):
    assert main(["memorize", str(two_books), "--sections", "3-10", "--memory", "m", "--estimate"]) == 1
    err = capsys.readouterr().err
    assert "This document has 4 sections, 1-4: 5-10 are not among them. See: locas list --sections 2" in err


def test_the_window_numbers_citations_as_the_list_does(two_books):
    pytest.importorskip("PySide6")
    from app.ui.answer_view import passage_title

    with Library() as lib:
        passage = lib.search("gull counted stones", limit=1)[0]
        listed = next(s for s in lib.sections(two_books) if s.id == passage.section_id)
    assert passage_title(passage) == f"The Keeper · {listed.number}. CHAPTER THREE"
    assert listed.number == 4 and listed.label == "4. CHAPTER THREE"


def test_list_suggests_a_range_the_document_has(locas_home, capsys):
    sample = Path(__file__).resolve().parents[2] / "assets" / "sample" / "aesop-fables.txt"
    assert main(["import", str(sample)]) == 0
    capsys.readouterr()
    assert main(["list", "--sections", "1"]) == 0
    out = capsys.readouterr().out
    assert "3 sections (memorize some with: locas memorize 1 --sections 2-3)" in out
    assert "\n1\t" in out and "The Hare and the Tortoise" in out
