"""Issue 14 in the GUI: the Memorize dialog lists a document's chapters to tick, and says the
token count and the time before anything starts."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.qt

from PySide6.QtCore import Qt  # noqa: E402

from app.settings import Settings  # noqa: E402
from app.ui.memorize_dialog import MemorizeDialog  # noqa: E402
from locas_engine.spec import Specs  # noqa: E402

SECTIONS = [(11, "1. Chapter One", 4000), (12, "2. Chapter Two", 2000), (13, "3. Chapter Three", 1000)]


def test_ticking_chapters_changes_the_request_and_the_cost(qtbot):
    asked = []

    def estimator(request):
        asked.append(request)
        chosen = (request.section_ids or {}).get(3)
        return f"{len(chosen) if chosen is not None else 'all'} chapters"

    dialog = MemorizeDialog([3], ["Alice"], ["alice"], Settings.of(rank=8, chunk=64), sections=SECTIONS,
                            estimator=estimator, held=lambda memory, doc: {11} if memory == "alice" else set())
    qtbot.addWidget(dialog)
    dialog.show()
    chapters = dialog.chapters.list
    assert chapters.count() == 3 and chapters.item(0).text().startswith("1. Chapter One")
    assert dialog.cost_label.text() == "Cost: all chapters"  # said before Start
    # A person unticks chapter 1 with the keyboard.
    chapters.setFocus()
    chapters.setCurrentRow(0)
    qtbot.keyClick(chapters, Qt.Key.Key_Space)
    assert chapters.item(0).checkState() == Qt.CheckState.Unchecked
    assert dialog.cost_label.text() == "Cost: 2 chapters"
    with qtbot.waitSignal(dialog.start_requested) as sig:
        dialog.start_button.click()
    assert sig.args[0].section_ids == {3: [12, 13]}


def test_no_chapter_ticked_cannot_start_and_held_ones_are_marked(qtbot):
    dialog = MemorizeDialog([3], ["Alice"], ["alice"], Settings(), sections=SECTIONS,
                            estimator=lambda r: "x", held=lambda memory, doc: {11})
    qtbot.addWidget(dialog)
    dialog.chapters.none_button.click()
    assert dialog.cost_label.text() == "Tick at least one chapter to memorize."
    with qtbot.assertNotEmitted(dialog.start_requested):
        dialog.start_button.click()
    dialog.chapters.all_button.click()
    assert dialog.request().section_ids is None  # every chapter: the whole document
    dialog.existing_memory.setChecked(True)
    assert dialog.chapters.list.item(0).text().endswith("already in this memory")
    assert not dialog.chapters.list.item(1).text().endswith("already in this memory")


def test_window_dialog_says_tokens_and_time_from_the_library(window, qtbot, story_file):
    window.controller.import_files([str(story_file)])
    qtbot.waitUntil(lambda: bool(window.controller.library.list_documents()), timeout=30000)
    doc = window.controller.library.list_documents()[0]
    dialog = window.memorize_documents([doc.id])
    qtbot.addWidget(dialog)
    assert dialog.chapters is not None and dialog.chapters.list.count() == 2
    text = dialog.cost_label.text()
    assert re.search(r"Cost: about [\d,]+ tokens: about \d+ (s|min) on this machine", text), text
    assert "nothing measured here yet" in text
    before = int(re.search(r"about ([\d,]+) tokens", text).group(1).replace(",", ""))
    dialog.chapters.list.item(1).setCheckState(Qt.CheckState.Unchecked)
    after = int(re.search(r"about ([\d,]+) tokens", dialog.cost_label.text()).group(1).replace(",", ""))
    assert 0 < after < before
    dialog.reject()


def test_enter_in_the_chapter_list_starts(qtbot):
    dialog = MemorizeDialog([3], ["Alice"], [], Settings.of(rank=8, chunk=64), sections=SECTIONS,
                            estimator=lambda r: "x")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.chapters.list.setFocus()
    dialog.chapters.list.setCurrentRow(1)
    with qtbot.waitSignal(dialog.start_requested, timeout=2000) as sig:
        qtbot.keyClick(dialog.chapters.list, Qt.Key.Key_Return)
    assert sig.args[0].section_ids is None and dialog.pages.currentIndex() == 1


def test_the_dialogs_cost_chooses_specs_as_the_job_does(qtbot, tmp_path):
    """The cost line must use the specs the job will use: the dialog's pair for an existing
    memory starts from the memory's own (its precision, say) and takes the dialog's speed
    settings (as in app.memorize.job.choose_specs), and specs the job would refuse are said
    before Start."""
    from dataclasses import replace

    from ui_helpers import make_fake_window

    from app.memorize.estimate import record_throughput
    from app.memorize.job import MemorizeRequest
    from app.memorize.specs import write_specs

    window, _worker = make_fake_window(qtbot)
    controller = window.controller
    controller.model_name, controller.model_device = "tiny", "cpu"
    memory, training = controller.settings.specs
    own = Specs(memory, replace(training, chunk=128, precision="fp32"))
    stem = tmp_path / "kept"
    write_specs(stem, own)
    controller.library.create_memory("kept", path=str(stem))
    assert controller.memorize_specs("kept") == own  # what the dialog starts from
    asked = Specs(memory, replace(own.training, chunk=512))
    request = MemorizeRequest(document_ids=[1], memory="kept", specs=asked)
    record_throughput("tiny", "cpu", [own], tokens=1000, seconds=10.0)  # the memory's own
    record_throughput("tiny", "cpu", [asked], tokens=1000, seconds=2.0)  # what the job will run
    assert "500 tokens/s measured here with these settings" in controller.memorize_cost(request)
    other_shape = Specs(replace(memory, rank=3), own.training)
    refused = controller.memorize_cost(MemorizeRequest(document_ids=[1], memory="kept", specs=other_shape))
    assert refused.startswith("Memory 'kept' was made with rank=")
    window.close()


def test_the_cost_line_uses_the_speed_measured_on_this_machine(qtbot, story_file):
    """Two runs left 12 tokens/s in throughput.json; Ctrl+M on the book must say so, not the
    cautious figure for a machine where nothing was measured (the controller once looked the
    speed up under the status bar's words for the device, "CPU (2 threads)", not 'cpu')."""
    from PySide6.QtWidgets import QApplication
    from ui_helpers import make_fake_window

    from app.memorize.estimate import record_throughput

    window, _worker = make_fake_window(qtbot, preload_model=True)
    controller = window.controller
    qtbot.waitUntil(lambda: controller.model_name == "fake-model", timeout=5000)
    assert window.device_label.text().startswith("Device: CPU (")  # words for a person
    record_throughput("fake-model", "cpu", [controller.settings.specs], tokens=1200, seconds=100.0)
    doc_id = controller.library.import_file(story_file).id
    window.refresh()
    window.library_view.document_item(doc_id).setSelected(True)
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MemorizeDialog) and w.isVisible())
    qtbot.addWidget(dialog)
    text = dialog.cost_label.text()
    assert "12 tokens/s measured here with these settings" in text, text
    assert "nothing measured here yet" not in text
    dialog.reject()
    window.close()
