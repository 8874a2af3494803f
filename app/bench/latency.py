"""Where a reader waits: an answer's latency, stage by stage, against a bare transformers generate.

    locas bench latency [--file FILE] [--questions SET.json | --locomo CONV.json] [--n 12]
                        [--modes memory+retrieval retrieval] [--home DIR] [--json out.json]

The text (default: the shipped sample, assets/sample/aesop-fables.txt) is imported and memorized
with the app's defaults in a temporary data folder (``--home`` reuses one, and its memory). Then
each question (default: the sample's question set, benchmarks/data/kinds-aesop.json, follow-ups
left out; ``--locomo`` asks a LoCoMo conversation's own questions) is asked as `locas ask` asks
it (``run_answer``: search, prompt, the answer streamed, grounded and kept in the history), and
the same prompt is given to transformers' ``generate`` for the same number of new tokens, with
the same memories on and nothing else (greedy, no rules, no plain-model ending): the floor.

Per mode, medians over the questions:
  first word   seconds from asking to the first piece of text the reader is shown
  answer       seconds to the whole answer
  bare         seconds of the bare ``generate``, and its own first token
  ratio        answer / bare, per question
  tok/s        decoding speed after the first token: the app's decode passes, and the bare one's
  stages       seconds in each stage the pipeline reports (`locas_engine.timing`): load, search,
               attach, route, prompt, prefill, decode, rules, grounding (``grounding/scoring``,
               nested in it: its own model pass), record. A stage added to the pipeline appears
               here without a change to this bench.
One warm-up question runs first and is not counted (the model's load and first calls).

Both the app and the bare ``generate`` decode on a thread of their own: on a loaded 2-core
machine, torch's OpenMP threads on the main thread ran small operations up to 10x slower than on
a second thread (issue 32), which would make the baseline, not the app, the slow one. The load
average is recorded at the start and the end: on a shared machine, compare ratios from one run.
"""

from __future__ import annotations

import argparse
import contextvars
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from locas_engine.bench import bench_parser

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "assets" / "sample" / "aesop-fables.txt"
SAMPLE_QUESTIONS = REPO / "benchmarks" / "data" / "kinds-aesop.json"
MODES = ("memory+retrieval", "retrieval")
MEMORY = "latency"


def _on_thread(fn):
    """``fn()`` run on a thread of its own (in a copy of this context), as the app decodes."""
    out: list = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            out.append(fn())
        except BaseException as exc:  # noqa: BLE001 - raised again on the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=contextvars.copy_context().run, args=(work,), name="bench-generate")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return out[0]


def bare_generate(backbone, messages, new_tokens: int, memories: list[str]) -> dict:
    """transformers' ``generate`` of the same prompt for ``new_tokens`` tokens, greedy, with
    ``memories`` on: seconds to the first token and to the last."""
    import torch
    from transformers.generation.streamers import BaseStreamer

    from locas_engine import only_enabled
    from locas_engine.generate import prompt_ids

    class Clock(BaseStreamer):
        def __init__(self) -> None:
            self.times: list[float] = []
            self.prompt = True

        def put(self, value) -> None:
            if self.prompt:  # generate hands over the prompt first
                self.prompt = False
                return
            self.times.append(time.perf_counter())

        def end(self) -> None:
            pass

    ids = prompt_ids(backbone, messages)
    clock = Clock()
    pad = backbone.tokenizer.eos_token_id or 0
    n = max(1, new_tokens)

    def run() -> float:
        with only_enabled(backbone.memories, memories), torch.no_grad():
            start = time.perf_counter()
            backbone.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=n,
                                    min_new_tokens=n, do_sample=False, num_beams=1, pad_token_id=pad,
                                    streamer=clock)
            return start

    start = _on_thread(run)
    total = clock.times[-1] - start
    first = clock.times[0] - start
    return {"seconds": total, "first": first, "tokens": n, "prompt_tokens": int(ids.shape[1]),
            "tokens_per_s": (n - 1) / (total - first) if n > 1 and total > first else None}


def app_answer(session, request) -> dict:
    """The answer as `locas ask` writes it (``run_answer``'s three steps, in one thread), timed:
    first piece shown, whole answer, stages; and the prompt it wrote from, for the bare run."""
    from app.answer.pipeline import prepare_answer, record_answer, write_answer
    from locas_engine.timing import recording, stage

    first: list[float] = []
    with recording() as times:
        start = time.perf_counter()
        prepared = prepare_answer(session, request)
        answer = write_answer(prepared, on_token=lambda piece: first or first.append(time.perf_counter()))
        with stage("record"):
            record_answer(session.library, answer)
        total = time.perf_counter() - start
    steps = times.counts.get("decode", 0)
    decode = times.seconds.get("decode", 0.0) + times.seconds.get("rules", 0.0)
    return {"seconds": total, "first": (first[0] - start) if first else None, "tokens": answer.tokens,
            "memories": list(prepared.memories), "messages": prepared.messages,
            "tokens_per_s": steps / decode if steps and decode else None,
            "stages": dict(times.seconds), "answer": answer.text, "draft": answer.draft}


def load_question_list(args: argparse.Namespace) -> list[str]:
    from app.bench.book_questions import load_book_questions
    from app.bench.qa import load_questions

    if args.locomo:
        questions = [q["question"] for q in load_questions(args.locomo, None, 0)]
    else:
        path = args.questions or SAMPLE_QUESTIONS
        questions = [q["question"] for q in load_book_questions(path) if not q["follows"]]
    return questions[:args.n]


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(rows: list[dict]) -> dict:
    """Medians over the questions of one mode; stages in the order they first ran."""
    stages: list[str] = []
    for r in rows:
        stages += [s for s in r["app"]["stages"] if s not in stages]
    return {
        "questions": len(rows),
        "first_word_s": _median(r["app"]["first"] for r in rows),
        "answer_s": _median(r["app"]["seconds"] for r in rows),
        "bare_s": _median(r["bare"]["seconds"] for r in rows),
        "bare_first_s": _median(r["bare"]["first"] for r in rows),
        "ratio": _median(r["app"]["seconds"] / r["bare"]["seconds"] for r in rows),
        "tokens": _median(r["app"]["tokens"] for r in rows),
        "app_tokens_per_s": _median(r["app"]["tokens_per_s"] for r in rows),
        "bare_tokens_per_s": _median(r["bare"]["tokens_per_s"] for r in rows),
        "stages_s": {s: _median(r["app"]["stages"].get(s, 0.0) for r in rows) for s in stages},
    }


def _s(value, unit: str = " s", digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def format_tables(summary: dict[str, dict]) -> str:
    head = (f"{'mode':<18} {'n':>3} {'first word':>11} {'answer':>8} {'bare':>8} {'bare 1st':>9} "
            f"{'ratio':>6} {'tokens':>6} {'tok/s app':>9} {'tok/s bare':>10}")
    lines = [head, "-" * len(head)]
    for mode, s in summary.items():
        lines.append(f"{mode:<18} {s['questions']:>3} {_s(s['first_word_s']):>11} {_s(s['answer_s']):>8} "
                     f"{_s(s['bare_s']):>8} {_s(s['bare_first_s']):>9} {_s(s['ratio'], 'x'):>6} "
                     f"{_s(s['tokens'], '', 0):>6} {_s(s['app_tokens_per_s'], '', 1):>9} "
                     f"{_s(s['bare_tokens_per_s'], '', 1):>10}")
    lines.append("")
    lines.append("stages, median seconds per answer (a/b: b is part of a)")
    for mode, s in summary.items():
        parts = "  ".join(f"{name} {value:.3f}" for name, value in s["stages_s"].items())
        lines.append(f"{mode:<18} {parts}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = bench_parser("latency", __doc__)
    p.add_argument("--file", type=Path, default=SAMPLE, help="the text to memorize and ask about")
    p.add_argument("--questions", type=Path, help="a question set (JSON, benchmarks/data); default: the "
                   "sample's, kinds-aesop.json")
    p.add_argument("--locomo", type=Path, help="a LoCoMo conversation (JSON): memorized, and its questions asked")
    p.add_argument("--n", type=int, default=12, help="questions to ask (the first N of the set)")
    p.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    p.add_argument("--max-new-tokens", type=int, default=None, help="default: the app's setting")
    p.add_argument("--home", help="data folder (default: a temporary one); a memory left there is reused")
    p.add_argument("--model", default="default")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", type=Path, help="write the report here")
    return p


def run(args: argparse.Namespace) -> dict:
    from app.answer.pipeline import AnswerRequest
    from app.bench.qa import prepare
    from app.library import Library
    from app.session import Session
    from app.settings import Settings

    home = Path(args.home or tempfile.mkdtemp(prefix="locas-bench-latency-"))
    os.environ["LOCAS_HOME"] = str(home)
    load_start = os.getloadavg()
    settings = Settings.of(model=args.model, device=args.device)
    session = Session(library=Library(), settings=settings)
    source = args.locomo or args.file
    doc_id, info = prepare(session, source, MEMORY, True, {}, home)
    questions = load_question_list(args)
    budget = args.max_new_tokens or settings.max_new_tokens
    print(f"{source.name}: {info['tokens']} tokens memorized; {len(questions)} questions, modes "
          f"{', '.join(args.modes)}; load {load_start[0]:.1f}", file=sys.stderr, flush=True)

    def request(question: str, mode: str) -> AnswerRequest:
        return AnswerRequest(question=question, memories=[MEMORY], use_memory=mode.startswith("memory"),
                             passages=settings.passages, max_new_tokens=budget, document_ids=[doc_id])

    app_answer(session, request(questions[0], args.modes[0]))  # warm-up: the model's load, first calls
    rows: dict[str, list[dict]] = {mode: [] for mode in args.modes}
    for question in questions:
        for mode in args.modes:  # interleaved: a change of load falls on every mode alike
            app = app_answer(session, request(question, mode))
            bare = bare_generate(session.backbone(), app.pop("messages"), app["tokens"], app["memories"])
            rows[mode].append({"question": question, "app": app, "bare": bare})
            print(f"  {mode:<17} {app['seconds']:5.2f} s (first word {_s(app['first'])}), bare "
                  f"{bare['seconds']:5.2f} s, {app['tokens']} tokens: {question}", file=sys.stderr, flush=True)
    summary = {mode: summarize(r) for mode, r in rows.items()}
    backbone = session.backbone()
    report = {"bench": "latency", "model": backbone.name, "device": str(backbone.device),
              "dtype": str(backbone.dtype).replace("torch.", ""), "file": str(source),
              "tokens_memorized": info["tokens"], "max_new_tokens": budget, "passages": settings.passages,
              "load_average": {"start": load_start[0], "end": os.getloadavg()[0]},
              "summary": summary, "answers": rows}
    import torch

    report["threads"] = torch.get_num_threads()
    if backbone.device.type == "cuda":
        report["gpu"] = torch.cuda.get_device_name(backbone.device)
    print(format_tables(summary))
    print(f"load average {load_start[0]:.1f} at the start, {report['load_average']['end']:.1f} at the end")
    return report
