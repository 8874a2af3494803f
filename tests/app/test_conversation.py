"""Follow-up questions: the conversation's earlier turns go into the prompt, newest last."""

from __future__ import annotations

from app.answer.pipeline import AnswerRequest
from app.answer.prompts import build_messages
from app.conversation import MAX_ANSWER_CHARS, Conversation


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
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert messages[1]["content"] == "For how long?" and messages[2]["content"] == "Thirty-one winters."
    assert messages[-1]["content"].endswith("Question: What did he learn?")
    assert "You: Who kept the light?\nMaren Solberg.\n\n" in talk.transcript()

    plain = build_messages("What did he learn?", history=turns)
    assert [m["role"] for m in plain][-2:] == ["assistant", "user"]
    assert build_messages("Q?") == [m for m in build_messages("Q?", history=())]  # unchanged without
    talk.clear()
    assert len(talk) == 0 and talk.turns_for_prompt() == []
    assert AnswerRequest(question="Q?").history == ()
