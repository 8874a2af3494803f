"""Shared data and helpers of the GUI tests (a plain module: conftest files are not importable)."""

from __future__ import annotations

NOTES = """# Garden notes

The quince tree by the north wall was planted by Ada Lindqvist in the autumn of 1987.
It fruits every second year; the jelly recipe uses lemon peel and a pinch of cardamom.
"""



def make_window(qtbot, preload_model: bool = False, offer_resume: bool = False):
    from app.ui.controller import AppController
    from app.ui.main_window import MainWindow

    window = MainWindow(AppController(), preload_model=preload_model, offer_resume=offer_resume)
    qtbot.addWidget(window)
    window.show()
    return window


class FakeSession:
    """What the controller asks of the worker's session when no model is needed."""

    library = None  # a test that resumes a memory gives it the window's library

    def backbone(self):
        from types import SimpleNamespace

        return SimpleNamespace(name="fake-model", device="cpu")

    def unload_memory(self, name: str) -> None:
        pass

    def memory(self, name: str):
        self.attached = [*getattr(self, "attached", []), name]


class PendingAnswer:
    """One submitted question; the test plays the engine: passages, tokens, then the answer."""

    def __init__(self, request, on_token, on_done, on_error, control, on_citations) -> None:
        self.request, self.control = request, control
        self._token, self._done, self._error, self._citations = on_token, on_done, on_error, on_citations

    def cite(self, passages) -> None:
        self._citations(passages)

    def token(self, piece: str) -> None:
        self._token(piece)

    def fail(self, exc: BaseException) -> None:
        self._error(exc)

    def finish(self, text: str, citations=(), seconds: float = 2.0, tokens: int = 10, **kw):
        from app.answer.pipeline import Answer

        answer = Answer(question=self.request.question, text=text, citations=list(citations),
                        memories=list(self.request.memories), seconds=seconds, tokens=tokens,
                        stopped=self.control.cancelled, **kw)
        self._done(answer)
        return answer


class PendingCompare:
    """One Compare: two answers written at once; the test plays each side (``a``: with the
    memory, ``b``: without) as a PendingAnswer, in any order; one control stops both."""

    def __init__(self, request_a, request_b, on_token, on_citations, on_answer, on_failed, control) -> None:
        from app.errors import user_message

        self.control = control

        def side(name: str, request) -> PendingAnswer:
            return PendingAnswer(request, lambda piece: on_token(name, piece),
                                 lambda answer: on_answer(name, answer),
                                 lambda exc: on_failed(name, user_message(exc)), control,
                                 lambda passages: on_citations(name, passages))

        self.a, self.b = side("a", request_a), side("b", request_b)


class PendingMemorize:
    """One submitted memorization; the test plays the job's events (and the library rows the
    real job writes, where the test needs them)."""

    def __init__(self, request, on_event, on_done, control) -> None:
        self.request, self.control = request, control
        self._event, self._done = on_event, on_done

    def event(self, phase: str, **kw) -> None:
        from app.memorize.job import MemorizeEvent

        self._event(MemorizeEvent(memory=self.request.memory, phase=phase, **kw))

    def finish(self, completed: bool, tokens_done: int, tokens_total: int) -> None:
        from pathlib import Path

        from app.memorize.job import MemorizeOutcome

        self._done(MemorizeOutcome(self.request.memory, completed, tokens_done, tokens_total, None, Path()))


class FakeWorker:
    """The engine worker's interface, run on the GUI thread; answers wait for the test."""

    def __init__(self) -> None:
        self.session = FakeSession()
        self.answers: list[PendingAnswer] = []
        self.compares: list[PendingCompare] = []
        self.memorizations: list[PendingMemorize] = []
        self.held: list[tuple] = []  # calls kept back while `hold` is set (a slow model load)
        self.hold = False

    def release(self) -> None:
        held, self.held, self.hold = self.held, [], False
        for call in held:
            self.submit(*call)

    def submit(self, fn, on_done=None, on_error=None) -> None:
        if self.hold:
            self.held.append((fn, on_done, on_error))
            return
        try:
            result = fn(self.session)
        except Exception as exc:  # noqa: BLE001 - handed back like the real worker does
            if on_error is not None:
                on_error(exc)
            return
        if on_done is not None:
            on_done(result)

    def submit_answer(self, request, on_token=None, on_done=None, on_error=None, control=None,
                      on_citations=None):
        from app.memorize.job import JobControl

        control = control or JobControl()
        self.answers.append(PendingAnswer(request, on_token, on_done, on_error, control, on_citations))
        return control

    def submit_compare(self, request_a, request_b, on_token=None, on_citations=None, on_answer=None,
                       on_failed=None, on_done=None, on_error=None, control=None):
        from app.memorize.job import JobControl

        control = control or JobControl()
        self.compares.append(PendingCompare(request_a, request_b, on_token, on_citations, on_answer,
                                            on_failed, control))
        return control

    def submit_memorize(self, request, on_event=None, control=None, on_done=None, on_error=None):
        from app.memorize.job import JobControl

        control = control or JobControl()
        self.memorizations.append(PendingMemorize(request, on_event, on_done, control))
        return control

    @property
    def busy(self) -> bool:
        return False

    def shutdown(self, timeout=None) -> None:
        pass


def make_fake_window(qtbot, preload_model: bool = False):
    """The main window on a fake engine: answers are played by the test (see PendingAnswer)."""
    from app.ui.controller import AppController
    from app.ui.main_window import MainWindow

    worker = FakeWorker()
    window = MainWindow(AppController(worker_factory=lambda: worker), preload_model=preload_model,
                        offer_resume=False)
    qtbot.addWidget(window)
    window.show()
    return window, worker
