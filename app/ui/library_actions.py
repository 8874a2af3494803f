"""The main window's library actions: import (dialogs and drag and drop), rename, delete,
export, a memory's details and reading a document.

A mixin of `MainWindow` (it uses its controller, question panel and ``show_error``), kept apart
so the window module stays about layout and wiring. Each action asks the person what it needs
(a file, a name, a confirmation) and hands the rest to the controller.
"""

from __future__ import annotations

from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from app.ui.memory_info_dialog import MemoryInfoDialog, curve_points
from app.ui.reader_dialog import ReaderDialog
from app.ui.taskman import user_message

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


class LibraryActions:
    """Library actions; needs ``controller``, ``question_panel`` and ``show_error`` on the window."""

    def import_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import books and chat logs", "", IMPORT_FILTERS)
        if paths:
            self.controller.import_files(list(paths))

    def import_memory_file(self) -> None:
        """A memory exported on this or another computer (its .safetensors or .json file)."""
        path, _ = QFileDialog.getOpenFileName(self, "Import a memory file", "",
                                              "Locas memories (*.safetensors *.json)")
        if path:
            self.controller.memory_file_name(path, lambda name: self.import_memory_as(path, name))

    def import_memory_as(self, path: str, name: str) -> None:
        """Import under the file's own name, or, when a memory already has it, under a name the
        person gives (suggested: “name (2)”); Cancel imports nothing."""
        from app.ui.memorize_dialog import suggest_memory_name

        taken = self.controller.memory_names()
        while name in taken:
            new, ok = QInputDialog.getText(
                self, "Import memory",
                f"A memory named “{name}” is already in the library. Import this one as:",
                text=suggest_memory_name([name], taken))
            if not ok or not new.strip():
                return
            name = new.strip()
        self.controller.import_memory(path, name=name)

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

    def rename_document(self, doc_id: int) -> None:
        old = self.controller.document_titles([doc_id])[0]
        title, ok = QInputDialog.getText(self, "Rename document", f"New title for “{old}”:", text=old)
        if ok and title.strip() and title.strip() != old:
            self.controller.rename_document(doc_id, title.strip())

    def delete_document(self, doc_id: int) -> None:
        title = self.controller.document_titles([doc_id])[0]
        if confirm(self, "Delete document",
                    f"Delete “{title}” from the library? Memories made from it keep what they learned."):
            self.controller.delete_document(doc_id)

    def _refused(self, name: str, action: str, title: str) -> bool:
        """Say at once why the action cannot be done now, before asking anything."""
        refusal = self.controller.busy_refusal(name, action)
        if refusal:
            self.show_error(title, refusal)
        return bool(refusal)

    def rename_memory(self, name: str) -> None:
        if self._refused(name, "rename", "Rename memory"):
            return
        new, ok = QInputDialog.getText(self, "Rename memory", f"New name for the memory “{name}”:",
                                       text=name)
        if ok and new.strip() and new.strip() != name:
            self.controller.rename_memory(name, new.strip())

    def delete_memory(self, name: str) -> None:
        if self._refused(name, "delete", "Delete memory"):
            return
        if confirm(self, "Delete memory",
                    f"Delete the memory “{name}” and its file? This cannot be undone."):
            self.controller.delete_memory(name)

    def export_memory(self, name: str) -> None:
        if self._refused(name, "export", "Export memory"):
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export memory file", f"{name}.safetensors",
                                              "Locas memory (*.safetensors)")
        if path:
            self.controller.export_memory(name, dest=path)

    def export_model(self, name: str) -> None:
        if self._refused(name, "export", "Export merged model"):
            return
        folder = QFileDialog.getExistingDirectory(self, "Export merged model into an empty folder")
        if folder:
            self.controller.export_memory(name, merged_dir=folder)

    def show_memory_details(self, name: str) -> None:
        try:
            summary = self.controller.memory_summary(name)
        except Exception as exc:  # noqa: BLE001 - shown as a sentence
            self.show_error("Memory", user_message(exc))
            return
        run = self.controller.run_state(name)
        if run is not None:  # memorizing: the events are newer than the library's checkpoint count
            summary = {**summary, "status": run.status,
                       "tokens_total": run.tokens_total or summary.get("tokens_total")}
        if run is not None and run.curve:  # the file has the earlier runs' curve; this run's so far
            before = curve_points(summary.get("curve"))
            offset = before[-1][0] if before else 0
            summary = {**summary, "curve": before + [(offset + x, y) for x, y in run.curve],
                       "curve_end": offset + (summary.get("tokens_total") or 0)}
        self.memory_info = MemoryInfoDialog(summary, self)
        self.memory_info.exec()

    def read_document(self, doc_id: int) -> ReaderDialog | None:
        """Open the document with its table of contents and previous / next."""
        try:
            dialog = ReaderDialog(self.controller.library, doc_id, parent=self)
        except Exception as exc:  # noqa: BLE001 - reading is a convenience; never crash
            self.show_error("Read", user_message(exc))
            return None
        dialog.setModal(False)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()  # the keys (Alt+Left / Alt+Right) go to the reader at once
        self._reader = dialog
        return dialog



def _local_files(mime) -> list[str]:
    if mime is None or not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


def confirm(parent: QWidget, title: str, text: str, default_yes: bool = False) -> bool:
    """A Yes/No question; No is what Enter picks unless ``default_yes``."""
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(parent, title, text, buttons.Yes | buttons.No,
                                  buttons.Yes if default_yes else buttons.No)
    return answer == buttons.Yes

