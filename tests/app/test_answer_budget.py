"""An answer that used its whole token budget is shown to its last full sentence: the writer
tells grounding that the budget, not the model, ended it."""

from __future__ import annotations

import time
from types import SimpleNamespace

import app.answer.pipeline as answering
from app.answer.pipeline import AnswerRequest, PreparedAnswer, write_answer
from app.library.records import Passage

HARE = "The Tortoise plodded on and won the race. The Hare slept by the wayside."


def _prepared(max_new_tokens: int) -> PreparedAnswer:
    passage = Passage(document_id=1, document_title="Fables", section_id=1, section_title="The Hare",
                      section_position=0, index=0, start=0, end=len(HARE), text=HARE, snippet=HARE, score=-5.0)
    return PreparedAnswer(request=AnswerRequest(question="Who won the race?", max_new_tokens=max_new_tokens),
                          question="Who won the race?", backbone=SimpleNamespace(memories={}),
                          citations=[passage], messages=[], memories=[], route=None,
                          started=time.perf_counter())


def test_an_answer_that_fills_its_budget_ends_on_its_last_full_sentence(monkeypatch):
    pieces = ["The Tortoise won the race.", " The Tortoise plodded"]  # "plodded" could end one

    def fake_stream(backbone, messages, max_new_tokens, logprobs, **_):
        for piece in pieces[:max_new_tokens]:
            logprobs.append(-0.1)
            yield piece

    monkeypatch.setattr(answering, "stream_generate", fake_stream)
    assert write_answer(_prepared(max_new_tokens=2)).text == "The Tortoise won the race. [1]"
    # the same words with budget to spare: the model ended the answer there, so it stays whole
    assert write_answer(_prepared(max_new_tokens=3)).text == "The Tortoise won the race. The Tortoise plodded [1]"
