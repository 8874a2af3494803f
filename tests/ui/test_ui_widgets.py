"""Widget-level tests: no model, no library; each widget alone, offscreen."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.qt

from PySide6.QtCore import Qt  # noqa: E402

from app.memorize.job import MemorizeEvent  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.ui.library_rows import DocumentRow, MemoryRow  # noqa: E402
from app.ui.library_view import LibraryView  # noqa: E402
from app.ui.memorize_dialog import MemorizeDialog, suggest_memory_name  # noqa: E402
from app.ui.passage_dialog import PassageDialog, locate  # noqa: E402
from app.ui.plot import PerplexityPlot  # noqa: E402
from app.ui.resources import asset_path, icon, stylesheet  # noqa: E402
from app.ui.settings_dialog import SettingsDialog  # noqa: E402
from app.ui.widgets import fmt_size  # noqa: E402
from app.units import duration  # noqa: E402
from locas_engine.routing import Route  # noqa: E402


def test_assets_found_from_source_tree_and_bundle(tmp_path, monkeypatch, qapp):
    assert asset_path("icons/book.svg").exists()
    for name in ("book", "chat", "notes", "memory", "app"):
        assert not icon(name).isNull(), name
    assert "libraryView" in stylesheet()
    # A PyInstaller bundle unpacks assets under sys._MEIPASS: that root is searched first.
    (tmp_path / "assets" / "icons").mkdir(parents=True)
    (tmp_path / "assets" / "icons" / "only-in-bundle.svg").write_text("<svg/>")
    monkeypatch.setattr("sys._MEIPASS", str(tmp_path), raising=False)
    assert asset_path("icons/only-in-bundle.svg") == tmp_path / "assets" / "icons" / "only-in-bundle.svg"


def test_plot_draws_points_and_skips_nan(qtbot):
    plot = PerplexityPlot()
    qtbot.addWidget(plot)
    plot.resize(300, 160)
    plot.add_point(64, 40.0)
    plot.add_point(128, float("nan"))
    plot.add_point(192, 25.0)
    assert plot.points() == [(64.0, 40.0), (192.0, 25.0)]
    image = plot.grab().toImage()
    assert image.width() == 300  # painted without error


def test_formatting_helpers():
    assert duration(75, exact=True) == "1 min 15 s"
    assert duration(None, exact=True) == ""
    assert fmt_size(12_000) == "12k chars"


def test_settings_dialog_round_trip(qtbot):
    dialog = SettingsDialog(Settings.of(model="/models/x.gguf", device="cpu", rank=16))
    qtbot.addWidget(dialog)
    assert dialog.local_model.isChecked() and dialog.model_path.text() == "/models/x.gguf"
    assert not dialog.form.advanced.is_expanded()  # advanced settings are folded away
    dialog.default_model.setChecked(True)
    dialog.form.rank.setValue(8)
    dialog.form.chunk.setValue(64)
    dialog.form.output_scale.setValue(0.5)
    result = dialog.result_settings()
    assert (result.model, result.device, result.memory.rank, result.training.chunk) == ("default", "cpu", 8, 64)
    assert result.memory.output_scale == 0.5


def test_library_view_rows_progress_and_menu(qtbot):
    view = LibraryView()
    qtbot.addWidget(view)
    assert view.is_empty()
    view.set_rows([DocumentRow(1, "Alice", "book", ["L. Carroll"], 150_000)],
                  [MemoryRow("alice", "running", 100, 400)])
    item = view.memory_item("alice")
    assert item.text(3) == "memorizing"
    assert item.data(4, Qt.ItemDataRole.UserRole + 2) == pytest.approx(0.25)
    view.update_progress("alice", "done", 400, 400)
    assert view.memory_item("alice").text(3) == "ready"
    assert view.memory_item("alice").data(4, Qt.ItemDataRole.UserRole + 2) is None
    menu = view.context_menu_for(view.document_item(1))
    with qtbot.waitSignal(view.memorize_requested) as sig:
        next(a for a in menu.actions() if a.text().startswith("Memorize")).trigger()
    assert sig.args == [[1]]


def test_memorize_dialog_request_and_progress(qtbot):
    dialog = MemorizeDialog([3], ["Alice"], ["Alice"], Settings.of(rank=8, chunk=64))
    qtbot.addWidget(dialog)
    assert dialog.new_name.text() == "Alice (2)"  # never clashes with an existing memory
    assert not dialog.form.advanced.is_expanded()
    with qtbot.waitSignal(dialog.start_requested) as sig:
        dialog.start_button.click()
    request = sig.args[0]
    memory, training = request.specs
    assert (request.memory, memory.rank, training.chunk, list(request.document_ids)) == ("Alice (2)", 8, 64, [3])
    assert request.specs == Settings.of(rank=8, chunk=64).specs  # the pair, as the form built it
    dialog.apply_event(MemorizeEvent("Alice (2)", "memorizing", 64, 256, ppl=30.0, tokens_per_s=120, eta_s=2))
    assert dialog.progress.value() == 250
    assert "120 tokens/s" in dialog.speed_label.text() and "ETA 2 s" in dialog.eta_label.text()
    assert dialog.plot.points() == [(64.0, 30.0)]
    with qtbot.waitSignal(dialog.pause_requested):
        dialog.pause_button.click()
    assert dialog.pause_button.text() == "Resume"
    with qtbot.waitSignal(dialog.cancel_requested):
        dialog.cancel_button.click()
    assert suggest_memory_name(["A", "B"], []) == "A +1"


def test_memorize_dialog_into_an_existing_memory_keeps_its_shape(qtbot):
    """Adding to a memory continues training it: its shape rows are locked, and the request's
    pair starts from the memory's own specs with the dialog's training settings."""
    own = Settings.of(rank=6, output_scale=0.5, chunk=32, precision="fp32").specs
    dialog = MemorizeDialog([3], ["Alice"], ["alice"], Settings.of(rank=8, chunk=64, lr=2e-3),
                            specs_of=lambda name: own)
    qtbot.addWidget(dialog)
    dialog.existing_memory.setChecked(True)
    assert not dialog.form.rank.isEnabled() and not dialog.form.output_scale.isEnabled()
    assert dialog.form.lr.isEnabled() and dialog.form.chunk.isEnabled()
    request = dialog.request()
    memory, training = request.specs
    assert request.memory == "alice" and memory == own.memory  # its shape, not the form's rank 8
    assert (training.lr, training.chunk, training.precision) == (2e-3, 64, "fp32")


def test_passage_dialog_highlights_passage(qtbot):
    text = "First paragraph.\n\nThe cat   sat on\nthe mat.\n\nLast one."
    assert locate(text, "The cat sat on the mat.") == (18, 43)
    dialog = PassageDialog("Book", "Chapter 1", text, "The cat sat on the mat.")
    qtbot.addWidget(dialog)
    assert dialog.highlighted_text() == "The cat   sat on\nthe mat."
    dialog2 = PassageDialog("Book", "Ch", text, "ignored", start=0, end=5)
    qtbot.addWidget(dialog2)
    assert dialog2.highlighted_text() == "First"


def test_question_panel_offers_the_whole_shelf(qtbot):
    """With two or more memories the picker offers all of them; the answer job routes per question."""
    from types import SimpleNamespace

    from app.ui.question_panel import ALL_MEMORIES, SINGLE, QuestionPanel

    panel = QuestionPanel()
    qtbot.addWidget(panel)
    panel.set_memories(["lighthouse"])
    assert panel.memory_combo.findText(ALL_MEMORIES) < 0  # one memory is no shelf
    assert not panel.select_all_memories()

    panel.set_memories(["lighthouse", "apiary"])
    assert panel.current_memories() == ["lighthouse"]  # still the first memory, as before
    changed = []
    panel.memory_changed.connect(changed.append)
    assert panel.select_all_memories()
    assert panel.current_memories() == ["lighthouse", "apiary"]
    assert panel.current_memory() is None and changed == [None]  # history: all questions
    panel.question.setPlainText("What did Idris use to catch the swarm?")
    assert panel.options().memories == ["lighthouse", "apiary"]

    panel.set_memories(["lighthouse", "apiary", "orchard"])  # a refill keeps the shelf, grown
    assert panel.current_memories() == ["lighthouse", "apiary", "orchard"]
    panel.set_memories(["apiary"])  # the shelf is gone: back to the plain model, not a guess
    assert panel.current_memories() == []

    panel.begin(SINGLE)
    routed = SimpleNamespace(text="A straw skep.", citations=[], seconds=1.5, memories=["apiary"],
                             route=Route(["apiary"], {"apiary": 2.0, "all": 2.5}))
    panel.finish_answer(SINGLE, routed)
    assert "“apiary”" in panel.status.full_text() and panel.answer_text(SINGLE) == "A straw skep."


def test_the_answer_shows_the_sentence_that_supports_it(qtbot):
    """Under the answer, the cited passage's supporting sentence, highlighted (grounding.py)."""
    from types import SimpleNamespace

    from app.ui.question_panel import SINGLE, QuestionPanel

    panel = QuestionPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 500)
    text = "The Hare lay down to sleep. The Tortoise plodded on and won the race. Slow wins."
    passage = SimpleNamespace(text=text, document_title="Fables", section_title="The Hare and the Tortoise",
                              snippet="", start=0, end=len(text))
    answer = SimpleNamespace(text="The Tortoise won. [1]", citations=[passage], seconds=1.0, memories=[],
                             options={}, cited=0, support=(28, 69), abstained=False)
    panel.begin(SINGLE)
    panel.finish_answer(SINGLE, answer)
    shown = panel.answer_text(SINGLE)
    assert shown.startswith("The Tortoise won. [1]")
    assert "Supported by [1]:" in shown and "The Tortoise plodded on and won the race." in shown
    assert "#fff2a8" in panel.single.text.toHtml()  # highlighted, not just printed
    panel.grab().save("/tmp/wt18-support.png")

    abstained = SimpleNamespace(text="The text does not say.", citations=[passage], seconds=1.0,
                                memories=[], options={}, cited=0, support=None, abstained=True)
    panel.finish_answer(SINGLE, abstained)
    assert panel.answer_text(SINGLE) == "The text does not say."  # nothing claims to support it

    dated = SimpleNamespace(text="7 May 2023. [1]", citations=[passage], seconds=1.0, memories=[],
                            options={}, cited=0, support=(28, 69), abstained=False, chosen="quote")
    panel.finish_answer(SINGLE, dated)  # read off the text, not written by the model: labelled
    assert panel.answer_text(SINGLE).startswith("Quoted from the text: 7 May 2023. [1]")
    panel.resize(900, 600)
    panel.grab().save("/tmp/h28-quote-900.png")
    panel.resize(1400, 900)
    panel.grab().save("/tmp/h28-quote-1400.png")


def test_the_form_words_every_setting_of_the_engines_specs(qtbot):
    """The engine declares the settings (locas_engine/spec.py); the app words them (ROWS): a
    setting added to a spec without its row would be a form without a label."""
    from app.ui.memorize_form import ROWS, MemorizeSettingsForm
    from locas_engine import spec

    assert list(ROWS) == [name for name, _, _ in spec.all_knobs()]
    form = MemorizeSettingsForm(Settings())
    qtbot.addWidget(form)
    assert set(form.widgets) == set(ROWS)  # precision too (Advanced ▸ Precision)
    assert form.lr.decimals() == 5 and form.lr.toolTip().startswith("AdamW learning rate")
