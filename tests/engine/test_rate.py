"""Rate and ETA count only the tokens trained in this run; progress says what a resume keeps."""

from __future__ import annotations

import itertools

from engine_helpers import token_stream

from locas_engine import Memorizer, MemorySpec, TrainingSpec, attach_memory
from locas_engine.rate import TokenRate, seconds_for


def fake_clock(step: float = 1.0):
    ticks = itertools.count()
    return lambda: next(ticks) * step


def test_rate_counts_from_the_first_trained_chunk():
    rate = TokenRate(clock=fake_clock())
    assert rate.tokens_per_s is None and rate.eta_s(100) is None  # nothing trained yet
    rate.begin()  # t = 0
    rate.begin()  # a second begin does not restart the clock
    rate.add(64)  # t = 1: the second begin did not read the clock
    assert rate.tokens_per_s == 64 / 1
    assert rate.eta_s(128) == 2.0
    assert seconds_for(10, None) is None and seconds_for(10, 5.0) == 2.0


def test_stored_speed_leaves_out_each_streams_first_chunk_and_waits():
    clock = iter([0.0, 1.0, 11.0, 13.0, 100.0, 103.0, 110.0, 112.0])
    rate = TokenRate(clock=lambda: next(clock))
    rate.new_stream()
    rate.begin()  # t=0
    rate.add(64)  # t=1: the stream's first chunk (it also initializes the memory): not measured
    assert rate.measured_tokens_per_s is None and rate.tokens_per_s == 64.0
    rate.add(64)  # t=11: 64 tokens in 10 s
    rate.add(64)  # t=13: 64 more in 2 s
    rate.waited()  # t=100: a long pause before the next chunk
    rate.add(64)  # t=103
    assert rate.measured_tokens == 192 and rate.measured_seconds == 15.0
    assert rate.tokens_per_s == 256 / 103  # the ETA's rate counts the run from its first chunk
    rate.new_stream()  # the next document
    rate.add(64)  # t=110: not measured
    rate.add(32)  # t=112
    assert rate.measured_tokens == 224 and rate.measured_seconds == 17.0
    assert rate.measured_tokens_per_s == 224 / 17.0


def test_the_memorizer_leaves_waits_between_chunks_out_of_the_stored_speed(tiny_llama):
    """The memorizer marks each stream and each wait (pause, questions) on the rate it feeds."""
    now = [0.0]

    def clock() -> float:  # one second per reading
        now[0] += 1
        return now[0]

    def wait() -> None:  # a pause of 1000 s between two chunks
        now[0] += 1000

    memory = attach_memory(tiny_llama, MemorySpec(rank=4), name="m")
    rate = TokenRate(clock=clock)
    Memorizer(tiny_llama, memory, TrainingSpec(chunk=16, context=16)).run(
        token_stream(64), between_chunks=wait, rate=rate)
    assert rate.measured_tokens == 48  # chunks 2 to 4
    assert rate.measured_seconds == 3  # a reading per chunk; the three waits were left out
    assert rate.tokens_per_s < 64 / 3000  # the ETA's rate counts the run from its first chunk


def test_resumed_run_reports_this_runs_rate_and_the_checkpointed_tokens(tiny_llama, tmp_path):
    ids = token_stream(96)  # 6 chunks of 16
    memory = attach_memory(tiny_llama, MemorySpec(rank=4), name="m")
    settings = TrainingSpec(chunk=16, context=16, checkpoint_every=2)
    ckpt = tmp_path / "m.ckpt"
    seen = []

    def stop_after_three() -> bool:
        return len(seen) >= 3

    first = Memorizer(tiny_llama, memory, settings).run(
        ids, progress=seen.append, should_stop=stop_after_three, checkpoint_path=ckpt)
    assert not first.completed
    # checkpoints every 2 chunks: after chunk 3 (48 tokens trained) the checkpoint holds 32
    assert [p.tokens_saved for p in seen] == [0, 32, 32]
    assert first.tokens_saved == 48  # a clean stop at a chunk boundary checkpoints it

    resumed = []
    rate = TokenRate(clock=fake_clock())  # begin at t=0, then one second per chunk
    Memorizer(tiny_llama, memory, settings).run(ids, progress=resumed.append, checkpoint_path=ckpt,
                                                 rate=rate)
    p = resumed[0]
    assert p.tokens_done == 64
    # 16 tokens trained in this run in 1 s: the 48 resumed tokens do not count
    assert p.tokens_per_s == 16.0
    assert p.eta_s == (96 - 64) / 16.0
    assert resumed[-1].tokens_saved == 96
