"""`locas bench gui-stall`'s own parts that run without a model: its data folder, and the
timeline its --trace prints for a stall."""

from __future__ import annotations

import os
import tempfile

from app.ui import stall_bench


def test_the_benchmark_makes_a_data_folder_of_its_own_with_two_model_files(tmp_path, monkeypatch):
    import locas_engine.default_model as default_model
    from app.models.inspect import CACHE_FILE

    gguf = tmp_path / "default.gguf"
    gguf.write_bytes(b"GGUF")
    cache = tmp_path / "cache"
    (cache / "SmolLM2-135M-Instruct.Q4_1-0123").mkdir(parents=True)
    (cache / CACHE_FILE).write_text("{}", encoding="utf-8")  # descriptions of models: left behind
    monkeypatch.setattr(default_model, "default_gguf_path", lambda: gguf)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("LOCAS_HOME", str(tmp_path / "user-home"))
    monkeypatch.setenv("LOCAS_MODEL_SEARCH_HOME", str(tmp_path / "user-search"))

    home = stall_bench._fresh_home(cache)

    assert os.environ["LOCAS_HOME"] == str(home) and home.parent == tmp_path
    models = home / "models"
    assert sorted(p.name for p in models.iterdir()) == ["SmolLM2-135M-Instruct.Q4_1-0123"]
    found = sorted((home / "search-home").rglob("*.gguf"))
    assert [p.name for p in found] == ["smollm2-one.gguf", "smollm2-two.gguf"]
    assert all(p.resolve() == gguf.resolve() for p in found)


def test_a_stall_timeline_says_where_no_thread_let_go_of_the_gil():
    notes = [(1.000, {"engine": "forward (a.py:1)", "MainThread (GUI)": "exec"}),
             (1.005, {"engine": "forward (a.py:1)", "MainThread (GUI)": "exec"}),
             (1.125, {"engine": "from_file (tok.py:9)", "MainThread (GUI)": "exec"})]
    lines = stall_bench.timeline(notes, begin=1.0).splitlines()
    assert lines == ["       +0 ms engine: forward (a.py:1)",
                     "       +0 ms MainThread (GUI): exec",
                     "            ... no note for 120 ms",
                     "     +125 ms engine: from_file (tok.py:9)"]
