"""The window with broken state files: a sentence in a box or the status bar, never a traceback."""

from __future__ import annotations

import json

from ui_helpers import make_window

from app.settings import settings_path


def test_a_damaged_library_is_a_message_box_not_a_traceback(locas_home, boxes, qapp):
    from app.ui.main import main

    (locas_home / "library.db").write_bytes(b"junk" * 1000)
    assert main(["locas-reader"]) == 1
    [(kind, title, text)] = boxes.calls
    assert kind == "critical" and "library.db" in text and "Move it away" in text
    assert (locas_home / "library.db").read_bytes() == b"junk" * 1000


def test_a_bad_setting_is_said_once_the_window_is_up(locas_home, qtbot, boxes):
    settings_path().write_text(json.dumps({"chunk": 0}))
    window = make_window(qtbot)
    qtbot.waitUntil(lambda: bool(boxes.of("warning")))
    [(_, title, text)] = boxes.of("warning")
    assert title == "Settings" and "'chunk'" in text and "default" in text
    assert window.controller.settings.training.chunk == 256
