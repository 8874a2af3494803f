"""What a person sees while memorizing: the job's own rate and ETA, and after a kill, the count
that a resume really starts from (the last checkpoint), not the in-flight one."""

from __future__ import annotations

import pytest

from app.commands.memory import _ProgressPrinter
from app.library import Library
from app.memorize.job import MemorizeEvent, MemorizeRequest, run_memorize
from app.session import Session
from app.settings import Settings


class CharTokenizer:
    """One token per character: enough for memorizing (no chat template is needed)."""

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict:
        return {"input_ids": [3 + ord(c) % 90 for c in text]}


@pytest.fixture
def tiny_session(story_file):
    import torch
    import transformers as tf

    from locas_engine import backbone_from_model

    torch.manual_seed(0)
    config = tf.LlamaConfig(vocab_size=96, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
    model = tf.AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
    settings = Settings.of(rank=4, chunk=64, context=16, steps=1, checkpoint_every=2, device="cpu")
    session = Session(library=Library(), settings=settings)
    session.use_backbone(backbone_from_model(model, CharTokenizer(), name="tiny"))
    session.library.import_file(story_file)
    yield session
    session.library.close()


class Killed(BaseException):
    """Stands for kill -9: nothing after it runs (no except Exception handler sees it)."""


def test_after_a_kill_the_library_shows_the_checkpointed_tokens(tiny_session):
    events = []

    def kill_at_third_chunk(ev: MemorizeEvent) -> None:
        if ev.phase == "memorizing":
            events.append(ev.tokens_done)
            if len(events) == 3:
                raise Killed

    with pytest.raises(Killed):
        run_memorize(tiny_session, MemorizeRequest(document_ids=[1], memory="m"), on_event=kill_at_third_chunk)
    row = tiny_session.library.get_memory("m")
    assert events[-1] == 3 * 64  # trained when the process died
    assert row["tokens_done"] == 2 * 64  # what the checkpoint (every 2 chunks) holds

    # A resume does start there, and reports the rate of the tokens it trains itself.
    seen = []
    run_memorize(tiny_session, MemorizeRequest(document_ids=[1], memory="m"), on_event=seen.append)
    first = next(ev for ev in seen if ev.phase == "memorizing")
    assert first.tokens_done == 3 * 64
    assert first.tokens_per_s is not None and first.eta_s is not None
    assert first.eta_s == pytest.approx((first.tokens_total - first.tokens_done) / first.tokens_per_s)
    assert tiny_session.library.get_memory("m")["tokens_done"] == first.tokens_total


def test_progress_bar_shows_the_jobs_rate_not_the_resume_jump(capsys):
    printer = _ProgressPrinter()
    # A resumed job: its first update already stands at 4,352 tokens, trained at 3.6 tok/s.
    printer(MemorizeEvent("book", "memorizing", tokens_done=4352, tokens_total=12900, ppl=9.5,
                          tokens_per_s=3.6, eta_s=(12900 - 4352) / 3.6))
    printer(MemorizeEvent("book", "memorizing", tokens_done=4608, tokens_total=12900, ppl=9.4,
                          tokens_per_s=3.6, eta_s=(12900 - 4608) / 3.6))
    printer(MemorizeEvent("book", "done", tokens_done=12900, tokens_total=12900, message="Memorized."))
    err = capsys.readouterr().err
    assert "3.6 tok/s" in err
    assert "ETA 38:23" in err  # (12900 - 4608) / 3.6 s
    assert "Mtok/s" not in err and "ktok/s" not in err


def test_a_resumed_run_says_where_it_starts_and_the_curve_so_far_before_training(tiny_session):
    """Before its first chunk (minutes on a CPU), a resumed run reports the checkpoint's count
    and curve, so the progress dialog and the library do not show 0% and a blank curve."""
    first_run = []

    def kill_at_third_chunk(ev: MemorizeEvent) -> None:
        if ev.phase == "memorizing":
            first_run.append((ev.tokens_done, ev.ppl))
            if len(first_run) == 3:
                raise Killed

    with pytest.raises(Killed):
        run_memorize(tiny_session, MemorizeRequest(document_ids=[1], memory="m"), on_event=kill_at_third_chunk)
    seen = []
    run_memorize(tiny_session, MemorizeRequest(document_ids=[1], memory="m"), on_event=seen.append)
    phases = [ev.phase for ev in seen]
    assert phases.index("resumed") < phases.index("memorizing")
    resumed = seen[phases.index("resumed")]
    assert resumed.tokens_done == 2 * 64 and resumed.tokens_total == seen[-1].tokens_total
    assert [x for x, _ in resumed.curve] == [64, 128]  # the checkpoint holds two chunks
    assert [y for _, y in resumed.curve] == pytest.approx([ppl for _, ppl in first_run[:2]])
