"""`locas-reader`: open the desktop app."""

from __future__ import annotations

import gc
import logging
import sys

from PySide6.QtWidgets import QApplication

from app.settings import Settings, load_settings
from app.ui.resources import icon, stylesheet

log = logging.getLogger(__name__)


def create_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication with the app's name, icon and style (reused if one already exists)."""
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Locas Reader")
    app.setOrganizationName("Locas")
    app.setWindowIcon(icon("app"))
    qss = stylesheet()
    if qss:
        app.setStyleSheet(qss)
    return app


def import_model_code() -> None:
    """Import transformers' model-loading code now, before the window shows.

    Loading a model imports about a thousand modules (torch's compiler, sympy, the model
    classes): seconds in which the import machinery holds the GIL in long stretches, so a window
    already on screen froze for up to a second at a time while the model loaded at start-up or
    at a resume (docs/benchmarks.md, GUI responsiveness). Imported here, they make the window
    appear that much later instead, and never freeze it."""
    import gguf  # noqa: F401
    import transformers.modeling_utils  # noqa: F401

    import app.models.inspect  # noqa: F401 - and what describing a model file needs (the model list)
    import app.ui.controller  # noqa: F401 - the window's own code
    import app.ui.main_window  # noqa: F401


def prepare_window_start(settings: Settings) -> None:
    """What the app does before its window shows, so that the model's load and the work after
    it never freeze the window (docs/benchmarks.md, GUI responsiveness):

    - the model code is imported (`import_model_code`);
    - the model's tokenizer is parsed, if its files are on disk: one call that holds the GIL
      for ~100 ms, which the engine worker's load of the model then skips;
    - everything imported so far is moved out of the garbage collector's sight (`gc.freeze`):
      those ~400,000 objects (modules, classes, functions) live as long as the app, yet a full
      collection, started by whichever thread happens to allocate, walked all of them while
      holding the GIL: 250-300 ms in which the window froze, at random while memorizing or
      answering. Objects made later (the model, the library's rows) are still collected."""
    import_model_code()
    try:
        from app.paths import model_cache_dir
        from locas_engine.backbone import preload_tokenizer

        preload_tokenizer(settings.model, cache_dir=model_cache_dir())
    except Exception:  # noqa: BLE001 - only a faster load is lost; the model's load reports errors
        log.debug("tokenizer not parsed before the window", exc_info=True)
    gc.collect()
    gc.freeze()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)[1:]  # argv, like sys.argv, has argv[0]
    if args[:1] == ["--self-test"]:  # headless: no QApplication, no display needed
        from app.selftest import main as self_test

        return self_test(args[1:])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from app.ui.display_check import display_problem

    problem = display_problem()
    if problem:  # Qt would abort with a plugin error that names no package
        print(problem, file=sys.stderr)
        return 1
    app = create_app(argv)
    settings = load_settings()
    prepare_window_start(settings)
    # Imported after the QApplication exists: the controller starts the engine worker thread.
    from app.errors import UserError
    from app.ui.controller import AppController
    from app.ui.main_window import MainWindow

    try:
        controller = AppController(settings=settings)
    except UserError as exc:  # a damaged or busy library: a sentence, not a traceback
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(None, "Locas Reader cannot start", str(exc))
        return 1
    window = MainWindow(controller)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
