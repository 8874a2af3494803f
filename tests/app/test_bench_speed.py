"""`locas bench speed` on a tiny model: every row it plans, measured as the app would run it."""

from __future__ import annotations

import math

import pytest
from engine_helpers import tiny_model, token_stream

from app.bench.speed import format_table, measure
from locas_engine import backbone_from_model
from locas_engine.bench.ppl import score_ppl
from locas_engine.precision import resolve_precision

SMALL = {"rank": 8, "init": "topk", "tau_scale": 1.0, "lr": 1e-2, "chunk": 40, "context": 40,
         "steps": 1, "layers": "all", "checkpoint_every": 8, "precision": "auto"}


def test_speed_bench_rows_on_a_tiny_model():
    tiny_llama = backbone_from_model(tiny_model("llama"), name="tiny-llama")
    ids = token_stream(240)
    results = measure(tiny_llama, ids, dict(SMALL), repeat=2, templora=[1e-3],
                      variants=["fp32:1-2", "score:bf16", "precision=fp32,rank=4,steps=2", "fp32:all:80:40"])
    rows = {r["row"]: r for r in results}
    assert list(rows) == ["score-fp32", "memorize-fp32", "memorize-default", "memorize-fp32-1-2",
                          "score-bf16", "memorize-precisionfp32-rank4-steps2", "memorize-fp32-all-c80x40",
                          "templora-lr0.001"]
    assert (rows["memorize-precisionfp32-rank4-steps2"]["rank"], rows["memorize-precisionfp32-rank4-steps2"]["steps"]) == (4, 2)
    # Parameters trained: none to score; a rank-4 memory has half a rank-8 one's.
    assert rows["score-fp32"]["extra_params"] == 0
    assert 2 * rows["memorize-precisionfp32-rank4-steps2"]["extra_params"] == rows["memorize-fp32"]["extra_params"]
    assert rows["templora-lr0.001"]["method"] == "templora" and rows["templora-lr0.001"]["extra_params"] > 0
    assert rows["score-fp32"]["time_vs_score"] == pytest.approx(1.0)
    assert rows["memorize-fp32"]["gain_kept"] == pytest.approx(1.0)
    assert rows["memorize-default"]["precision"] == resolve_precision("auto", "cpu")
    assert rows["memorize-fp32-1-2"]["layers"] == "1-2"
    # A row on another chunking is measured from the model without memory on that chunking.
    longer = rows["memorize-fp32-all-c80x40"]
    own_base = score_ppl(tiny_llama.model, tiny_llama.device, ids, 80, 40)
    assert longer["base_ppl"] == pytest.approx(own_base) and own_base != rows["score-fp32"]["ppl"]
    full_gain = rows["score-fp32"]["ppl"] - rows["memorize-fp32"]["ppl"]
    assert longer["gain_kept"] == pytest.approx((own_base - longer["ppl"]) / full_gain)
    assert rows["memorize-fp32"]["base_ppl"] == rows["score-fp32"]["ppl"]
    for r in results:
        assert len(r["seconds_each"]) == 2 and r["seconds"] > 0
        assert r["tokens_per_s"] == pytest.approx(240 / r["seconds"])
        assert math.isfinite(r["ppl"])
        assert (r["gain_kept"] is None) == (not r["memorizes"])
    # The memory learns the repeated phrase: memorizing beats scoring alone.
    assert rows["memorize-fp32"]["ppl"] < rows["score-fp32"]["ppl"]
    assert "memorize-default" in format_table(results)
    assert not tiny_llama.memories  # every row's memory was detached
