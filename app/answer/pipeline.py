"""Answering a question: retrieve passages, write the answer with the chosen memories on, ground
it in the passage it rests on, and keep it in the history.

A plain function over a Session, like memorizing (app/memorize/job.py), so the command line, the
benchmarks and the GUI's engine worker all answer the same way.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from app.answer import choose as choose_module
from app.answer import rerank
from app.answer.attribution import Misattributed, misattributed
from app.answer.choose import best_quote, choose, question_form
from app.answer.grounding import (
    Grounded,
    cited_passage,
    ground,
    strip_citations,
    supporting_sentence,
    with_citation,
)
from app.answer.prompts import answer_budget, build_messages
from app.answer.source_lines import is_source_line
from app.errors import JobError
from app.library import Library, Passage
from app.memorize.job import JobControl
from app.session import Session
from locas_engine import Backbone, Route, only_enabled, route_memories, stream_generate
from locas_engine.generate import answer_logprob
from locas_engine.interrupt import Interrupted, interruptible
from locas_engine.timing import stage

# Whether passages holding only some of the question's words fill the list when fewer than
# asked hold all of them (library.search's ``fill``). It finds more: recall@4 of the gold
# passage (`locas bench retrieval`) LoCoMo conv26 +0.042 (+0.000 to +0.099), the book +0.070
# (+0.000 to +0.140). Yet the answers do not gain: QA F1 LoCoMo +0.006 (-0.002 to +0.015), the
# book -0.017 (-0.048 to +0.014), with more answers contradicting their passage there (16% ->
# 28%). Off; docs/answers.md.
SEARCH_FILL = False

__all__ = ["Answer", "AnswerRequest", "PreparedAnswer", "prepare_answer", "record_answer", "run_answer",
           "write_answer"]


@dataclass
class AnswerRequest:
    question: str
    memories: Sequence[str] = ()
    use_memory: bool = True
    use_retrieval: bool = True
    passages: int = 4
    max_new_tokens: int = 200
    document_ids: Sequence[int] | None = None  # retrieval scope; default: the memories' documents
    route: bool = True  # with several memories, answer with the one (or all) that best fits the question
    plain_ending: bool = True  # the memory-off model decides where the answer ends (generate_ids)
    history: Sequence[tuple[str, str]] = ()  # earlier (question, answer) turns: a follow-up question
    full_evidence: bool = False  # also score the answer without passages (one more model pass):
    # what the abstention rule's calibration reads (app/bench/qa.py); a reader's answer skips it


@dataclass
class Answer:
    question: str
    text: str
    citations: list[Passage] = field(default_factory=list)
    abstained: bool = False  # "The text does not say." (grounding.py)
    # what ``text`` is: the model's "draft", its chosen "option" or "yes-no" (choose.py), a
    # "quote" read off the text (a date; labelled so), or "abstained"
    chosen: str = "draft"
    cited: int | None = None  # index into citations of the passage the answer rests on
    support: tuple[int, int] | None = None  # the supporting sentence's offsets in that passage
    draft: str = ""  # what the model wrote, before abstention and the [n] mark
    evidence: dict | None = None
    memories: list[str] = field(default_factory=list)
    options: dict = field(default_factory=dict)  # how it was asked (stored in history)
    route: Route | None = None  # with several memories: the one(s) chosen and each one's loss
    seconds: float = 0.0
    tokens: int = 0  # tokens of the answer, for a tokens/s figure
    stopped: bool = False  # the user stopped it: the text is unfinished


@dataclass
class PreparedAnswer:
    """A question ready to be written: everything read from the library, nothing written yet.

    Holds the loaded model and the memories to switch on (already attached), so that writing
    needs neither the library nor the Session and can run on any thread.
    """

    request: AnswerRequest
    question: str
    backbone: Backbone
    citations: list[Passage]
    messages: list[dict[str, str]]
    memories: list[str]  # the ones switched on while writing (after routing)
    route: Route | None
    started: float  # perf_counter() when preparing began: Answer.seconds counts from here
    # the passages say what was asked of someone else (a chat): answered without writing
    misattributed: Misattributed | None = None


def run_answer(
    session: Session,
    request: AnswerRequest,
    on_token: Callable[[str], None] | None = None,
    control: JobControl | None = None,
    on_citations: Callable[[list[Passage]], None] | None = None,
) -> Answer:
    """Retrieve passages, build the prompt, stream the answer with the chosen memories on, and
    keep it in the history: `prepare_answer`, `write_answer`, `record_answer` in a row.

    ``on_citations`` gets the retrieved passages before the first token, so they can be read
    while the answer is written.
    """
    prepared = prepare_answer(session, request, on_citations)
    answer = write_answer(prepared, on_token, control)
    with stage("record"):
        record_answer(session.library, answer)
    return answer


def prepare_answer(session: Session, request: AnswerRequest,
                   on_citations: Callable[[list[Passage]], None] | None = None) -> PreparedAnswer:
    """The library's part before writing, on the Session's thread: the passages, the prompt, the
    model, and the memories to use (attached now; with several, routed to the best fitting)."""
    question = request.question.strip()
    if not question:
        raise JobError("Type a question first.")
    started = time.perf_counter()
    library = session.library
    scope = request.document_ids
    if scope is None and request.memories:
        scope = sorted({s["document_id"] for name in request.memories for s in library.memory_sources(name)
                        if s["status"] != "deleted"})
    citations: list[Passage] = []
    if request.use_retrieval and request.passages > 0:
        # with the rerank on, a wide list for the model to choose from (rerank.py)
        wide = rerank.RERANK is not None
        with stage("search"):
            citations = library.search(search_text(question, request.history), document_ids=scope,
                                       limit=rerank.CANDIDATES if wide else request.passages,
                                       fill=wide or SEARCH_FILL)
    # Without the rerank the passages are final now: shown at once, and a question about the
    # wrong person is known before any model work (it is answered without the model).
    reranking = rerank.RERANK is not None and len(citations) > request.passages
    found = None
    if not reranking:
        citations = citations[:request.passages]
        if on_citations is not None:
            on_citations(list(citations))
        found = misattributed(question, [p.text for p in citations])
    with stage("load"):  # the model, once per session
        backbone = session.backbone()
    names = list(request.memories) if request.use_memory else []
    route: Route | None = None
    if found is None and request.route and len(names) > 1:
        # The question and its best passage say which book it is about: answer with the memory
        # that predicts them best (or all, when together they do better); see routing.py.
        # Only the top passage: the lower-ranked ones often come from other books.
        with session.only_memories(names), stage("route"):  # attached, so that they can be judged
            route = route_memories(backbone, names, "\n\n".join([*(p.text for p in citations[:1]), question]))
        names = route.memories
    # Attached here (reads the library), so that writing does not need it; not for an answer
    # that will not be written (a misattributed question).
    with stage("attach"):
        for name in names if found is None else ():
            session.memory(name)
    if reranking:
        # the memorized model, its memories on, orders what the search found (rerank.py)
        with only_enabled(backbone.memories, names), stage("rerank"):
            citations = rerank.rerank(backbone, question, citations,
                                      [q for q, _ in request.history][-FOLLOW_UP_TURNS:])
        citations = citations[:request.passages]
        if on_citations is not None:
            on_citations(list(citations))
        found = misattributed(question, [p.text for p in citations])
    texts = [p.text for p in citations]
    messages = build_messages(question, texts, history=request.history)
    return PreparedAnswer(request=request, question=question, backbone=backbone, citations=citations,
                          messages=messages, memories=names, route=route, started=started,
                          misattributed=found)


FOLLOW_UP_TURNS = 2  # earlier questions a follow-up is searched with


def search_text(question: str, history: Sequence[tuple[str, str]] = ()) -> str:
    """What the full-text search looks for: a follow-up ("And what was his wife's name?") with the
    conversation's last earlier questions, which name what it refers to. On the question-kinds
    sets' 13 follow-ups the passage holding the answer came first 10 times instead of 7
    (docs/answers.md)."""
    earlier = [q for q, _ in history][-FOLLOW_UP_TURNS:]
    return " ".join([*earlier, question])


def write_answer(prepared: PreparedAnswer, on_token: Callable[[str], None] | None = None,
                 control: JobControl | None = None) -> Answer:
    """The model's part: stream the answer with exactly the prepared memories on and ground it.

    No library access, so it may run on a thread of its own: the memory switch holds in this
    thread's context only (locas_engine.only_enabled), and two answers with different memories
    can be written at once on one model (app/answer/compare.py).
    """
    request, question, citations = prepared.request, prepared.question, prepared.citations
    backbone, names = prepared.backbone, prepared.memories
    options = {"use_memory": request.use_memory, "use_retrieval": request.use_retrieval,
               "passages": request.passages, "max_new_tokens": request.max_new_tokens,
               "plain_ending": request.plain_ending}
    if request.history:
        options["follow_up"] = len(request.history)  # earlier turns the prompt held
    if prepared.misattributed is not None:
        # Any answer the model wrote would be about the wrong person: say whom the text means.
        found = prepared.misattributed
        return Answer(question=question, text=found.sentence(), citations=citations, abstained=True,
                      cited=found.passage, support=found.span, memories=names, options=options,
                      route=prepared.route, seconds=time.perf_counter() - prepared.started)
    pieces: list[str] = []
    logprobs: list[float] = []  # of the answer's tokens as written, passages in the prompt

    def confidence(passages: list[str], text: str) -> float:
        if passages:  # recorded while writing: no second pass over the long prompt
            return sum(logprobs) / len(logprobs) if logprobs else 0.0
        with stage("grounding/scoring"):  # a model pass over the prompt without passages
            return answer_logprob(backbone, build_messages(question, passages), text)

    budget = answer_budget(question, request.max_new_tokens)
    chosen = "draft"
    should_stop = (lambda: control.cancelled) if control else None
    # Stop also ends a forward pass between two layers (the prompt's first pass takes seconds).
    stoppable = interruptible(backbone.model, should_stop) if should_stop else contextlib.nullcontext()
    with only_enabled(backbone.memories, names), stoppable:
        try:
            for piece in stream_generate(backbone, prepared.messages, max_new_tokens=budget,
                                         plain_ending=request.plain_ending, logprobs=logprobs,
                                         source_line=is_source_line, should_stop=should_stop):
                pieces.append(piece)
                if on_token is not None:
                    on_token(piece)
        except Interrupted:  # stopped: the answer as it stands
            pass
        draft = "".join(pieces).strip()
        if control is not None and control.cancelled:  # unfinished: shown as it stands
            grounded = Grounded(draft, False, None, None, None)
        else:
            texts = [p.text for p in citations]
            with stage("grounding"):
                grounded = ground(question, draft, texts, [p.score for p in citations],
                                  confidence, full_evidence=request.full_evidence,
                                  at_budget=len(logprobs) >= budget)
            if texts and not grounded.abstained and not grounded.quote:
                with stage("choose"):  # candidate answers scored by the model (choose.py)
                    try:
                        chosen = _choose(prepared, draft, grounded)
                    except Interrupted:  # stopped while choosing: the draft stands
                        chosen = "draft"
    return Answer(question=question, text=grounded.text, citations=citations, abstained=grounded.abstained,
                  chosen="abstained" if grounded.abstained else "quote" if grounded.quote else chosen,
                  cited=grounded.cited, support=grounded.support, draft=draft, evidence=grounded.evidence,
                  memories=names, options=options, route=prepared.route,
                  seconds=time.perf_counter() - prepared.started,
                  tokens=len(logprobs),  # one per id the model wrote: no second tokenization
                  stopped=bool(control and control.cancelled))


def _choose(prepared: PreparedAnswer, draft: str, grounded: Grounded) -> str:
    """A choice or yes/no question: the memorized model's choice among the options; an open
    question: the draft, or the sentence of the passages the model chooses as a quote (choose.py,
    ``SHOW_QUOTE``). ``grounded`` is updated in place. Returns what was shown."""
    question, texts = prepared.question, [p.text for p in prepared.citations]
    form = question_form(question)
    if form.kind == "open":
        return _quote(prepared, grounded)
    choice = choose(prepared.backbone, form, strip_citations(draft), prepared.messages,
                    build_messages(question, [], history=prepared.request.history))
    if choice is None:
        return "draft"
    grounded.evidence = {**(grounded.evidence or {}),
                         "candidates": [{"text": c.text, "with": c.with_passages, "without": c.without}
                                        for c in choice.candidates]}
    if choice.origin == "draft":
        return "draft"
    cited = cited_passage(choice.text, texts)
    grounded.text, grounded.cited = with_citation(choice.text, cited), cited
    grounded.support = supporting_sentence(texts[cited], question, choice.text)
    return choice.origin


def _quote(prepared: PreparedAnswer, grounded: Grounded) -> str:
    """The model's quote for an open question, shown by the rule ``choose.SHOW_QUOTE``."""
    rule = choose_module.SHOW_QUOTE
    if rule == "never":
        return "draft"
    texts = [p.text for p in prepared.citations]
    quote = best_quote(prepared.backbone, prepared.question, texts, prepared.request.history)
    if quote is None:
        return "draft"
    evidence = grounded.evidence or {}
    grounded.evidence = {**evidence, "quote": quote.text, "quote_passage": quote.passage, "quote_gain": quote.gain}
    if rule == "unsupported" and evidence.get("answer_support", 0.0) >= choose_module.QUOTE_BELOW:
        return "draft"
    grounded.text = with_citation(quote.text, quote.passage)
    grounded.cited, grounded.support = quote.passage, quote.span
    return "quote"


def record_answer(library: Library, answer: Answer) -> None:
    """Keep the answer in the history (on the thread that owns ``library``): a stopped one as far
    as it was written, marked so; one stopped before its first word is not kept (nothing to read)."""
    if answer.stopped and not answer.text.strip():
        return
    names = answer.memories
    stored = {**answer.options, "memories": names}
    if answer.stopped:
        stored["stopped"] = True
    if answer.route is not None:  # history keeps the routing choice as plain JSON
        stored["route"] = {"chosen": answer.route.memories, "losses": answer.route.losses}
    library.add_history(memory=names[0] if len(names) == 1 else None, question=answer.question,
                        answer=answer.text, citations=[asdict(p) for p in answer.citations], options=stored)
