"""Routing a shelf: the memory that best predicts a context is the one switched on for it."""

from __future__ import annotations

import pytest
from engine_helpers import tiny_model, token_stream

from locas_engine import (
    Memorizer,
    MemorySpec,
    TrainingSpec,
    attach_memory,
    backbone_from_model,
    route_memories,
)


@pytest.fixture(scope="module")
def trained_shelf():
    """Two memories, each trained alone on its own repeated phrase: trained once for the module."""
    bb = backbone_from_model(tiny_model("llama"), name="tiny-llama")
    streams = {"a": token_stream(320, seed=11), "b": token_stream(320, seed=12)}
    for name, stream in streams.items():
        for other in bb.memories.values():
            other.enabled = False
        memory = attach_memory(bb, MemorySpec(rank=16, output_scale=1), name=name)
        Memorizer(bb, memory, TrainingSpec(chunk=32, context=32, lr=2e-2, steps=2)).run(stream)
    return bb, streams


@pytest.fixture
def shelf(trained_shelf):
    """The trained shelf with both memories on; a test may switch them, the next starts alike."""
    bb, streams = trained_shelf
    for memory in bb.memories.values():
        memory.enabled = True
    return bb, streams


def test_each_books_text_routes_to_its_own_memory(shelf):
    bb, streams = shelf
    for name, stream in streams.items():
        route = route_memories(bb, ["a", "b"], stream[100:160])
        assert route.routed and route.memories == [name]
        assert set(route.losses) == {"a", "b", "all"}
        assert route.losses[name] == min(route.losses.values())


def test_routing_leaves_every_memory_as_it_was(shelf):
    bb, streams = shelf
    bb.memories["b"].enabled = False
    route_memories(bb, ["a", "b"], streams["a"][:64])
    assert bb.memories["a"].enabled and not bb.memories["b"].enabled


def test_nothing_to_choose_means_no_routing(shelf):
    bb, streams = shelf
    one = route_memories(bb, ["a"], streams["b"][:64])
    assert one.memories == ["a"] and not one.routed
    no_context = route_memories(bb, ["a", "b"], streams["a"][:1])
    assert no_context.memories == ["a", "b"] and not no_context.routed


def test_unknown_memory_is_an_error(shelf):
    bb, streams = shelf
    with pytest.raises(ValueError, match="No memory named 'c'"):
        route_memories(bb, ["a", "c"], streams["a"][:64])


def test_scoring_routes_each_chunk_inside_its_own_switch(shelf):
    """The shelf benchmark's routed perplexity: each chunk scored with only the memory chosen
    for it (score_ppl's chunk_context), inside a block that keeps the whole shelf on."""
    from locas_engine import only_enabled
    from locas_engine.bench.ppl import score_ppl

    bb, streams = shelf
    ids = streams["a"][:128]
    with only_enabled(bb.memories, ["a"]):
        own = score_ppl(bb.model, bb.device, ids, 32, 32)
    with only_enabled(bb.memories, ["a", "b"]):
        both = score_ppl(bb.model, bb.device, ids, 32, 32)
        only_a = score_ppl(bb.model, bb.device, ids, 32, 32,
                           chunk_context=lambda span: only_enabled(bb.memories, ["a"]))
        chosen: list[list[str]] = []

        def route(span):
            c0, start, _ = span
            picked = route_memories(bb, ["a", "b"], ids[c0:start]).memories
            chosen.append(picked)
            return only_enabled(bb.memories, picked)

        score_ppl(bb.model, bb.device, ids, 32, 32, chunk_context=route)
    assert only_a == own != both  # the chunk's own switch decided, not the block around it
    assert len(chosen) == 4 and all(c == ["a"] for c in chosen[1:])  # routed to its own memory
