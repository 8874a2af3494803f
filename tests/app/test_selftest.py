"""The self-test fails when one of its checks fails: a check that cannot fail is no check.

Run in-process with the network guard left off (it would patch the socket module for the rest of
the session); the guard itself is tested in tests/packaging/test_build.py.
"""

from __future__ import annotations

import io

import pytest

from app import selftest
from app.library import Library


@pytest.fixture
def unguarded(monkeypatch):
    monkeypatch.setattr(selftest, "go_offline", lambda: None)
    monkeypatch.setattr(selftest, "network_is_blocked", lambda: True)


def run() -> tuple[int, str]:
    out = io.StringIO()
    status = selftest.run_self_test(out=out)
    return status, out.getvalue()


def test_self_test_fails_when_retrieval_cites_the_wrong_passage(unguarded, monkeypatch):
    search = Library.search

    def wrong_passage(self, query, document_ids=None, limit=10):
        """Retrieval gone wrong: passages about another fable (the Fox and the Grapes)."""
        return search(self, "grapes", document_ids=document_ids, limit=limit)

    monkeypatch.setattr(Library, "search", wrong_passage)
    status, out = run()
    assert status == 1, out
    assert "✗ retrieval cites the passage holding the answer" in out, out
    assert "is not the one that holds the answer" in out, out
    assert "model loaded: skipped" in out and "Self-test FAILED" in out
    assert "Self-test passed" not in out


@pytest.mark.slow
def test_self_test_fails_when_memorizing_learns_nothing(unguarded, monkeypatch):
    import torch

    from locas_engine.memorizer import Memorizer

    # lr 0: every chunk is scored and "trained", but the memory never moves.
    monkeypatch.setattr(Memorizer, "_optimizer",
                        lambda self: torch.optim.AdamW(self.memory.parameters(), lr=0.0))
    status, out = run()
    assert status == 1, out
    assert "✓ sample memorized" in out, out
    assert "✗ memorizing lowered the sample's perplexity" in out, out
    assert "Self-test FAILED" in out and "✓ answer" not in out
