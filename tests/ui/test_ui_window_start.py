"""What the app does before its window shows, so that the work after it never freezes the window."""

from __future__ import annotations

import gc

from engine_helpers import save_tiny_tokenizer, tiny_model

from app.settings import Settings


def test_before_the_window_the_tokenizer_is_parsed_and_the_start_up_objects_leave_the_collector(tmp_path):
    from app.ui.main import prepare_window_start
    from locas_engine.backbone import _TOKENIZERS

    folder = tmp_path / "llama-tiny"
    tiny_model("llama").save_pretrained(folder)
    save_tiny_tokenizer(folder)
    try:
        prepare_window_start(Settings.of(model=str(folder)))
        # ~400,000 start-up objects a full collection no longer walks while the window waits
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert any(key[0] == str((folder / "tokenizer.json").resolve()) for key in _TOKENIZERS)


def test_a_model_that_is_not_there_does_not_stop_the_window_from_starting(tmp_path):
    from app.ui.main import prepare_window_start

    try:
        prepare_window_start(Settings.of(model=str(tmp_path / "no-such-model.gguf")))
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
