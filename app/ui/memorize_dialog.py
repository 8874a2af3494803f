"""The Memorize dialog: pick a memory and settings, then watch the job run.

Page one chooses a new or an existing memory and the settings (advanced ones folded away); page
two shows the running job: a progress bar, tokens/s, ETA, a live perplexity curve and pause /
resume / stop. The dialog only shows events and emits the user's wishes as signals; the main
window owns the job, so closing this dialog leaves the memorization running in the background.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app import units
from app.memorize.job import MemorizeEvent, MemorizeRequest
from app.memorize.progress import RunState
from app.settings import Settings
from app.ui.chapter_picker import ChapterPicker, SectionRow
from app.ui.memorize_form import MemorizeSettingsForm
from app.ui.plot import PerplexityPlot
from app.ui.resources import icon
from locas_engine.spec import Specs

PHASE_TEXT = {
    "queued": "Waiting for the engine…",
    "loading": "Loading the model…",
    "tokenizing": "Reading the documents…",
    "estimate": "Starting…",
    "resumed": "Resuming from the last checkpoint…",
    "memorizing": "Memorizing",
    "paused": "Paused",
    "done": "Done",
    "cancelled": "Stopped (progress saved; resume later)",
    "failed": "Failed",
}


def suggest_memory_name(titles: list[str], taken: list[str]) -> str:
    """A readable default name from the first title that does not clash with an existing memory."""
    base = (titles[0] if titles else "memory").strip()[:40] or "memory"
    if len(titles) > 1:
        base += f" +{len(titles) - 1}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base} ({n})", n + 1
    return name


class MemorizeDialog(QDialog):
    start_requested = Signal(object)  # MemorizeRequest
    pause_requested = Signal(str)
    resume_requested = Signal(str)
    cancel_requested = Signal(str)

    def __init__(self, document_ids: list[int], titles: list[str], memories: list[str],
                 defaults: Settings, parent: QWidget | None = None,
                 sections: list[SectionRow] | None = None,
                 estimator: Callable[[MemorizeRequest], str] | None = None,
                 held: Callable[[str, int], set[int]] | None = None,
                 specs_of: Callable[[str], Specs] | None = None,
                 describe_held: Callable[[str, int], str] | None = None) -> None:
        """``sections`` (one document): its chapters, to pick from. ``estimator(request)``: the
        cost sentence shown before starting. ``held(memory, document)``: chapters it holds;
        ``describe_held(memory, document)``: that in words, with its tokens.
        ``specs_of(memory)``: an existing memory's own specs, which adding to it starts from."""
        super().__init__(parent)
        self._estimator = estimator
        self._held = held
        self._describe_held = describe_held
        self._defaults = defaults.specs
        self._specs_of = specs_of
        self.chapters = ChapterPicker(sections) if sections and len(document_ids) == 1 else None
        self.setWindowTitle("Memorize")
        self.setWindowIcon(icon("memory"))
        self.document_ids = list(document_ids)
        self.memory_name: str | None = None
        self._paused = False
        self._finished = False
        self.pages = QStackedWidget()
        self.pages.addWidget(self._setup_page(titles, memories, defaults))
        self.pages.addWidget(self._progress_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        # Only now is Start inside the dialog: set earlier, QDialog never learns of it and Enter
        # falls back to the first auto-default button (Cancel).
        self.start_button.setDefault(True)
        self.resize(860, 500)

    # -- page one: what and how -----------------------------------------------------------------
    def _setup_page(self, titles: list[str], memories: list[str], d: Settings) -> QWidget:
        # Two columns, so that the dialog fits a 600-pixel screen with the advanced settings
        # open: what to memorize on the left (the chapter list takes the height there), where
        # and how on the right; the cost and the buttons below both.
        page = QWidget()
        layout = QVBoxLayout(page)
        columns = QHBoxLayout()
        left, right = QVBoxLayout(), QVBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right)
        layout.addLayout(columns, 1)
        left.addWidget(QLabel("<b>Documents</b>"))
        docs = QListWidget()
        docs.addItems(titles)
        docs.setWordWrap(True)
        docs.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        if self.chapters is not None:
            docs.setMaximumHeight(docs.sizeHintForRow(0) + 2 * docs.frameWidth() + 4)
            left.addWidget(docs)
            self.chapters.list.setMinimumHeight(120)
            left.addWidget(self.chapters, 1)
            self.chapters.changed.connect(self.update_cost)
        else:
            left.addWidget(docs, 1)

        self.form = MemorizeSettingsForm(d)
        target = QGroupBox("Into which memory")
        form = QFormLayout(target)
        self.new_memory = QRadioButton("A new memory:")
        self.existing_memory = QRadioButton("An existing one:")
        group = QButtonGroup(self)
        group.addButton(self.new_memory)
        group.addButton(self.existing_memory)
        self.new_name = QLineEdit(suggest_memory_name(titles, memories))
        self.existing_name = QComboBox()
        self.existing_name.addItems(memories)
        form.addRow(self.new_memory, self.new_name)
        form.addRow(self.existing_memory, self.existing_name)
        self.new_memory.setChecked(True)
        self.existing_memory.setEnabled(bool(memories))
        self.new_memory.toggled.connect(self._sync_target)
        right.addWidget(target)

        settings_box = QGroupBox("Settings")
        QVBoxLayout(settings_box).addWidget(self.form)
        right.addWidget(settings_box)
        right.addStretch(1)
        for box in (target, settings_box):  # the chapter titles get the rest of the width
            box.setMaximumWidth(480)
        self.cost_label = QLabel("")
        self.cost_label.setObjectName("costLabel")
        self.cost_label.setWordWrap(True)
        layout.addWidget(self.cost_label)
        for signal in (self.form.rank.valueChanged, self.form.chunk.valueChanged,
                       self.form.context.valueChanged, self.form.steps.valueChanged,
                       self.form.layers.textChanged, self.form.precision.currentTextChanged,
                       self.existing_name.currentTextChanged):
            signal.connect(self.update_cost)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        self.start_button = QPushButton(icon("play"), "Start")
        self.start_button.setObjectName("primary")
        self.start_button.clicked.connect(self.start)
        buttons.addWidget(cancel)
        buttons.addWidget(self.start_button)
        layout.addLayout(buttons)
        self._sync_target()
        return page

    def _sync_target(self) -> None:
        new = self.new_memory.isChecked()
        self.new_name.setEnabled(new)
        self.existing_name.setEnabled(not new)
        self.form.set_shape_editable(new)
        self.update_cost()

    def update_cost(self, *_: object) -> None:
        """Say what Start would cost: tokens and time on this machine, before anything starts
        (again once the model is loaded: the speed measured here is the model's and device's)."""
        if self.pages.currentIndex() > 0:  # started: the progress page shows the real speed
            return
        if self.chapters is not None and self._held is not None:
            name = self.existing_name.currentText() if self.existing_memory.isChecked() else ""
            words = self._describe_held(name, self.document_ids[0]) if name and self._describe_held else ""
            self.chapters.mark_held(self._held(name, self.document_ids[0]) if name else set(), words)
        if self.chapters is not None and not self.chapters.checked_ids():
            self.cost_label.setText("Tick at least one chapter to memorize.")
        elif self._estimator is not None:
            self.cost_label.setText("Cost: " + self._estimator(self.request()))

    def request(self) -> MemorizeRequest:
        """The MemorizeRequest the current choices describe."""
        new = self.new_memory.isChecked()
        name = (self.new_name.text() if new else self.existing_name.currentText()).strip()
        # Adding to a memory starts from its own specs and keeps its shape and precision (those
        # rows are locked).
        base = self._specs_of(name) if not new and self._specs_of is not None else self._defaults
        chosen = self.chapters.chosen_ids() if self.chapters is not None else None
        if chosen is not None and not new and self._held is not None:  # held: not trained again
            held = self._held(name, self.document_ids[0]) if name else set()
            chosen = [i for i in chosen if i not in held]
        sections = {self.document_ids[0]: chosen} if chosen is not None else None
        return MemorizeRequest(document_ids=self.document_ids, memory=name, section_ids=sections,
                               specs=self.form.specs(base, shape=new))

    def start(self) -> None:
        request = self.request()
        if self.chapters is not None and (not self.chapters.checked_ids()
                                          or request.section_ids == {self.document_ids[0]: []}):
            self.chapters.list.setFocus()  # nothing ticked, or only chapters the memory holds
            return
        if not request.memory:
            self.new_name.setFocus()
            self.new_name.setPlaceholderText("Give the memory a name")
            return
        self.show_progress(request.memory)
        self.start_requested.emit(request)

    # -- page two: progress ---------------------------------------------------------------------
    def _progress_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.title_label = QLabel()
        self.title_label.setObjectName("sectionTitle")
        self.phase_label = QLabel(PHASE_TEXT["queued"])
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        stats = QHBoxLayout()
        self.tokens_label = QLabel("")
        self.speed_label = QLabel("")
        self.eta_label = QLabel("")
        for w in (self.tokens_label, self.speed_label, self.eta_label):
            stats.addWidget(w)
        stats.addStretch(1)
        self.plot = PerplexityPlot()
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        buttons = QHBoxLayout()
        self.pause_button = QPushButton(icon("pause"), "Pause")
        self.cancel_button = QPushButton(icon("stop"), "Stop")
        self.cancel_button.setToolTip("Stop and keep a checkpoint: the memory can be resumed later")
        self.close_button = QPushButton("Run in background")
        self.close_button.setToolTip("Close this window; the memorization goes on")
        for button in (self.pause_button, self.cancel_button):
            button.setAutoDefault(False)  # Enter must never pause or stop a long job
        self.pause_button.clicked.connect(self._toggle_pause)
        self.cancel_button.clicked.connect(self._cancel)
        self.close_button.clicked.connect(self.accept)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout.addWidget(self.title_label)
        layout.addWidget(self.phase_label)
        layout.addWidget(self.progress)
        layout.addLayout(stats)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.message_label)
        layout.addLayout(buttons)
        return page

    def show_progress(self, memory: str, curve: list[tuple[float, float]] | None = None) -> None:
        """Switch to the progress page for ``memory`` (also used to reopen a running job)."""
        self.memory_name = memory
        self.setWindowTitle(f"Memorizing into “{memory}”")
        self.title_label.setText(f"Memory “{memory}”")
        if curve:
            self.plot.set_points(curve)
        self.pages.setCurrentIndex(1)
        self.close_button.setDefault(True)  # Enter on this page only closes the window
        self.close_button.setFocus()

    def show_state(self, run: RunState) -> None:
        """Show where a run is now (a dialog opened after it started): phase, counts, speed,
        ETA and the curve so far, as the next events would have left them."""
        self.phase_label.setText(PHASE_TEXT.get(run.phase, run.phase))
        if run.tokens_total:
            self.progress.setValue(int(1000 * run.tokens_done / run.tokens_total))
            self.plot.set_x_max(run.tokens_total)
            self.tokens_label.setText(f"{run.tokens_done:,} / {run.tokens_total:,} tokens")
        self.speed_label.setText(f"{run.tokens_per_s:,.0f} tokens/s" if run.tokens_per_s else "")
        self.eta_label.setText(f"ETA {units.duration(run.eta_s, exact=True)}" if run.eta_s is not None else "")
        self.plot.set_points(run.curve)
        self.message_label.setText(run.message)
        self._set_paused(run.phase == "paused")

    def apply_event(self, event: MemorizeEvent) -> None:
        """Show one worker event (called on the GUI thread by the main window)."""
        if event.memory != self.memory_name:
            return
        self.phase_label.setText(PHASE_TEXT.get(event.phase, event.phase))
        if event.tokens_total:
            self.plot.set_x_max(event.tokens_total)
        if event.tokens_total and event.phase != "estimate":  # the estimate does not say where it starts
            self.progress.setValue(int(1000 * event.tokens_done / event.tokens_total))
            self.tokens_label.setText(f"{event.tokens_done:,} / {event.tokens_total:,} tokens")
        if event.tokens_per_s:
            self.speed_label.setText(f"{event.tokens_per_s:,.0f} tokens/s")
        if event.curve is not None:  # a resumed run: the curve so far, from its checkpoint
            self.plot.set_points(event.curve)
        if event.phase == "memorizing":
            if event.eta_s is not None:  # else the last ETA stands (just resumed from a pause)
                self.eta_label.setText(f"ETA {units.duration(event.eta_s, exact=True)}")
            if event.ppl is not None:
                self.plot.add_point(event.tokens_done, event.ppl)
        self.message_label.setText(event.message)  # each is about its own phase: none stays behind
        if event.phase == "paused":
            self._set_paused(True)
        elif event.phase == "memorizing" and self._paused:
            self._set_paused(False)
        if event.phase in ("done", "cancelled", "failed"):
            self._finished = True
            self.eta_label.setText("")
            self.pause_button.setEnabled(False)
            self.cancel_button.setEnabled(False)
            self.close_button.setText("Close")
            if event.phase == "done":
                self.progress.setValue(1000)

    def is_finished(self) -> bool:
        return self._finished

    def _toggle_pause(self) -> None:
        if self.memory_name is None:
            return
        if self._paused:
            self.resume_requested.emit(self.memory_name)
            self._set_paused(False)
        else:
            self.pause_requested.emit(self.memory_name)
            self._set_paused(True)
            self.phase_label.setText("Pausing after this chunk…")

    def _set_paused(self, paused: bool) -> None:
        self._paused = paused
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_button.setIcon(icon("play" if paused else "pause"))

    def _cancel(self) -> None:
        if self.memory_name is not None:
            self.cancel_requested.emit(self.memory_name)
            self.phase_label.setText("Stopping after this chunk (saving a checkpoint)…")
            self.cancel_button.setEnabled(False)


__all__ = ["MemorizeDialog", "suggest_memory_name"]
