"""A library written by an older Locas Reader keeps working after the upgrade: an in-flight
memorization resumes where it stopped, and each memory keeps its own settings."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from app.cli import main
from app.library import Library
from app.memories import delete_memory
from app.memorize.job import (
    JobControl,
    MemorizeRequest,
    document_token_ids,
    resume_request,
    run_memorize,
)
from app.memorize.paths import CHECKPOINT, META, SPECS, memory_file
from app.memorize.specs import read_specs
from locas_engine import stream_signature
from locas_engine.spec import flat


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


def _as_old_library(library_path: Path, name: str, settings: dict) -> None:
    """Turn the library file back into schema 3, where the memory's row held its settings."""
    conn = sqlite3.connect(library_path)
    conn.executescript("ALTER TABLE memories ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';"
                       "DELETE FROM migrations WHERE version = 4;")
    conn.execute("UPDATE memories SET settings = ? WHERE name = ?", [json.dumps(settings), name])
    conn.commit()
    conn.close()


def test_an_old_librarys_memory_continues_with_its_own_settings(tiny_session, texts, capsys):
    """A memory stopped before its first save, in a library whose row held its settings (rank,
    and the output scale as the old tau_scale): after the upgrade its files hold them, its info
    shows them, and it resumes with them to exactly what an uninterrupted run makes."""
    session = tiny_session
    doc = session.library.import_file(texts[0]).id
    # not the user's defaults (rank 4, scale 0.25)
    own = session.settings.specs.with_values({"rank": 6, "output_scale": 0.5})
    run_memorize(session, MemorizeRequest(document_ids=[doc], memory="straight", specs=own))

    control = JobControl()

    def stop_after_two_chunks(event) -> None:
        if event.phase == "memorizing" and event.tokens_done >= 128:
            control.cancel()

    run_memorize(session, MemorizeRequest(document_ids=[doc], memory="old", specs=own),
                 on_event=stop_after_two_chunks, control=control)
    stem = Path(session.library.get_memory("old")["path"])
    assert not memory_file(stem, META).exists() and memory_file(stem, CHECKPOINT).exists()
    row_settings = flat(*read_specs(session.library.get_memory("old")))
    row_settings["tau_scale"] = row_settings.pop("output_scale") * 6  # as the old app kept it
    memory_file(stem, SPECS).unlink()  # the old app kept no settings beside the files
    session.unload_memory("old")
    session.library.close()
    _as_old_library(session.library.path, "old", row_settings)

    session.library = Library()  # the new version opens the old library
    row = session.library.get_memory("old")
    assert "settings" not in row
    assert "settings" not in session.library.db["memories"].columns_dict
    assert main(["memory", "show", "old"]) == 0
    shown = capsys.readouterr().out
    assert "rank=6," in shown and "output_scale=0.5," in shown

    outcome = run_memorize(session, resume_request(session, "old"))
    assert outcome.completed
    a, b = _tensors(session, "straight"), _tensors(session, "old")
    assert b["layers.0.G"].shape[0] == 6
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=1e-6, rtol=0)
    meta = json.loads(memory_file(stem, META).read_text())
    assert meta["config"]["rank"] == 6 and meta["config"]["output_scale"] == 0.5


def test_a_new_memorys_specs_are_in_its_files_not_its_row(tiny_session, texts):
    session = tiny_session
    doc = session.library.import_file(texts[0]).id
    run_memorize(session, MemorizeRequest(document_ids=[doc], memory="new",
                                          specs=session.settings.specs.with_values({"rank": 5})))
    row = session.library.get_memory("new")
    assert "settings" not in row
    spec_file = json.loads(memory_file(Path(row["path"]), SPECS).read_text())
    assert spec_file["memory"]["rank"] == 5 and spec_file["training"]["lr"] == session.settings.training.lr
    assert read_specs(row).memory.rank == 5
    delete_memory(session.library, "new")  # its spec file goes with its other files
    assert not memory_file(Path(row["path"]), SPECS).exists()


def test_without_a_spec_file_the_memory_file_gives_the_settings(tmp_path):
    """An imported memory, or one saved by the engine alone, has no spec file: its metadata file
    is read (format 1 here: tau_scale 16 at rank 4 is output scale 4). A damaged spec file is a
    sentence, not a traceback."""
    old = Path(__file__).resolve().parents[1] / "data" / "old_format"
    memory, training = read_specs({"name": "tale", "path": str(old / "tale")})
    assert (memory.rank, memory.output_scale, training.lr, training.chunk) == (4, 4.0, 0.01, 40)
    assert training.precision == "fp32" and memory.layers == "0,2"
    assert read_specs({"name": "new", "path": str(tmp_path / "new")}) is None  # nothing yet
    memory_file(tmp_path / "bad", SPECS).write_text("{")
    with pytest.raises(ValueError, match="settings file .* of memory 'bad' is damaged"):
        read_specs({"name": "bad", "path": str(tmp_path / "bad")})
