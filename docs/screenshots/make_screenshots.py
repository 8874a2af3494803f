"""Take the README's screenshots of the main flows, offscreen, with the real default model.

    QT_QPA_PLATFORM=offscreen python3 docs/screenshots/make_screenshots.py

Uses a throw-away library (LOCAS_HOME in a temp folder, sharing the user's model cache), imports
a short story and a real EPUB, memorizes the story with small settings, asks and compares, and
grabs each window into docs/screenshots/*.png.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "ui"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

BOOK = ROOT.parent / "shared" / "data" / "books" / "childrens-literature.epub"


def main() -> int:
    from app.paths import model_cache_dir

    cache = model_cache_dir().resolve()
    home = Path(tempfile.mkdtemp(prefix="locas-shots-"))
    (home / "models").symlink_to(cache, target_is_directory=True)
    os.environ["LOCAS_HOME"] = str(home)

    import importlib.util

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    spec = importlib.util.spec_from_file_location("tests_conftest", ROOT / "tests" / "conftest.py")
    tests_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tests_conftest)
    STORY = tests_conftest.STORY  # the same short story the GUI tests use

    from app.settings import Settings, save_settings
    from app.ui.main import create_app

    save_settings(Settings.of(rank=8, chunk=64, context=64, checkpoint_every=1, max_new_tokens=40,
                              passages=2, device="cpu"))
    app = create_app([])
    QMessageBox.question = staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)
    from app.ui.controller import AppController
    from app.ui.main_window import MainWindow

    def wait_until(cond, timeout: float = 1200.0) -> None:
        end = time.time() + timeout
        while not cond():
            if time.time() > end:
                raise TimeoutError("screenshot step timed out")
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.02)

    def settle(seconds: float = 0.3) -> None:
        end = time.time() + seconds
        while time.time() < end:
            app.processEvents()
            time.sleep(0.02)

    def shot(widget, name: str) -> None:
        settle()
        widget.grab().save(str(OUT / name))
        print("saved", OUT / name)

    controller = AppController()
    window = MainWindow(controller, preload_model=True, offer_resume=False)
    window.resize(1280, 780)
    window.show()
    shot(window, "01-empty-library.png")

    story = home / "The Lighthouse Keeper.txt"
    story.write_text(STORY, encoding="utf-8")
    paths = [str(story)] + ([str(BOOK)] if BOOK.exists() else [])
    controller.import_files(paths)
    wait_until(lambda: len(window.library_view.document_ids()) == len(paths))
    wait_until(lambda: controller.model_name is not None)
    shot(window, "02-library.png")

    story_id = window.library_view.document_ids()[0]
    # The book's chapters to pick from, a few ticked, and what they would cost here.
    chosen = window.memorize_documents([window.library_view.document_ids()[-1]])
    if chosen.chapters is not None:
        chosen.chapters.set_checked({3, 4, 6})
    chosen.form.advanced.set_expanded(True)
    chosen.resize(860, 560)  # fits a 600 px tall screen (issue 30)
    shot(chosen, "03-memorize-settings.png")
    chosen.reject()

    dialog = window.memorize_documents([story_id])
    dialog.new_name.setText("lighthouse")
    dialog.start_button.click()
    wait_until(lambda: len(dialog.plot.points()) >= 4)
    shot(dialog, "04-memorize-progress.png")
    shot(window, "05-main-memorizing.png")
    wait_until(lambda: (controller.library.get_memory("lighthouse") or {}).get("status") == "done")
    wait_until(dialog.is_finished)
    dialog.close()

    panel = window.question_panel
    panel.select_memory("lighthouse")
    panel.question.setPlainText("Who kept the lighthouse light, and for how long?")
    panel.ask_button.click()
    wait_until(lambda: not panel.is_answering())
    shot(window, "06-answer-with-citations.png")

    panel.question.setPlainText("What did she teach the boy?")  # a follow-up question
    panel.ask_button.click()
    wait_until(lambda: not panel.is_answering())
    shot(window, "13-follow-up.png")

    reader = window.open_passage(panel.citations.item(0).data(0x0100))
    reader.resize(760, 520)
    shot(reader, "07-passage-in-context.png")
    reader.close()

    panel.compare_button.click()
    wait_until(lambda: not panel.is_answering())
    shot(window, "08-compare.png")

    from app.ui.memory_info_dialog import MemoryInfoDialog

    info = MemoryInfoDialog(controller.memory_summary("lighthouse"), window)
    info.show()
    shot(info, "09-memory-details.png")
    info.close()

    settings = window.open_settings()
    settings.form.advanced.set_expanded(True)
    settings.adjustSize()
    shot(settings, "10-settings.png")
    # The model manager, searching an empty home: only installed model packages show, never
    # the paths of the machine the screenshots are made on.
    os.environ["LOCAS_MODEL_SEARCH_HOME"] = str(home)
    models = settings.open_model_manager()
    wait_until(lambda: "found" in models.status.text())
    models.table.selectRow(0)
    shot(models, "12-models.png")
    models.reject()
    settings.reject()

    window.search.box.setText("brass key")
    window.search.box.returnPressed.emit()
    wait_until(lambda: window.left_stack.currentWidget() is window.search_results)
    shot(window, "14-library-search.png")
    window.search.close_results()
    window.search.box.clear()

    book = window.library_view.document_ids()[-1]
    book_reader = window.read_document(book)
    book_reader.step(1)
    book_reader.step(1)
    shot(book_reader, "15-read-with-contents.png")
    book_reader.close()

    menu = window.library_view.context_menu_for(window.library_view.memory_item("lighthouse"))
    menu.popup(window.library_view.viewport().mapToGlobal(window.library_view.visualItemRect(
        window.library_view.memory_item("lighthouse")).center()))
    shot(menu, "11-memory-menu.png")
    menu.close()

    QTimer.singleShot(0, window.close)
    settle(0.5)
    QApplication.instance().quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
