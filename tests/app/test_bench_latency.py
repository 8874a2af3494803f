"""`locas bench latency`'s summary: medians per mode, the ratio per question, every stage the
pipeline reported in the order it first ran (a stage added later shows up by itself)."""

from __future__ import annotations

from app.bench.latency import format_tables, summarize


def _row(seconds, first, bare, stages, tokens=10):
    return {"question": "q", "app": {"seconds": seconds, "first": first, "tokens": tokens, "tokens_per_s": 20.0,
                                     "stages": stages},
            "bare": {"seconds": bare, "first": 0.5, "tokens": tokens, "tokens_per_s": 25.0}}


def test_summary_takes_medians_and_keeps_every_stage_in_order():
    rows = [_row(3.0, 1.0, 2.0, {"search": 0.01, "prefill": 0.5, "decode": 2.0}),
            _row(6.0, 2.0, 3.0, {"search": 0.03, "prefill": 0.7, "decode": 4.0, "rerank": 0.4}),
            _row(4.0, 1.5, 4.0, {"search": 0.02, "prefill": 0.6, "decode": 3.0})]
    s = summarize(rows)
    assert s["questions"] == 3 and s["answer_s"] == 4.0 and s["first_word_s"] == 1.5 and s["bare_s"] == 3.0
    assert s["ratio"] == 1.5  # the median of 1.5, 2.0 and 1.0, not 4.0 / 3.0
    assert list(s["stages_s"]) == ["search", "prefill", "decode", "rerank"]
    assert s["stages_s"]["rerank"] == 0.0 and s["stages_s"]["decode"] == 3.0  # absent counts as none
    table = format_tables({"memory+retrieval": s})
    assert "memory+retrieval" in table and "1.50x" in table and "rerank 0.000" in table


def test_tables_renders_a_latency_and_a_models_report(tmp_path):
    import json

    from app.bench.tables import render

    rows = [_row(3.0, 1.0, 2.0, {"search": 0.01, "decode": 2.0})]
    latency = tmp_path / "latency.json"
    latency.write_text(json.dumps({"bench": "latency", "summary": {"retrieval": summarize(rows)}}))
    table = render(latency)
    assert "| retrieval | 1 | 1.00 s | 3.00 s | 2.00 s | 1.50x |" in table and "search 0.010, decode 2.000" in table
    models = tmp_path / "models.json"
    models.write_text(json.dumps({"bench": "models", "seconds": {"cli_first": 9.5, "cli_cached": 0.7,
                                                                 "window_first": 5.0, "window_cached": 0.05}}))
    assert "| `locas models` | 9.50 s | 0.70 s |" in render(models)
