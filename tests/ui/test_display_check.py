"""Defect 12: without libxcb-cursor0 (and friends) the app names the packages to install in one
sentence instead of Qt's platform plugin error."""

from __future__ import annotations

import app.ui.main as gui_main
from app.ui.display_check import display_problem, missing_display_libraries


def test_missing_xcb_cursor_is_one_sentence_naming_the_package(monkeypatch, capsys):
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr("ctypes.util.find_library", lambda name: None if name == "xcb-cursor" else f"lib{name}.so")
    monkeypatch.setattr(gui_main, "create_app", lambda *a: (_ for _ in ()).throw(AssertionError("Qt started")))
    assert gui_main.main(["locas-reader"]) == 1
    err = capsys.readouterr().err.strip()
    assert "sudo apt install libxcb-cursor0`" in err and err.count(". ") == 0 and "\n" not in err


def test_which_platform_is_checked():
    none = lambda name: None  # noqa: E731 - nothing installed at all
    linux_x11 = {"DISPLAY": ":0"}
    assert "libxcb-cursor0" in missing_display_libraries(linux_x11, "linux", none)
    assert missing_display_libraries({"DISPLAY": ":0"}, "linux", lambda n: "found") == []
    assert missing_display_libraries({"QT_QPA_PLATFORM": "offscreen"}, "linux", none) == []
    assert missing_display_libraries({"WAYLAND_DISPLAY": "wayland-0"}, "linux", none) == []
    assert missing_display_libraries({}, "win32", none) == []
    assert display_problem(env={"QT_QPA_PLATFORM": "xcb"}, system="linux", find_library=lambda n: "x") is None
