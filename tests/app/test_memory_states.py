"""Stopped and interrupted are different states of a memory (fast: a tiny random model).

Stopped: the user stopped it (Stop, Ctrl-C, closing the app). Interrupted: the process died while
it ran. Both resume from the checkpoint; only an interrupted memory is offered again at start.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from app.library import Library
from app.memorize.job import JobControl, MemorizeRequest, resume_request, run_memorize
from app.session import Session
from app.settings import Settings
from locas_engine import backbone_from_model


class ByteTokenizer:
    """Characters to ids below the tiny model's vocabulary: enough to memorize a text."""

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict:
        return {"input_ids": [3 + ord(c) % 90 for c in text]}


def tiny_session() -> Session:
    import transformers as tf

    torch.manual_seed(0)
    config = tf.LlamaConfig(vocab_size=96, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
    model = tf.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    settings = Settings.of(rank=4, chunk=32, context=16, steps=1, lr=1e-3, output_scale=0.25,
                        checkpoint_every=1, device="cpu")
    session = Session(library=Library(), settings=settings)
    session.use_backbone(backbone_from_model(model, tokenizer=ByteTokenizer(), name="tiny"))
    return session


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def session(tmp_path):
    s = tiny_session()
    path = tmp_path / "tale.txt"
    path.write_text("The keeper climbed the steps every evening and lit the lamp. " * 3, encoding="utf-8")
    s.library.import_file(path)
    yield s
    s.library.close()


def test_a_deliberate_stop_is_stopped_not_interrupted(session):
    control = JobControl()
    doc_id = session.library.list_documents()[0].id

    def stop_after_first_chunk(event):
        if event.phase == "memorizing":
            control.cancel()

    outcome = run_memorize(session, MemorizeRequest([doc_id], "tale"), on_event=stop_after_first_chunk,
                           control=control)
    row = session.library.get_memory("tale")
    assert not outcome.completed and row["status"] == "stopped"
    assert 0 < row["tokens_done"] < row["tokens_total"] and "resume" in row["message"]

    # The next start (a new Session) keeps it stopped: nobody is asked about it.
    again = Session(library=Library(), settings=session.settings)
    assert again.library.get_memory("tale")["status"] == "stopped"
    again.library.close()
    assert resume_request(session, "tale").document_ids == [doc_id]
    session.unload_memory("tale")
    assert run_memorize(session, resume_request(session, "tale")).completed
    assert session.library.get_memory("tale")["status"] == "done"


def test_a_job_whose_process_died_is_interrupted(session):
    library = session.library
    library.create_memory("crashed", status="running")
    library.update_memory("crashed", pid=dead_pid())
    library.create_memory("stopped-one", status="stopped")
    again = Session(library=Library(), settings=session.settings)
    statuses = {m["name"]: m["status"] for m in again.library.list_memories()}
    again.library.close()
    assert statuses == {"crashed": "interrupted", "stopped-one": "stopped"}
