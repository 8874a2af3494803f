"""Read what the passage order does to a reader's first questions, side by side (issue 18).

Asks questions of the texts already imported into ``$LOCAS_HOME`` (no memory: passages only,
like `locas ask --no-memory`), once with the app's order (the best passage [1] next to the
question) and once with the order before the eleventh session (the best passage first), and
prints the answers that differ. The default questions are on the lighthouse story of the tests
(tests/conftest.py STORY) and the Aesop sample (assets/sample/aesop-fables.txt):

    locas import story.txt && locas import assets/sample/aesop-fables.txt
    python benchmarks/issue18_passage_order.py [QUESTION ...]
"""

from __future__ import annotations

import sys

from issue18_prompt_variants import forward  # the old order: benchmarks/ is this script's path

import app.answer.pipeline as answering
import app.answer.prompts as prompts
from app.answer.pipeline import AnswerRequest, run_answer
from app.session import Session

QUESTIONS = (
    "Who kept the light at Port Annick?", "How many steps did Maren climb?", "What did Maren teach Tobias?",
    "Who was the mayor of Port Annick?", "Where was the brass key cut?", "How long had Maren kept the light?",
    "Who won the race, the hare or the tortoise?", "Who chose the course of the race?",
    "What did the fox say about the grapes?", "Who set the lion free?", "What colour were the grapes?",
    "Who caught the lion?", "What did the hare do during the race?", "Who ate the grapes?",
)


def answers(session: Session, questions: list[str]) -> list[str]:
    """As `locas ask --no-memory` answers them, with the settings' passages and token cap."""
    settings = session.settings
    return [run_answer(session, AnswerRequest(question=q, use_memory=False, passages=settings.passages,
                                              max_new_tokens=settings.max_new_tokens)).text
            for q in questions]


def main(questions: list[str]) -> None:
    session = Session()
    try:
        app_order = answers(session, questions)
        answering.build_messages = forward  # what prepare_answer calls
        before = answers(session, questions)
    finally:
        answering.build_messages = prompts.build_messages
        session.library.close()
    changed = [(q, a, b) for q, a, b in zip(questions, app_order, before, strict=True) if a != b]
    for question, now, then in changed:
        print(f"{question}\n  best passage last:  {now}\n  best passage first: {then}\n")
    print(f"{len(changed)} of {len(questions)} answers differ.")


if __name__ == "__main__":
    main(sys.argv[1:] or list(QUESTIONS))
