"""A conversation: the questions asked so far and their answers, so a follow-up can say "he".

The question panel keeps one; `turns_for_prompt()` goes into `AnswerRequest.history` and from
there into the prompt (`app.answer.prompts.build_messages`). Only the last few turns go in, each
answer cut short: a small model's context is a few thousand tokens, and the passages come first.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_TURNS = 3  # earlier turns put into the prompt
MAX_ANSWER_CHARS = 600  # of each earlier answer


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str


class Conversation:
    """The turns of one conversation, oldest first; `clear()` starts a new one."""

    def __init__(self, max_turns: int = MAX_TURNS) -> None:
        self.max_turns = max_turns
        self.turns: list[Turn] = []

    def add(self, question: str, answer: str) -> None:
        """Record a finished turn (an empty answer teaches a follow-up nothing: skipped)."""
        question, answer = question.strip(), answer.strip()
        if question and answer:
            self.turns.append(Turn(question, answer))

    def clear(self) -> None:
        self.turns.clear()

    def __len__(self) -> int:
        return len(self.turns)

    def turns_for_prompt(self) -> list[tuple[str, str]]:
        """The last turns as (question, answer) pairs, answers shortened, for the prompt."""
        out = []
        for turn in self.turns[-self.max_turns:] if self.max_turns > 0 else []:
            answer = turn.answer if len(turn.answer) <= MAX_ANSWER_CHARS else (
                turn.answer[: MAX_ANSWER_CHARS - 1] + "…")
            out.append((turn.question, answer))
        return out

    def transcript(self) -> str:
        """The whole conversation as the panel shows it above the next answer."""
        return "".join(f"You: {t.question}\n{t.answer}\n\n" for t in self.turns)
