"""A library written by an older Locas Reader keeps working after the upgrade: an in-flight
memorization resumes where it stopped, and each memory keeps its own settings."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from safetensors.torch import load_file

from app.jobs import JobControl, MemorizeRequest, document_token_ids, resume_request, run_memorize
from locas_engine import stream_signature


def _tensors(session, name: str) -> dict[str, torch.Tensor]:
    return load_file(str(Path(session.library.get_memory(name)["path"]).with_suffix(".safetensors")))


def test_a_checkpoint_under_the_old_apps_stream_signature_resumes(tiny_session, texts):
    """The old app kept a 16-hex digest of the ids' text in the row; the first resume after the
    upgrade accepts it, rewrites the row with the engine's signature and continues from the
    checkpoint (ending equal to an uninterrupted run), instead of starting over."""
    session = tiny_session
    doc = session.library.import_file(texts[0]).id
    run_memorize(session, MemorizeRequest(document_ids=[doc], memory="straight"))

    control = JobControl()

    def stop_after_two_chunks(event) -> None:
        if event.phase == "memorizing" and event.tokens_done >= 128:
            control.cancel()

    run_memorize(session, MemorizeRequest(document_ids=[doc], memory="old"),
                 on_event=stop_after_two_chunks, control=control)
    ids = document_token_ids(session, doc)
    legacy = hashlib.sha256(str(list(ids)).encode()).hexdigest()[:16]  # what the old app stored
    session.library.update_memory("old", stream=legacy)
    session.unload_memory("old")  # as after a restart with the new version

    seen: list[tuple[int, str]] = []

    def watch(event) -> None:
        if event.phase == "memorizing":
            seen.append((event.tokens_done, session.library.get_memory("old")["stream"]))

    outcome = run_memorize(session, resume_request(session, "old"), on_event=watch)
    assert outcome.completed
    assert seen[0] == (192, stream_signature(ids))  # chunk 3 of 64 tokens: not chunk 1 again
    a, b = _tensors(session, "straight"), _tensors(session, "old")
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=1e-6, rtol=0)
