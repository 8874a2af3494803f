"""Models on this computer: a table of what `app.models.discover` finds, and a choice.

Opened from Settings ("Models on this computer…"). Finding and describing models reads config
files and GGUF headers (a model not seen before takes a second or so; one described before is
read from the data folder's cache), so it runs on the task manager's thread, never on the GUI
thread; each model gets its row as soon as it is described. A model that does not fit stays in the table, greyed, with its reason shown
when selected, and cannot be chosen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import units
from app.models.inspect import ModelInfo

LOOKING = "Looking for models (Hugging Face cache, LM Studio, GPT4All, Ollama)…"
COLUMNS = ["Model", "Found in", "Size", "Architecture", "Parameters", "Locas", "Memory to run"]
Runner = Callable[[Callable[[], object], Callable[[object], None]], None]
Poster = Callable[..., None]  # post(callback, *args): call it on the GUI thread


def _sync_runner(fn, on_done) -> None:
    on_done(fn())


def _call_now(callback, *args) -> None:
    callback(*args)


class ModelManagerDialog(QDialog):
    """Lists the models found; `chosen_setting()` is the Settings.model value picked (or None)."""

    def __init__(self, discover: Callable[[], Iterable[ModelInfo]], inspect: Callable[[str], ModelInfo],
                 choose: Callable[[ModelInfo], str], run: Runner = _sync_runner,
                 post: Poster = _call_now, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models on this computer")
        self.resize(860, 420)
        self._inspect, self._choose, self._run, self._post = inspect, choose, run, post
        self.models: list[ModelInfo] = []
        self._chosen: str | None = None
        self._searching = True  # cleared when the dialog closes: the search stops at the next model

        layout = QVBoxLayout(self)
        self.status = QLabel(LOOKING)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.detail)

        row = QHBoxLayout()
        self.add_folder = QPushButton("Add folder…")
        self.add_gguf = QPushButton("Add .gguf file…")
        row.addWidget(self.add_folder)
        row.addWidget(self.add_gguf)
        row.addStretch(1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.use_button = self.buttons.addButton("Use this model", QDialogButtonBox.ButtonRole.AcceptRole)
        self.use_button.setEnabled(False)
        row.addWidget(self.buttons)
        layout.addLayout(row)

        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.itemActivated.connect(lambda _item: self.accept())
        self.add_folder.clicked.connect(self._pick_folder)
        self.add_gguf.clicked.connect(self._pick_gguf)
        self.finished.connect(self._stop_search)
        self._run(lambda: self._search(discover), self._on_search_done)

    # -- filling the table ----------------------------------------------------------------------
    def _search(self, discover: Callable[[], Iterable[ModelInfo]]) -> None:
        """On the task thread: each model found is handed to the GUI thread as it is described."""
        for info in discover():
            if not self._searching:
                return
            self._post(self._on_found, info)

    def _stop_search(self) -> None:
        self._searching = False

    def _on_found(self, info: ModelInfo) -> None:
        self.add_model(info)
        n = len(self.models)
        self.status.setText(f"{n} model{'s' if n != 1 else ''} found so far. {LOOKING}")

    def _on_search_done(self, _result: object = None) -> None:
        self._searching = False
        n = len(self.models)
        fit = sum(m.fits for m in self.models)
        self.status.setText(
            f"{n} model{'s' if n != 1 else ''} found, {fit} that Locas fits. Nothing is downloaded; "
            "add a folder or .gguf file that is elsewhere." if n else
            "No models found in the usual places. Add a model folder or a .gguf file."
        )

    def add_model(self, info: ModelInfo) -> int:
        """Append a row (selecting it when it was added by hand); returns its row number."""
        self.models.append(info)
        r = self.table.rowCount()
        self.table.insertRow(r)
        params = f"{units.count(info.parameters, empty='–')} {info.weights or ''}".strip()
        cells = [info.name, info.source, units.size(info.size_bytes, empty='–'), info.architecture or "?",
                 params if info.parameters else "–", info.method or "does not fit",
                 units.size(info.memory_bytes, empty='–')]
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(info.problem or str(info.path))
            if not info.fits:
                item.setForeground(QColor("#888888"))
            self.table.setItem(r, c, item)
        return r

    # -- choosing -------------------------------------------------------------------------------
    def selected(self) -> ModelInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.models[rows[0].row()] if rows else None

    def _on_selection(self) -> None:
        info = self.selected()
        self.use_button.setEnabled(bool(info and info.fits))
        if info is None:
            self.detail.setText("")
        elif info.fits:
            self.detail.setStyleSheet("")
            self.detail.setText(f"{info.path}\nFits Locas ({info.method}).")
        else:
            self.detail.setStyleSheet("color: #b00020;")
            self.detail.setText(f"{info.path}\n{info.problem}")

    def accept(self) -> None:
        info = self.selected()
        if info is None or not info.fits:  # Enter on a model that does not fit: say why, stay
            self._on_selection()
            return
        self._chosen = self._choose(info)
        super().accept()

    def chosen_setting(self) -> str | None:
        return self._chosen

    def add_path(self, path: str) -> None:
        """Describe a folder or file chosen by hand (on the task thread) and select it."""
        self.status.setText(f"Reading {path}…")
        self._run(lambda: self._inspect(path), self._on_added)

    def _on_added(self, info: ModelInfo) -> None:
        self.table.selectRow(self.add_model(info))
        self.status.setText(f"Added {info.name}.")

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if folder:
            self.add_path(folder)

    def _pick_gguf(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF model", "", "GGUF models (*.gguf)")
        if path:
            self.add_path(path)
