"""The main window: library on the left, question panel on the right, status bar below.

Everything here is presentation and wiring: user actions go to `AppController`, whose signals
(always delivered on the GUI thread) update the widgets. No model, tokenizer or database code.
The menus are built in window_menus.py; what the library's actions, memorizing and asking do
lives in the mixins library_actions.py, memorize_flow.py and question_flow.py.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.ui.controller import AppController, process_memory_mb
from app.ui.library_actions import LibraryActions, confirm
from app.ui.library_rows import memory_note
from app.ui.library_search import LibrarySearch
from app.ui.library_view import LibraryView
from app.ui.memorize_dialog import MemorizeDialog
from app.ui.memorize_flow import MemorizeFlow
from app.ui.question_flow import QuestionFlow
from app.ui.question_panel import QuestionPanel
from app.ui.resources import icon, pixmap
from app.ui.settings_dialog import SettingsDialog
from app.ui.window_menus import build_menus
from app.ui.window_state import restore_window_state, save_window_state

log = logging.getLogger(__name__)

EMPTY_HINT = ("Your library is empty: drop a book or a chat log here, "
              "or choose File ▸ Import (Ctrl+O).")


class MainWindow(QuestionFlow, LibraryActions, MemorizeFlow, QMainWindow):
    """Layout and wiring; the flows (asking, library actions, memorizing) are mixins."""

    def __init__(self, controller: AppController, preload_model: bool = True,
                 offer_resume: bool = True) -> None:
        super().__init__()
        self.controller = controller
        self.setWindowTitle("Locas Reader")
        self.setWindowIcon(icon("app"))
        self.setAcceptDrops(True)
        self.resize(1200, 760)
        self.memorize_dialogs: dict[str, MemorizeDialog] = {}
        self._slots: dict[int, str] = {}  # answer ticket -> panel slot
        self._closing = False

        self._build_central()
        build_menus(self)
        self._build_status_bar()
        self._connect()
        # Size, splitters and the last memory picked, as the window was left.
        self.question_panel.preferred_memory = restore_window_state(self, self._splitters())
        self.refresh()
        problems = getattr(controller.settings, "problems", [])  # a damaged settings.json
        if problems:
            QTimer.singleShot(0, lambda: self.show_error("Settings", "\n\n".join(problems)))
        if preload_model:
            QTimer.singleShot(0, controller.load_model)
        if offer_resume:
            QTimer.singleShot(0, self.offer_resume)

    # -- layout ---------------------------------------------------------------------------------
    def _build_central(self) -> None:
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(6, 6, 0, 6)
        bar = QHBoxLayout()
        title = QLabel("Library")
        title.setObjectName("sectionTitle")
        self.import_button = QPushButton(icon("import"), "Import…")
        self.memorize_button = QPushButton(icon("memory"), "Memorize…")
        self.memorize_button.setToolTip("Memorize the selected documents")
        bar.addWidget(title)
        bar.addStretch(1)
        bar.addWidget(self.import_button)
        bar.addWidget(self.memorize_button)
        ll.addLayout(bar)
        self.library_view = LibraryView()
        self.empty_hint = QLabel(EMPTY_HINT)
        self.empty_hint.setObjectName("emptyHint")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.search = LibrarySearch()
        results = QWidget()
        rl = QVBoxLayout(results)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.search.results_label)
        rl.addWidget(self.search.results, 1)
        self.left_stack = QStackedWidget()
        self.left_stack.addWidget(self.empty_hint)
        self.left_stack.addWidget(self.library_view)
        self.left_stack.addWidget(results)
        self.search_results = results
        ll.addWidget(self.search)
        ll.addWidget(self.left_stack, 1)

        self.question_panel = QuestionPanel()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.question_panel)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 4)
        split.setSizes([660, 540])
        self.setCentralWidget(split)
        self.main_splitter = split

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.model_label = QLabel("Model: not loaded")
        self.device_label = QLabel("Device: –")
        self.memory_label = QLabel("Memory: none")
        self.ram_label = QLabel("")
        for w in (self.model_label, self.device_label, self.memory_label, self.ram_label):
            sb.addPermanentWidget(w)
        self._ram_timer = QTimer(self)
        self._ram_timer.timeout.connect(self._update_ram)
        self._ram_timer.start(2000)
        self._update_ram()

    def _connect(self) -> None:
        c, lv, qp = self.controller, self.library_view, self.question_panel
        self.import_button.clicked.connect(self.import_dialog)
        self.memorize_button.clicked.connect(self.memorize_selected)
        c.library_changed.connect(self.refresh)
        c.memory_renamed.connect(qp.rename_memory)
        c.document_imported.connect(self._on_imported)
        c.import_failed.connect(lambda msg: self.show_error("Import failed", msg))
        c.error.connect(self.show_error)
        c.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        c.memorize_event.connect(self._on_memorize_event)
        c.memorize_failed.connect(lambda name, msg: self.show_error(f"Memorizing “{name}” failed", msg))
        c.model_loaded.connect(self._on_model_loaded)
        c.model_failed.connect(self._on_model_failed)
        c.model_loading.connect(self._on_model_loading)
        c.bridge.answer_token.connect(self._on_answer_token)
        c.bridge.answer_citations.connect(self._on_answer_citations)
        c.bridge.answer_finished.connect(self._on_answer_finished)
        c.bridge.answer_failed.connect(self._on_answer_failed)

        self.search.filter_changed.connect(lv.apply_filter)
        self.search.search_requested.connect(self.search_library)
        self.search.results_closed.connect(self._show_library)
        self.search.passage_activated.connect(self.open_passage)

        lv.memorize_requested.connect(self.memorize_documents)
        lv.open_document_requested.connect(self.read_document)
        lv.rename_document_requested.connect(self.rename_document)
        lv.delete_document_requested.connect(self.delete_document)
        lv.rename_memory_requested.connect(self.rename_memory)
        lv.delete_memory_requested.connect(self.delete_memory)
        lv.export_memory_requested.connect(self.export_memory)
        lv.export_model_requested.connect(self.export_model)
        lv.memory_details_requested.connect(self.show_memory_details)
        lv.memory_progress_requested.connect(self.show_progress)
        lv.resume_memory_requested.connect(self.controller.resume_memory)
        lv.memory_activated.connect(qp.select_memory)

        qp.ask_requested.connect(self.ask)
        qp.compare_requested.connect(self.compare)
        qp.stop_requested.connect(c.stop_answers)
        qp.memory_changed.connect(self._on_memory_changed)
        qp.use_memory.toggled.connect(lambda _on: self._update_memory_label())
        qp.passage_activated.connect(self.open_passage)

    def _splitters(self) -> dict:
        return {"main": self.main_splitter, "answers": self.question_panel.splitter}

    # -- library --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the library lists (cheap reads) and the memory picker."""
        if self._closing:  # late queued signals after shutdown: the library is closed
            return
        docs, mems = self.controller.rows()
        self.library_view.set_rows(docs, mems)
        if self.left_stack.currentWidget() is not self.search_results:
            self.left_stack.setCurrentIndex(1 if (docs or mems) else 0)
        self.search.setVisible(bool(docs or mems))
        self.question_panel.set_memories([m.name for m in mems],
                                         notes={m.name: memory_note(m) for m in mems if memory_note(m)})

    def search_library(self, query: str) -> None:
        """Enter in the search box: passages of the whole library, shown in place of the list."""
        def found(passages: list) -> None:
            self.search.show_results(query, passages)
            self.left_stack.setCurrentWidget(self.search_results)

        self.controller.search_library(query, found)

    def _show_library(self) -> None:
        self.left_stack.setCurrentIndex(0 if self.library_view.is_empty() else 1)
        self.library_view.setFocus()

    def _on_imported(self, row: Any) -> None:
        self.library_view.upsert_document(row)
        self.left_stack.setCurrentIndex(1)
        self.search.setVisible(True)
        item = self.library_view.document_item(row.id)
        if item is not None:
            self.library_view.clearSelection()
            item.setSelected(True)
            self.library_view.scrollToItem(item)

    def show_error(self, title: str, message: str) -> None:
        """A readable message box (messages are sentences from the core, never tracebacks)."""
        QMessageBox.warning(self, title, message)

    # -- model, settings, about ---------------------------------------------------------------
    def _on_model_loading(self, name: str) -> None:
        """Loading takes seconds to minutes: say so until it is done (no timeout on the message)."""
        self.model_label.setText("Model: loading…")
        self.device_label.setText("Device: –")
        self.statusBar().showMessage(f"Loading the model ({name})… the first question waits for it.")
        self.question_panel.busy_text = "Loading the model, then answering…"

    def _on_model_loaded(self, name: str, device: str) -> None:
        self.model_label.setText(f"Model: {name}")
        self.device_label.setText(f"Device: {device}")
        self.question_panel.busy_text = "Answering…"
        self.controller.warm_memories(self.question_panel.current_memories())

    def _on_model_failed(self, message: str) -> None:
        self.question_panel.busy_text = "Answering…"
        self.model_label.setText("Model: failed to load")
        self.device_label.setText("Device: –")  # nothing is in use; never keep the old device
        self.show_error("The model could not be loaded", message)

    def _update_ram(self) -> None:
        mb = process_memory_mb()
        self.ram_label.setText(f"RAM: {mb / 1000:.2f} GB" if mb and mb >= 1000 else
                               f"RAM: {mb:.0f} MB" if mb else "")

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.controller.settings, self)
        dialog.accepted.connect(lambda: self.controller.apply_settings(dialog.result_settings()))
        dialog.open()
        return dialog

    def about(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("About Locas Reader")
        box.setIconPixmap(pixmap("app", 64))
        box.setText(
            "<b>Locas Reader</b><br>A reading assistant that memorizes your books and chat logs into "
            "a small Locas-GLU memory of a local language model, then answers questions about them."
            "<br><br>Everything stays on this computer."
        )
        box.exec()

    # -- closing --------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        running = self.controller.running_memories()
        if running and not self._closing:
            listing = ", ".join(f"“{n}”" for n in running)
            if not confirm(
                self, "Stop memorizing?",
                f"{listing} is still being memorized. Stop now? Progress is saved; resume it later "
                "from the memory's menu in the library.", default_yes=True,
            ):
                event.ignore()
                return
        self._closing = True
        try:
            save_window_state(self, self._splitters(), self.question_panel.current_memory())
        except Exception:  # noqa: BLE001 - remembering the layout must never block closing
            log.debug("window state not saved", exc_info=True)
        self.statusBar().showMessage("Saving progress and stopping…")
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.controller.shutdown()
        finally:
            QApplication.restoreOverrideCursor()
        for dialog in self.memorize_dialogs.values():
            dialog.close()
        event.accept()
