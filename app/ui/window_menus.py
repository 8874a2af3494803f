"""The main window's menu bar and its actions (with their shortcuts)."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from app.ui.resources import icon


def build_menus(window: Any) -> None:
    """File, Edit and Help; each action is kept on the window (``window.import_action``...) for
    tests and for the shortcuts to work while a menu is closed."""
    file_menu = window.menuBar().addMenu("&File")
    window.import_action = action(window, "&Import…", window.import_dialog, QKeySequence.StandardKey.Open,
                                  icon("import"))
    window.memorize_action = action(window, "&Memorize Selected…", window.memorize_selected, "Ctrl+M",
                                    icon("memory"))
    window.quit_action = action(window, "&Quit", window.close, QKeySequence.StandardKey.Quit)
    if window.quit_action.shortcut().isEmpty():  # no platform standard (Windows, offscreen)
        window.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
    window.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
    window.import_folder_action = action(window, "Import or Sync &Notes Folder…", window.import_notes_folder,
                                         "Ctrl+Shift+O", icon("import"))
    window.quick_note_action = action(window, "&Quick Note…", window.quick_note, "Ctrl+N")
    file_menu.addAction(window.import_action)
    file_menu.addAction(window.import_folder_action)
    file_menu.addAction(window.quick_note_action)
    window.import_memory_action = action(window, "Import Memory &File…", window.import_memory_file)
    file_menu.addAction(window.import_memory_action)
    file_menu.addAction(window.memorize_action)
    file_menu.addSeparator()
    file_menu.addAction(window.quit_action)
    edit_menu = window.menuBar().addMenu("&Edit")
    window.find_action = action(window, "&Find in the Library…", window.search.focus,
                                QKeySequence.StandardKey.Find)
    edit_menu.addAction(window.find_action)
    window.settings_action = action(window, "&Settings…", window.open_settings,
                                    QKeySequence.StandardKey.Preferences)
    if window.settings_action.shortcut().isEmpty():
        window.settings_action.setShortcut(QKeySequence("Ctrl+,"))
    window.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
    edit_menu.addAction(window.settings_action)
    help_menu = window.menuBar().addMenu("&Help")
    window.about_action = action(window, "&About Locas Reader", window.about)
    window.about_action.setMenuRole(QAction.MenuRole.AboutRole)
    help_menu.addAction(window.about_action)


def action(parent: QWidget, text: str, slot, shortcut=None, qicon=None) -> QAction:
    """A window-wide action (its shortcut works with the menu closed) calling ``slot``."""
    act = QAction(text, parent)
    if shortcut is not None:
        act.setShortcut(QKeySequence(shortcut))
    if qicon is not None:
        act.setIcon(qicon)
    act.triggered.connect(slot)
    parent.addAction(act)
    return act


