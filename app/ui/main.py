"""`locas-reader`: open the desktop app."""

from __future__ import annotations

import logging
import sys

from PySide6.QtWidgets import QApplication

from app.ui.resources import icon, stylesheet


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
    import_model_code()
    # Imported after the QApplication exists: the controller starts the engine worker thread.
    from app.errors import UserError
    from app.ui.controller import AppController
    from app.ui.main_window import MainWindow

    try:
        controller = AppController()
    except UserError as exc:  # a damaged or busy library: a sentence, not a traceback
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(None, "Locas Reader cannot start", str(exc))
        return 1
    window = MainWindow(controller)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
