"""The memorized model reranks the passages the full-text search found (app/answer/rerank.py)."""

from __future__ import annotations

from types import SimpleNamespace

import app.answer.rerank as rerank_module
from app.answer.rerank import fuse, passage_window, rerank


def test_the_window_holds_the_questions_words():
    chat = "\n".join([f"[1 May 2023] Ana: line {i} about nothing much at all today." for i in range(12)]
                     + ["[2 May 2023] Ben: my cello teacher lives in Porto."]
                     + [f"[3 May 2023] Ana: more chatter {i} of no interest here." for i in range(12)])
    window = passage_window(chat, "Where does Ben's cello teacher live?", max_chars=120)
    assert "cello teacher lives in Porto" in window and len(window) <= 120
    assert passage_window("Short.", "anything") == "Short."


def test_fusion_weighs_both_orders():
    assert fuse([0, 1, 2], [0.0, 5.0, 1.0]) == [1, 0, 2]  # 1 is first by the model, second by bm25
    assert fuse([0, 1, 2], [9.0, 5.0, 1.0]) == [0, 1, 2]


def test_rerank_orders_passages_by_the_question_likelihood(monkeypatch):
    seen = {}

    def likelihoods(backbone, question, texts, history=(), **_):
        seen.update(question=question, history=list(history), n=len(texts))
        return [-9.0, -1.0, -5.0]

    monkeypatch.setattr(rerank_module, "question_likelihoods", likelihoods)
    passages = [SimpleNamespace(text=t) for t in ("a", "b", "c")]
    assert [p.text for p in rerank(None, "Who?", passages, ["Earlier?"], method="upr")] == ["b", "c", "a"]
    assert seen == {"question": "Who?", "history": ["Earlier?"], "n": 3}
    assert rerank(None, "Who?", passages, method=None) == passages  # off: bm25's order
