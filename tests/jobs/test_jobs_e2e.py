"""End to end on the real default model: import, memorize, ask, cancel/resume, kill/resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from app.answer.pipeline import AnswerRequest, run_answer
from app.errors import JobError
from app.importers import import_file
from app.memorize.job import JobControl, MemorizeRequest, resume_request, run_memorize

pytestmark = pytest.mark.slow


def _import(session, path: Path) -> int:
    return session.library.add_document(import_file(path))


def _tensors(session, name: str) -> dict[str, torch.Tensor]:
    row = session.library.get_memory(name)
    return load_file(str(Path(row["path"]).with_suffix(".safetensors")))


def test_memorize_then_ask_streams_and_cites(session, story_file):
    doc_id = _import(session, story_file)
    events = []
    outcome = run_memorize(session, MemorizeRequest(document_ids=[doc_id], memory="story"),
                           on_event=events.append)
    assert outcome.completed and outcome.tokens_done == outcome.tokens_total > 200
    phases = [e.phase for e in events]
    assert phases.count("memorizing") >= 3 and phases[-1] == "done"
    row = session.library.get_memory("story")
    assert row["status"] == "done" and row["tokens_done"] == outcome.tokens_total
    assert [s["status"] for s in session.library.memory_sources("story")] == ["done"]

    pieces: list[str] = []
    answer = run_answer(session, AnswerRequest(question="Who kept the lighthouse light?",
                                               memories=["story"], passages=2, max_new_tokens=12),
                        on_token=pieces.append)
    assert len(pieces) >= 2 and "".join(pieces).strip() == answer.draft
    # the answer names the passage it rests on, and the sentence in it that supports it
    # (or, when its passage backs too little of it, that passage's sentence: grounding.py)
    assert answer.abstained or answer.text.endswith(f" [{answer.cited + 1}]")
    start, end = answer.support
    assert answer.citations[answer.cited].text[start:end].strip()
    assert answer.citations and all(c.document_id == doc_id for c in answer.citations)
    assert any("lighthouse" in c.text.lower() for c in answer.citations)
    history = session.library.history()
    assert history and history[0]["question"] == "Who kept the lighthouse light?"


def test_cancel_then_resume_equals_uninterrupted(session, story_file):
    doc_id = _import(session, story_file)
    run_memorize(session, MemorizeRequest(document_ids=[doc_id], memory="straight"))

    control = JobControl()

    def cancel_after_two_chunks(ev):
        if ev.phase == "memorizing" and ev.tokens_done >= 128:
            control.cancel()

    outcome = run_memorize(session, MemorizeRequest(document_ids=[doc_id], memory="interrupted"),
                           on_event=cancel_after_two_chunks, control=control)
    assert not outcome.completed
    assert session.library.get_memory("interrupted")["status"] == "stopped"  # a stop, not a crash
    session.unload_memory("interrupted")  # as if the app had been restarted
    outcome = run_memorize(session, resume_request(session, "interrupted"))
    assert outcome.completed
    a, b = _tensors(session, "straight"), _tensors(session, "interrupted")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=1e-6, rtol=0)


def test_killed_process_resumes_from_checkpoint(session, story_file, locas_home):
    from app.settings import save_settings

    doc_id = _import(session, story_file)
    session.library.close()
    save_settings(session.settings)  # checkpoint after every chunk, in the child process too
    env = {**os.environ, "LOCAS_HOME": str(locas_home)}
    cmd = [sys.executable, "-m", "app.cli", "memorize", str(doc_id), "--memory", "killed",
           "--rank", "8", "--chunk", "32", "--context", "32"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    checkpoint = None
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        found = list((locas_home / "memories").glob("*killed.ckpt"))
        if found:
            checkpoint = found[0]
            break
        time.sleep(0.2)
    assert checkpoint is not None, proc.communicate()[1].decode()[-2000:]
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    from app.library import Library
    from app.session import Session

    fresh = Session(library=Library(), settings=session.settings)
    row = fresh.library.get_memory("killed")
    assert row["status"] == "interrupted"
    assert [d.id for d in fresh.library.list_documents()] == [doc_id]
    resumed = subprocess.run([sys.executable, "-m", "app.cli", "resume", "killed"], env=env,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    fresh.library.close()
    fresh = Session(library=Library(), settings=session.settings)
    assert fresh.library.get_memory("killed")["status"] == "done"
    fresh.library.close()


def test_missing_memory_file_is_a_clear_error(session, story_file):
    doc_id = _import(session, story_file)
    run_memorize(session, MemorizeRequest(document_ids=[doc_id], memory="gone"))
    session.unload_memory("gone")
    Path(session.library.get_memory("gone")["path"]).with_suffix(".safetensors").unlink()
    with pytest.raises(JobError, match="missing"):
        run_answer(session, AnswerRequest(question="Who?", memories=["gone"], max_new_tokens=2))


def test_memory_for_another_model_is_refused(session, story_file):
    doc_id = _import(session, story_file)
    run_memorize(session, MemorizeRequest(document_ids=[doc_id], memory="other"))
    session.library.update_memory("other", backbone="SomeOtherModel", backbone_fingerprint="0" * 64)
    with pytest.raises(JobError, match="made for the model"):
        run_memorize(session, MemorizeRequest(document_ids=[doc_id], memory="other"))


BEEKEEPING = """Notes from the apiary at Hollow Lane

The colony in the third hive swarmed on a warm Tuesday in June. The bees gathered on the lowest
branch of the pear tree, a brown cluster the size of a rugby ball, humming loudly. Our neighbour
Idris brought a cardboard box and a white sheet, shook the branch once, and most of the swarm
fell into the box. The queen must have been among them, because the stragglers marched inside
within the hour, fanning their wings at the entrance to call the others home.

We housed the swarm in a new hive with eleven frames of foundation wax. Idris said to feed them
sugar syrup, one part sugar to one part water, for the first week, so that the workers could draw
comb quickly. By August the new colony had filled nine frames with honey the colour of amber,
tasting faintly of lime blossom and clover. We took forty pounds from it in September and left
the rest for the bees to eat through the winter.
"""


def test_several_memories_answer_with_the_one_that_fits_the_question(session, story_file, tmp_path):
    """A shelf of two memories: the question about the lighthouse is answered with its memory."""
    bees_file = tmp_path / "apiary.txt"
    bees_file.write_text(BEEKEEPING, encoding="utf-8")
    strong = dict(lr=6e-3, output_scale=8.0, steps=2)  # memories that clearly prefer their own text
    for path, name in ((story_file, "lighthouse"), (bees_file, "apiary")):
        doc_id = _import(session, path)
        run_memorize(session, MemorizeRequest(document_ids=[doc_id], memory=name,
                                              specs=session.settings.specs.with_values(strong)))

    shelf = ["lighthouse", "apiary"]
    about_bees = run_answer(session, AnswerRequest(
        question="What did Idris use to catch the swarm from the pear tree?", memories=shelf,
        passages=2, max_new_tokens=4))
    assert about_bees.route.memories == ["apiary"] and about_bees.memories == ["apiary"]
    about_light = run_answer(session, AnswerRequest(
        question="How many steps did Maren climb to the lamp of the lighthouse?", memories=shelf,
        passages=2, max_new_tokens=4))
    assert about_light.route.memories == ["lighthouse"]
    losses = about_light.route.losses
    assert losses["lighthouse"] < losses["apiary"] and set(losses) == {"lighthouse", "apiary", "all"}
    assert session.library.history()[-1]["options"]["route"]["chosen"] == ["lighthouse"]  # history keeps it
    # Routing switches memories on for one answer only; the shelf is left as it was.
    assert all(session.memory(n).enabled for n in shelf)

    unrouted = run_answer(session, AnswerRequest(
        question="How many steps did Maren climb?", memories=shelf, passages=2,
        max_new_tokens=2, route=False))
    assert unrouted.route is None and unrouted.memories == shelf


def test_cli_ask_prints_one_answer_routes_and_lists_passages(story_file, tmp_path, capsys):
    """`locas memorize` then `locas ask` with two memories, as README shows it."""
    from app.cli import main

    bees_file = tmp_path / "apiary.txt"
    bees_file.write_text(BEEKEEPING, encoding="utf-8")
    assert main(["import", str(story_file), str(bees_file)]) == 0
    assert main(["memorize", "1", "--memory", "lighthouse", "--rank", "8"]) == 0
    assert main(["memorize", "2", "--memory", "apiary", "--rank", "8"]) == 0
    capsys.readouterr()
    assert main(["ask", "--memory", "lighthouse", "--memory", "apiary", "--passages", "2",
                 "--max-new-tokens", "4", "What did Idris use to catch the swarm?"]) == 0
    out = capsys.readouterr().out
    assert "(answered with " in out and "--no-route keeps them all on" in out
    assert "Passages:" in out and "  [1] Notes from the apiary" in out and "characters " in out
    assert "Supporting sentence in [" in out and "»" in out

    assert main(["ask", "--json", "--memory", "apiary", "--passages", "2", "--max-new-tokens", "4",
                 "What did Idris use to catch the swarm?"]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert {"answer", "abstained", "passages", "seconds", "chosen", "draft"} <= reply.keys()
    # one answer printed, the one shown in the window; the draft only in --json
    assert main(["ask", "--memory", "apiary", "--passages", "2", "--max-new-tokens", "4",
                 "What did Idris use to catch the swarm?"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].removeprefix("Quoted from the text: ") == reply["answer"] and lines[1] == ""
    assert reply["passages"] and all(p["document"] and p["section"] and p["support"] in p["text"]
                                     for p in reply["passages"])


WHATSAPP_TRIP = """\
[3/4/24, 9:12 AM] Ana: Morning all! I finally finished the mural at the library yesterday.
[3/4/24, 9:15 AM] Ben: Amazing, Ana! I spent my Saturday fixing my bike, the chain snapped again.
[3/4/24, 9:20 AM] Cleo: Nice! I went hiking at Blue Ridge and saw a black bear from far away.
[3/4/24, 9:25 AM] Ana: Photos please, Cleo!
"""


@pytest.mark.slow  # the real model writes the draft
def test_cli_ask_when_of_a_chat_answers_with_the_date_of_its_line(tmp_path, capsys):
    """A when-question gets the date the supporting line gives, whatever the model retyped."""
    from app.cli import main

    chat = tmp_path / "trip.txt"
    chat.write_text(WHATSAPP_TRIP, encoding="utf-8")
    assert main(["import", str(chat)]) == 0
    capsys.readouterr()
    assert main(["ask", "--json", "--no-memory", "--max-new-tokens", "24", "When did Ana finish the mural?"]) == 0
    reply = json.loads(capsys.readouterr().out)
    # sent on 4 March 2024, "yesterday" pinned by the importer: the answer is the day it means
    assert reply["answer"] == "3 March 2024. [1]" and not reply["abstained"]
    cited = reply["passages"][reply["cited"] - 1]
    assert cited["support"] == "I finally finished the mural at the library yesterday [3 March 2024]."
