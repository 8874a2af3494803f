"""Compare writes its two answers at the same time (issue 15, defect 8), on a tiny random model.

Each answer must equal the one asked alone with the same memories: the two writing threads share
one model, and each thread's memory switch must hold for its own answer only.
"""

from __future__ import annotations

import threading
import time

import pytest

from app.answer.compare import run_compare
from app.answer.pipeline import AnswerRequest, run_answer
from app.library import Library
from app.memorize.job import JobControl, MemorizeRequest, run_memorize
from app.session import Session
from app.settings import Settings

QUESTION = "Why did the keeper climb the steps?"  # a why-question: the whole token budget


@pytest.fixture
def session(tmp_path):
    """A tiny model with one memory, "keeper", that visibly changes what the model writes."""
    import torch
    from engine_helpers import CharTokenizer, tiny_model

    from locas_engine import backbone_from_model

    settings = Settings.of(rank=4, chunk=64, context=16, steps=1, lr=1e-2, output_scale=0.25,
                           checkpoint_every=100, max_new_tokens=24, passages=1, device="cpu")
    s = Session(library=Library(), settings=settings)
    s.use_backbone(backbone_from_model(tiny_model("llama"), tokenizer=CharTokenizer(), name="tiny"))
    story = tmp_path / "keeper.txt"
    story.write_text("The keeper climbed one hundred and twelve steps every evening with a brass key. "
                     "Rain fell on the harbour while the ferry waited for the mail.", encoding="utf-8")
    doc = s.library.import_file(story).id
    run_memorize(s, MemorizeRequest(document_ids=[doc], memory="keeper"))
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():  # a strong memory: the answers with and without it differ
        for layer in s.memory("keeper").per_layer.values():
            layer.V.copy_(torch.randn(layer.V.shape, generator=g))
            layer.tau.fill_(0.5)
    yield s
    s.library.close()


def request(use_memory: bool, memories=("keeper",), budget: int = 24) -> AnswerRequest:
    return AnswerRequest(question=QUESTION, memories=list(memories), use_memory=use_memory,
                         passages=1, max_new_tokens=budget)


def test_both_answers_are_written_at_once_and_each_equals_its_answer_alone(session):
    alone = {"a": run_answer(session, request(True)), "b": run_answer(session, request(False))}
    assert alone["a"].draft != alone["b"].draft  # the memory matters to what is written
    asked = len(session.library.history())

    b_writing = threading.Event()
    a_saw_b_writing: list[bool] = []
    threads: dict[str, set[str]] = {"a": set(), "b": set()}
    pieces: dict[str, list[str]] = {"a": [], "b": []}

    def on_token(side: str, piece: str) -> None:
        threads[side].add(threading.current_thread().name)
        pieces[side].append(piece)
        if side == "b":
            b_writing.set()
        elif not a_saw_b_writing:  # A's first word waits for B's: one after the other never gets it
            a_saw_b_writing.append(b_writing.wait(timeout=60))

    cited: dict[str, list] = {}
    result = run_compare(session, request(True), request(False), on_token=on_token,
                         on_citations=lambda side, passages: cited.setdefault(side, passages))

    assert a_saw_b_writing == [True]  # B was writing before A had finished
    assert threads["a"].isdisjoint(threads["b"]) and threading.current_thread().name not in threads["a"]
    assert result.errors == {}
    for side in ("a", "b"):
        answer = result.answers[side]
        assert answer.draft == alone[side].draft and answer.text == alone[side].text
        assert "".join(pieces[side]).strip() == answer.draft
        assert [p.text for p in cited[side]] == [p.text for p in answer.citations]
    assert result.answers["a"].memories == ["keeper"] and result.answers["b"].memories == []
    history = session.library.history()
    assert len(history) == asked + 2  # both kept, with memory first
    assert [h["options"]["use_memory"] for h in history[-2:]] == [True, False]
    assert [h["answer"] for h in history[-2:]] == [result.answers["a"].text, result.answers["b"].text]


def test_stop_stops_both_answers(session):
    whole = {"a": run_answer(session, request(True, budget=80)), "b": run_answer(session, request(False, budget=80))}
    control = JobControl()
    steps: dict[int, int] = {}  # forward passes by thread

    def step(*_args) -> None:
        steps[threading.get_ident()] = steps.get(threading.get_ident(), 0) + 1
        if len(steps) == 2 and min(steps.values()) >= 5:  # both are writing: the reader presses Stop
            control.cancel()
        time.sleep(0.005)  # a step of the tiny model takes a while, as a real one's does

    hook = session.backbone().model.register_forward_hook(step)
    try:
        result = run_compare(session, request(True, budget=80), request(False, budget=80), control=control)
    finally:
        hook.remove()
    assert control.cancelled
    for side in ("a", "b"):
        answer = result.answers[side]
        assert answer.stopped and 0 < answer.tokens < whole[side].tokens  # cut short, not written out
    # what was written is kept, marked stopped; a side stopped before its first word is not
    written = [result.answers[side].text for side in ("a", "b") if result.answers[side].text]
    kept = session.library.history()[-len(written):] if written else []
    assert [h["answer"] for h in kept] == written and all(h["options"]["stopped"] for h in kept)


def test_a_side_that_fails_says_why_and_the_other_is_still_answered(session):
    failed: dict[str, str] = {}
    answered: dict[str, object] = {}
    result = run_compare(session, request(True, memories=["nowhere"]), request(False),
                         on_failed=failed.__setitem__, on_answer=answered.__setitem__)
    assert "no memory named 'nowhere'" in failed["a"] and failed == result.errors
    assert list(answered) == ["b"] and result.answers["b"].draft
    assert session.library.history()[-1]["answer"] == result.answers["b"].text

    def on_token(side: str, _piece: str) -> None:
        if side == "b":
            raise RuntimeError("the disk is full")

    result = run_compare(session, request(True), request(False), on_token=on_token)
    assert result.errors == {"b": "Something went wrong: the disk is full"}
    assert result.answers["a"].draft and result.answers["a"].memories == ["keeper"]


def test_the_engine_worker_runs_a_compare_as_one_question(session):
    """The GUI's way in: EngineWorker.submit_compare, on the worker's own Session and library."""
    from app.worker import EngineWorker

    def worker_session() -> Session:
        s = Session(library=Library(), settings=session.settings)
        s.use_backbone(session.backbone())  # the same model, "keeper" attached
        return s

    worker = EngineWorker(worker_session)
    done = threading.Event()
    got: dict[str, object] = {}
    sides: list[str] = []
    try:
        worker.submit_compare(request(True), request(False), on_token=lambda side, _p: sides.append(side),
                              on_answer=got.__setitem__, on_done=lambda result: done.set())
        assert done.wait(timeout=300)
    finally:
        worker.shutdown()
    assert set(sides) == {"a", "b"} and list(got) == ["a", "b"]
    assert got["a"].memories == ["keeper"] and got["b"].memories == []
    assert [h["options"]["use_memory"] for h in session.library.history()] == [True, False]


def test_stop_before_the_first_word_ends_the_first_pass_at_once(session):
    """Esc in Compare before the first word: no layer runs after it (the prompt's first pass
    and the memory-off pass used to run to their end: 6.9 s on a CPU), and an answer with no
    word is not kept in the history as an empty answer."""
    from locas_engine.interrupt import decoder_layers

    control = JobControl()
    calls = {"before": 0, "after": 0}

    def layer_starts(*_args) -> None:
        calls["after" if control.cancelled else "before"] += 1
        if calls["before"] == 1:  # the reader presses Esc while the prompt is read
            control.cancel()
        time.sleep(0.002)

    layers = decoder_layers(session.backbone().model)
    assert len(layers) >= 2
    asked = len(session.library.history())
    hooks = [layer.register_forward_pre_hook(layer_starts) for layer in layers]
    try:
        result = run_compare(session, request(True, budget=80), request(False, budget=80), control=control)
    finally:
        for hook in hooks:
            hook.remove()
    # The layers under way when Esc came (one per side) are the last that start.
    assert calls["after"] <= 2, calls
    for side in ("a", "b"):
        assert result.answers[side].stopped and result.answers[side].text == ""
    assert len(session.library.history()) == asked
