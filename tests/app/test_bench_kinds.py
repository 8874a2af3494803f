"""The QA bench's question-kinds measures (issue 28): holds the reference, per-kind table."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.bench.qa import question_sets
from app.bench.qa_tables import kind_table
from app.bench.scoring import holds_reference

REPO = Path(__file__).resolve().parents[2]


def test_holds_reference_by_stems_and_alternatives():
    assert holds_reference("The Tortoise won the race. [1]", "the tortoise")
    assert not holds_reference("The Hare won the race.", "the tortoise")
    assert holds_reference("She found frogs in the boxes.", "frogs in the box")  # stems
    assert holds_reference("It sang it 33 times.", "three and thirty times", ["33"])
    # four of five content words are enough for a long reference
    assert holds_reference("in summer when the moon rose before the sun", "in summer, when the moon rose "
                           "before the sun went down")


def test_a_choice_answer_naming_every_option_holds_none():
    question = "Were the grapes red, green or black?"
    assert not holds_reference("The grapes were red, green or black.", "black", kind="choice", question=question)
    assert holds_reference("The grapes were black.", "black", kind="choice", question=question)
    assert not holds_reference("The hare won. The tortoise lost.", "the tortoise", kind="choice",
                               question="Who won the race, the hare or the tortoise?")


def test_holds_reference_for_yes_no_reads_the_opening_word():
    assert holds_reference("No, the Fox could not reach them.", "no", kind="yes-no")
    assert not holds_reference("The Fox could not reach them.", "no", kind="yes-no")
    assert not holds_reference("Yes, she did.", "no", kind="yes-no")
    assert holds_reference("yes.", "yes")


def test_kind_table_counts_holds_abstention_and_lost_drafts():
    answers = [
        {"mode": "m", "kind": "who", "category": "single-hop", "prediction": "The Fox.", "score": 0.5,
         "holds": True, "draft_holds": True},
        {"mode": "m", "kind": "who", "category": "single-hop", "prediction": "A Hare one day ...",
         "score": 0.0, "holds": False, "draft_holds": True},  # a right draft replaced
        {"mode": "m", "kind": "choice", "category": "single-hop", "prediction": "The text does not say.",
         "score": 0.0, "holds": False, "draft_holds": False},
        {"mode": "m", "kind": "unanswerable", "category": "adversarial", "prediction": "The text does not say.",
         "score": 1.0},
    ]
    rows = {r["kind"]: r for r in kind_table(answers)}
    assert rows["who"]["holds"] == 0.5 and rows["choice"]["holds"] == 0.0
    assert rows["unanswerable"]["abstained"] == 1.0
    assert rows["all"]["draft_replaced"] == 1 and rows["all"]["draft_holds"] == 2
    assert rows["all"]["holds"] == 1 / 3 and abs(rows["all"]["false_abstained"] - 1 / 3) < 1e-9


def test_question_sets_find_the_book_each_set_names():
    sets = question_sets(argparse.Namespace(book=None, questions=[REPO / "benchmarks/data/kinds-aesop.json"]))
    assert list(sets) == [REPO / "assets/sample/aesop-fables.txt"]
    forced = question_sets(argparse.Namespace(book=Path("x.txt"), questions=[REPO / "benchmarks/data/kinds-aesop.json"]))
    assert list(forced) == [Path("x.txt")]


def test_combine_pairs_holds_the_reference_against_earlier_answers():
    from app.bench.combine import against

    def row(question, holds):
        return {"mode": "m", "file": "f", "question": question, "category": "single-hop", "score": 0.0,
                "prediction": "x" if holds else "y", "holds": holds}

    now = [row("a", True), row("b", True), row("c", False)]
    before = [row("a", False), row("b", True), row("c", False)]
    (c,) = against(now, before)
    assert c["holds"] == [1, 2] and c["n_holds"] == 3 and abs(c["holds_difference"] - 1 / 3) < 1e-9
