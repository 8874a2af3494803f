"""The main window: library on the left, question panel on the right, status bar below.

Everything here is presentation and wiring: user actions go to `AppController`, whose signals
(always delivered on the GUI thread) update the widgets. No model, tokenizer or database code.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.jobs import MemorizeEvent
from app.ui.controller import AppController, process_memory_mb
from app.ui.library_search import LibrarySearch
from app.ui.library_view import LibraryView, memory_note
from app.ui.memorize_dialog import MemorizeDialog
from app.ui.memory_info_dialog import MemoryInfoDialog
from app.ui.question_flow import QuestionFlow
from app.ui.question_panel import QuestionPanel
from app.ui.reader_dialog import ReaderDialog
from app.ui.resources import icon, pixmap
from app.ui.settings_dialog import SettingsDialog
from app.ui.window_state import restore_window_state, save_window_state

log = logging.getLogger(__name__)

IMPORT_FILTERS = ";;".join([
    "All supported files (*.epub *.txt *.text *.md *.markdown *.html *.htm *.xhtml *.pdf *.json)",
    "EPUB books (*.epub)",
    "Plain text (*.txt *.text)",
    "Markdown (*.md *.markdown)",
    "Web pages (*.html *.htm *.xhtml)",
    "PDF documents (*.pdf)",
    "Chat exports (*.json *.txt)",
    "All files (*)",
])
EMPTY_HINT = ("Your library is empty: drop a book or a chat log here, "
              "or choose File ▸ Import (Ctrl+O).")


class MainWindow(QuestionFlow, QMainWindow):
    def __init__(self, controller: AppController, preload_model: bool = True,
                 offer_resume: bool = True) -> None:
        super().__init__()
        self.controller = controller
        self.setWindowTitle("Locas Reader")
        self.setWindowIcon(icon("app"))
        self.setAcceptDrops(True)
        self.resize(1200, 760)
        self.memorize_dialogs: dict[str, MemorizeDialog] = {}
        self._curves: dict[str, list[tuple[float, float]]] = {}
        self._slots: dict[int, str] = {}  # answer ticket -> panel slot
        self._closing = False

        self._build_central()
        self._build_menus()
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

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.import_action = _action(self, "&Import…", self.import_dialog, QKeySequence.StandardKey.Open,
                                     icon("import"))
        self.memorize_action = _action(self, "&Memorize Selected…", self.memorize_selected, "Ctrl+M",
                                       icon("memory"))
        self.quit_action = _action(self, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        if self.quit_action.shortcut().isEmpty():  # no platform standard (Windows, offscreen)
            self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.import_folder_action = _action(self, "Import or Sync &Notes Folder…", self.import_notes_folder,
                                            "Ctrl+Shift+O", icon("import"))
        self.quick_note_action = _action(self, "&Quick Note…", self.quick_note, "Ctrl+N")
        file_menu.addAction(self.import_action)
        file_menu.addAction(self.import_folder_action)
        file_menu.addAction(self.quick_note_action)
        self.import_memory_action = _action(self, "Import Memory &File…", self.import_memory_file)
        file_menu.addAction(self.import_memory_action)
        file_menu.addAction(self.memorize_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        self.find_action = _action(self, "&Find in the Library…", self.search.focus,
                                   QKeySequence.StandardKey.Find)
        edit_menu.addAction(self.find_action)
        self.settings_action = _action(self, "&Settings…", self.open_settings,
                                       QKeySequence.StandardKey.Preferences)
        if self.settings_action.shortcut().isEmpty():
            self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        edit_menu.addAction(self.settings_action)
        help_menu = self.menuBar().addMenu("&Help")
        self.about_action = _action(self, "&About Locas Reader", self.about)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(self.about_action)

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

    def import_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import books and chat logs", "", IMPORT_FILTERS)
        if paths:
            self.controller.import_files(list(paths))

    def import_memory_file(self) -> None:
        """A memory exported on this or another computer (its .safetensors or .json file)."""
        path, _ = QFileDialog.getOpenFileName(self, "Import a memory file", "",
                                              "Locas memories (*.safetensors *.json)")
        if path:
            self.controller.import_memory(path)

    def import_notes_folder(self) -> None:
        """A notes folder (an Obsidian or Logseq vault) is one document; importing it again syncs it."""
        folder = QFileDialog.getExistingDirectory(self, "Import or sync a notes folder")
        if folder:
            self.controller.import_files([folder])

    def quick_note(self) -> None:
        """Type a note; it is stored in the library and memorized into the chosen memory at once."""
        memory = self.question_panel.current_memory()
        target = f"memorized into “{memory}”" if memory else "stored (choose a memory to memorize it)"
        text, ok = QInputDialog.getMultiLineText(self, "Quick note", f"The note will be {target}:")
        if ok and text.strip():
            self.controller.quick_note(text.strip(), memory)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt naming)
        if _local_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if _local_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt naming)
        paths = _local_files(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.controller.import_files(paths)

    def show_error(self, title: str, message: str) -> None:
        """A readable message box (messages are sentences from the core, never tracebacks)."""
        QMessageBox.warning(self, title, message)

    def rename_document(self, doc_id: int) -> None:
        old = self.controller.document_titles([doc_id])[0]
        title, ok = QInputDialog.getText(self, "Rename document", f"New title for “{old}”:", text=old)
        if ok and title.strip() and title.strip() != old:
            self.controller.rename_document(doc_id, title.strip())

    def delete_document(self, doc_id: int) -> None:
        title = self.controller.document_titles([doc_id])[0]
        if _confirm(self, "Delete document",
                    f"Delete “{title}” from the library? Memories made from it keep what they learned."):
            self.controller.delete_document(doc_id)

    def rename_memory(self, name: str) -> None:
        new, ok = QInputDialog.getText(self, "Rename memory", f"New name for the memory “{name}”:",
                                       text=name)
        if ok and new.strip() and new.strip() != name:
            self.controller.rename_memory(name, new.strip())

    def delete_memory(self, name: str) -> None:
        if _confirm(self, "Delete memory",
                    f"Delete the memory “{name}” and its file? This cannot be undone."):
            self.controller.delete_memory(name)

    def export_memory(self, name: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export memory file", f"{name}.safetensors",
                                              "Locas memory (*.safetensors)")
        if path:
            self.controller.export_memory(name, dest=path)

    def export_model(self, name: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export merged model into an empty folder")
        if folder:
            self.controller.export_memory(name, merged_dir=folder)

    def show_memory_details(self, name: str) -> None:
        try:
            summary = self.controller.memory_summary(name)
        except Exception as exc:  # noqa: BLE001 - shown as a sentence
            from app.ui.bridge import user_message

            self.show_error("Memory", user_message(exc))
            return
        MemoryInfoDialog(summary, self).exec()

    def read_document(self, doc_id: int) -> ReaderDialog | None:
        """Open the document with its table of contents and previous / next."""
        try:
            dialog = ReaderDialog(self.controller.library, doc_id, parent=self)
        except Exception as exc:  # noqa: BLE001 - reading is a convenience; never crash
            from app.ui.bridge import user_message

            self.show_error("Read", user_message(exc))
            return None
        dialog.setModal(False)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()  # the keys (Alt+Left / Alt+Right) go to the reader at once
        self._reader = dialog
        return dialog

    # -- memorize -------------------------------------------------------------------------------
    def memorize_selected(self) -> None:
        ids = self.library_view.selected_document_ids()
        if not ids:
            ids = self.library_view.document_ids()[:1] if len(self.library_view.document_ids()) == 1 else []
        if not ids:
            text = ("Import a book or a chat log first (File ▸ Import, Ctrl+O), then memorize it."
                    if not self.library_view.document_ids() else
                    "Select one or more documents in the library first.")
            QMessageBox.information(self, "Memorize", text)
            return
        self.memorize_documents(ids)

    def memorize_documents(self, ids: list[int]) -> MemorizeDialog:
        c = self.controller
        dialog = MemorizeDialog(ids, c.document_titles(ids), c.memory_names(), c.settings, self,
                                sections=c.document_sections(ids[0]) if len(ids) == 1 else None,
                                estimator=c.memorize_cost, held=c.held_sections)
        dialog.start_requested.connect(lambda request: self._start_memorize(dialog, request))
        dialog.pause_requested.connect(self.controller.pause)
        dialog.resume_requested.connect(self.controller.resume)
        dialog.cancel_requested.connect(self.controller.cancel)
        dialog.setModal(False)
        dialog.show()
        return dialog

    def _start_memorize(self, dialog: MemorizeDialog, request: Any) -> None:
        if request.memory in self.controller.controls:
            self.show_error("Memorize", f"“{request.memory}” is already being memorized.")
            dialog.reject()
            return
        self.memorize_dialogs[request.memory] = dialog
        self._curves[request.memory] = []
        self.controller.memorize(request)
        self.refresh()

    def show_progress(self, name: str) -> MemorizeDialog:
        dialog = self.memorize_dialogs.get(name)
        if dialog is None:
            dialog = MemorizeDialog([], [], [], self.controller.settings, self)
            dialog.pause_requested.connect(self.controller.pause)
            dialog.resume_requested.connect(self.controller.resume)
            dialog.cancel_requested.connect(self.controller.cancel)
            dialog.show_progress(name, self._curves.get(name))
            self.memorize_dialogs[name] = dialog
        dialog.show()
        dialog.raise_()
        return dialog

    def _on_memorize_event(self, event: MemorizeEvent) -> None:
        if self._closing:
            return
        status = {"memorizing": "running", "loading": "running", "tokenizing": "running",
                  "estimate": "running", "cancelled": "stopped"}.get(event.phase, event.phase)
        self.library_view.update_progress(event.memory, status, event.tokens_done, event.tokens_total)
        if event.phase == "memorizing" and event.ppl is not None:
            self._curves.setdefault(event.memory, []).append((event.tokens_done, event.ppl))
        dialog = self.memorize_dialogs.get(event.memory)
        if dialog is not None:
            dialog.apply_event(event)
        if event.phase == "memorizing" and event.tokens_total:
            pct = 100 * event.tokens_done / event.tokens_total
            self.statusBar().showMessage(f"Memorizing “{event.memory}”: {pct:.0f}%", 4000)
        elif event.message:
            self.statusBar().showMessage(event.message, 6000)
        # "loading" comes right after the job created the memory's row: show the new memory in
        # the library and the picker at once (questions to it are served between its chunks).
        if event.phase in ("loading", "done", "cancelled", "failed"):
            QTimer.singleShot(0, self.refresh)

    def offer_resume(self) -> None:
        """On start: memorizations cut short by a crash or a kill can continue.

        A memory the user stopped (Stop, closing the app) is "stopped" and is not asked about: it
        resumes from its context menu. The question defaults to No, so a stray Enter never
        restarts a job of many hours.
        """
        names = self.controller.interrupted_memories()
        if not names:
            return
        listing = ", ".join(f"“{n}”" for n in names)
        answer = QMessageBox.question(
            self, "Resume memorizing?",
            f"Memorizing {listing} was cut short (the app closed unexpectedly). Resume from the last "
            "checkpoint now? You can also resume later from the memory's menu in the library.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            for name in names:
                self.controller.resume_memory(name)

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
            answer = QMessageBox.question(
                self, "Stop memorizing?",
                f"{listing} is still being memorized. Stop now? Progress is saved; resume it later "
                "from the memory's menu in the library.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
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


def _local_files(mime) -> list[str]:
    if mime is None or not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


def _action(parent: QWidget, text: str, slot, shortcut=None, qicon=None) -> QAction:
    action = QAction(text, parent)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if qicon is not None:
        action.setIcon(qicon)
    action.triggered.connect(slot)
    parent.addAction(action)
    return action


def _confirm(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes

