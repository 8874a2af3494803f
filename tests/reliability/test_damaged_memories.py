"""Damaged memory and checkpoint files, end to end: a sentence, nothing corrupt used, nothing lost.

Jobs run on a tiny random model (conftest), so a whole memorize / ask takes a second.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from app.answer.pipeline import AnswerRequest, run_answer
from app.cli import main
from app.errors import JobError
from app.memories import delete_memory, memory_summary
from app.memorize.job import JobControl, MemorizeRequest, resume_request, run_memorize
from app.memorize.recovery import keep_saved, start_over


def _memorize(session, doc_ids, name, control=None):
    return run_memorize(session, MemorizeRequest(document_ids=doc_ids, memory=name), control=control)


def _files(session, name) -> dict[str, bytes]:
    path = Path(session.library.get_memory(name)["path"])
    return {s: path.with_suffix(s).read_bytes() for s in (".safetensors", ".json")
            if path.with_suffix(s).exists()}


def _two_memories(session, texts):
    a, b = (session.library.import_file(p).id for p in texts)
    _memorize(session, [a], "story")
    _memorize(session, [b], "other")
    return a, b


def _overwrite_4k(path: Path) -> None:
    data = bytearray(path.read_bytes())
    start = 8 + struct.unpack("<Q", bytes(data[:8]))[0]
    data[start:start + 4096] = b"\x7f" * min(4096, len(data) - start)
    path.write_bytes(bytes(data))


def test_corrupted_memory_is_refused_by_ask_and_shown_damaged(tiny_session, texts, capsys):
    session = tiny_session
    _two_memories(session, texts)
    path = Path(session.library.get_memory("story")["path"])
    for name in ("story", "other"):
        session.unload_memory(name)
    _overwrite_4k(path.with_suffix(".safetensors"))
    other_before = _files(session, "other")
    counts = session.library.counts()

    with pytest.raises(JobError, match="cannot be used.*damaged.*checksum"):
        run_answer(session, AnswerRequest(question="Who climbed?", memories=["story"]))
    assert "story" not in session._backbone.memories  # never attached
    # The other memory still answers, and nothing was written.
    run_answer(session, AnswerRequest(question="Who waited?", memories=["other"], use_retrieval=False))
    assert _files(session, "other") == other_before
    assert session.library.counts()["memories"] == counts["memories"]

    summary = memory_summary(session.library, "story")
    assert summary["status"] == "damaged" and "checksum" in summary["message"]
    assert memory_summary(session.library, "other")["status"] == "done"
    assert session.library.get_memory("story")["status"] == "done"  # the row is not rewritten
    assert main(["memories"]) == 0
    out = capsys.readouterr().out
    assert "damaged" in out and "other" in out


@pytest.mark.parametrize("content", [b"{garbage", b"", b"[]"])
def test_one_garbage_memory_json_leaves_the_others_listed(tiny_session, texts, capsys, content):
    session = tiny_session
    _two_memories(session, texts)
    Path(session.library.get_memory("story")["path"]).with_suffix(".json").write_bytes(content)
    assert main(["memories"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "damaged" in lines["story"] and "done" in lines["other"]
    assert main(["memory", "show", "story"]) == 0
    assert "story.json" in capsys.readouterr().out


def test_missing_memory_json_is_a_sentence(tiny_session, texts):
    session = tiny_session
    _two_memories(session, texts)
    session.unload_memory("story")
    Path(session.library.get_memory("story")["path"]).with_suffix(".json").unlink()
    with pytest.raises(JobError, match="cannot be used"):
        session.memory("story")


def test_ask_during_first_memorization_says_it_is_not_saved_yet(tiny_session, texts):
    session = tiny_session
    doc = session.library.import_file(texts[0]).id
    control = JobControl()
    calls = []

    def stop_after_one():
        calls.append(1)
        control.cancel()

    out = run_memorize(session, MemorizeRequest(document_ids=[doc], memory="story"), control=control,
                       between_chunks=stop_after_one)
    assert not out.completed
    session.unload_memory("story")
    with pytest.raises(JobError) as err:
        session.memory("story")
    assert "no saved state yet" in str(err.value) and "Memorize its documents again" not in str(err.value)
    session.library.update_memory("story", status="running")  # as another process would show it
    with pytest.raises(JobError, match="it is running and saves when"):
        session.memory("story")


def _interrupted_second_document(session, texts):
    """'story' holds the first text (saved) and is part-way into the second (checkpoint)."""
    a, b = (session.library.import_file(p).id for p in texts)
    _memorize(session, [a], "story")
    control = JobControl()
    chunks = []

    def stop_after_first():  # runs only between two chunks: the second text has two
        chunks.append(1)
        control.cancel()

    out = run_memorize(session, MemorizeRequest(document_ids=[b], memory="story"), control=control,
                       between_chunks=stop_after_first)
    assert not out.completed
    path = Path(session.library.get_memory("story")["path"])
    assert path.with_suffix(".ckpt").exists()
    return a, b, path


@pytest.mark.parametrize("damage", [b"", b"garbage" * 10, "truncate"])
def test_damaged_checkpoint_offers_start_over_or_keep_saved(tiny_session, texts, damage):
    session = tiny_session
    a, b, path = _interrupted_second_document(session, texts)
    ckpt = path.with_suffix(".ckpt")
    ckpt.write_bytes(ckpt.read_bytes()[:200] if damage == "truncate" else damage)
    saved = _files(session, "story")
    session.unload_memory("story")

    with pytest.raises(JobError) as err:
        run_memorize(session, resume_request(session, "story"))
    message = str(err.value)
    assert str(ckpt) in message and "--start-over" in message and "--keep-saved" in message
    assert _files(session, "story") == saved  # the last good save is untouched
    assert session.library.get_memory("story")["status"] == "failed"

    session.unload_memory("story")
    start_over(session.library, "story")
    assert not ckpt.exists()
    outcome = run_memorize(session, resume_request(session, "story"))
    assert outcome.completed and session.library.get_memory("story")["status"] == "done"
    assert [s["status"] for s in session.library.memory_sources("story")] == ["done", "done"]


def test_keep_saved_drops_the_unfinished_document(tiny_session, texts, capsys):
    session = tiny_session
    a, b, path = _interrupted_second_document(session, texts)
    path.with_suffix(".ckpt").write_bytes(b"")
    saved = _files(session, "story")
    keep_saved(session.library, "story")
    row = session.library.get_memory("story")
    assert row["status"] == "done" and not path.with_suffix(".ckpt").exists()
    assert [s["document_id"] for s in session.library.memory_sources("story")] == [a]
    assert _files(session, "story") == saved
    assert memory_summary(session.library, "story")["status"] == "done"


def test_keep_saved_without_a_save_is_refused(tiny_session, texts):
    session = tiny_session
    doc = session.library.import_file(texts[0]).id
    session.library.create_memory("empty")
    session.library.add_memory_source("empty", doc)
    with pytest.raises(JobError, match="no completed save"):
        keep_saved(session.library, "empty")


def test_delete_removes_temp_files_of_killed_writes(tiny_session, texts):
    session = tiny_session
    _two_memories(session, texts)
    path = Path(session.library.get_memory("story")["path"])
    leftovers = [path.parent / f".{path.name}.safetensors.abc123", path.parent / f".{path.name}.ckpt.x9"]
    for p in leftovers:
        p.write_bytes(b"partial")
    other = Path(session.library.get_memory("other")["path"])
    delete_memory(session.library, "story")
    assert not any(p.exists() for p in leftovers)
    assert other.with_suffix(".safetensors").exists()


def test_memory_paths_follow_a_copied_data_folder(tiny_session, texts, tmp_path, monkeypatch):
    """An old library stored absolute paths; a copy of the folder must read its own files."""
    import shutil

    session = tiny_session
    _two_memories(session, texts)
    home = Path(session.library.path).parent
    row = session.library.get_memory("story")
    session.library.update_memory("story", path=row["path"])  # as an old version stored it
    session.library.close()
    copy = tmp_path / "copied-home"
    shutil.copytree(home, copy, symlinks=True)
    monkeypatch.setenv("LOCAS_HOME", str(copy))
    from app.library import Library

    with Library() as lib:
        moved = lib.get_memory("story")["path"]
        assert moved.startswith(str(copy)) and Path(moved).with_suffix(".safetensors").exists()
        assert json.loads(Path(moved).with_suffix(".json").read_text())["name"] == "story"
    session.library = Library(home / "library.db")  # for the fixture's close
