"""Follow-up questions: the conversation's earlier turns go into the prompt, newest last."""

from __future__ import annotations

from app.answering import AnswerRequest
from app.conversation import MAX_ANSWER_CHARS, Conversation
from app.prompts import EXAMPLES, build_messages


def test_earlier_turns_go_between_the_system_line_and_the_question():
    talk = Conversation(max_turns=2)
    talk.add("Who kept the light?", "Maren Solberg.")
    talk.add("  ", "ignored: no question")
    talk.add("For how long?", "Thirty-one winters.")
    talk.add("Who came on the mail boat?", "A boy called Tobias. " * 60)
    turns = talk.turns_for_prompt()
    assert [q for q, _ in turns] == ["For how long?", "Who came on the mail boat?"]  # the last two
    assert len(turns[1][1]) == MAX_ANSWER_CHARS and turns[1][1].endswith("…")

    messages = build_messages("What did he learn?", ["Maren taught Tobias to trim a wick."], history=turns)
    examples = 2 * len(EXAMPLES)  # the worked examples come first, then the conversation
    assert [m["role"] for m in messages[examples + 1:]] == ["user", "assistant", "user", "assistant", "user"]
    assert messages[examples + 1]["content"] == "For how long?"
    assert messages[examples + 2]["content"] == "Thirty-one winters."
    assert messages[-1]["content"].endswith("Question: What did he learn?")
    assert "You: Who kept the light?\nMaren Solberg.\n\n" in talk.transcript()

    plain = build_messages("What did he learn?", history=turns)
    assert [m["role"] for m in plain][-2:] == ["assistant", "user"]
    assert build_messages("Q?") == [m for m in build_messages("Q?", history=())]  # unchanged without
    talk.clear()
    assert len(talk) == 0 and talk.turns_for_prompt() == []
    assert AnswerRequest(question="Q?").history == ()


def test_a_question_with_passages_follows_worked_examples_answered_in_a_few_words():
    """A small model copies the form of an answer it was shown: each example is a question on
    one numbered passage, answered in a few words with the passage's number (issue 18)."""
    messages = build_messages("Who kept the light?", ["Maren Solberg kept the light."])
    assert [m["role"] for m in messages] == ["system", *["user", "assistant"] * len(EXAMPLES), "user"]
    turns = zip(messages[1:-1:2], messages[2:-1:2], strict=True)
    for (passage, question, answer), (asked, answered) in zip(EXAMPLES, turns, strict=True):
        assert asked["content"] == f"Passages:\n[1] {passage}\n\nQuestion: {question}"
        assert answered["content"] == answer and answer.endswith("[1]") and len(answer.split()) <= 4
    assert messages[-1]["content"] == "Passages:\n[1] Maren Solberg kept the light.\n\nQuestion: Who kept the light?"
    assert {"chat", "story"} <= {"chat" if "] Tom:" in p or "] Anna:" in p else "story" for p, _, _ in EXAMPLES}
    # without passages there is nothing to point at: no examples
    assert [m["role"] for m in build_messages("Who kept the light?")] == ["system", "user"]
