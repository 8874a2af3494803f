"""The prompt: where the passages stand, and what each keeps of its rank."""

from __future__ import annotations

from app.answer.prompts import build_messages


def test_the_best_passage_stands_next_to_the_question_and_keeps_its_number():
    ranked = ["Maren kept the light.", "Tobias came on the mail boat.", "The lamp burned paraffin."]
    turn = build_messages("Who kept the light?", ranked)[-1]["content"]
    # [1] is the best passage; it comes last, just before the question, still numbered [1]
    assert turn.index("[3] The lamp burned paraffin.") < turn.index("[2] Tobias") < turn.index("[1] Maren")
    assert turn.endswith("[1] Maren kept the light.\n\nQuestion: Who kept the light?")
