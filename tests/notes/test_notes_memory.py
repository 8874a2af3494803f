"""Continual memorization of a notes folder on the real default model (small, fast settings).

Counts tokens to prove an update memorizes only the new and changed notes, checks that an
unchanged note's perplexity does not rise, and that memory files are private (0600).
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

import pytest
import torch

from app.memorize.job import JobControl, resume_request, run_memorize
from app.notes import (
    add_quick_note,
    notes_status,
    rebuild_notes_memory,
    sync_folder,
    update_notes_memory,
)
from locas_engine import Memorizer, read_memory_metadata

pytestmark = pytest.mark.slow


@pytest.fixture
def small_settings():
    from app.settings import Settings

    return Settings.of(rank=8, chunk=64, context=64, steps=1, lr=4e-3, output_scale=0.125, checkpoint_every=1)


@pytest.fixture
def session(small_settings):
    from app.library import Library
    from app.session import Session

    s = Session(library=Library(), settings=small_settings)
    yield s
    s.library.close()


@pytest.fixture
def small_vault(vault) -> Path:
    """The generated vault cut to eight notes (nested folders, front matter, links, the image and
    hidden folders stay): the same structure, memorized in seconds."""
    for path in sorted(vault.rglob("note-*.md")):
        if int(path.stem.split("-")[1]) >= 6:
            path.unlink()
    return vault


@pytest.fixture
def fed_tokens(monkeypatch) -> list[list[int]]:
    """Every token stream handed to the memorizer, in order."""
    streams: list[list[int]] = []
    real = Memorizer.run

    def spy(self, token_ids, *args, **kwargs):
        streams.append(list(token_ids))
        return real(self, token_ids, *args, **kwargs)

    monkeypatch.setattr(Memorizer, "run", spy)
    return streams


def note_tokens(session, library, section_id: int) -> list[int]:
    """A note's tokens, computed here independently of the job: title, blank line, text, blank line."""
    info = next(s for s in library.sections(library.passage_context({"section_id": section_id})["document_id"])
                if s.id == section_id)
    text = f"{info.title}\n\n{library.section_text(section_id)}\n\n"
    return session.backbone().tokenizer(text, add_special_tokens=False)["input_ids"]


def perplexity(session, memory: str, text: str) -> float:
    backbone = session.backbone()
    ids = torch.tensor([backbone.tokenizer(text, add_special_tokens=False)["input_ids"]], device=backbone.device)
    with session.only_memories([memory]), torch.no_grad():
        loss = backbone.model(input_ids=ids, labels=ids).loss
    return math.exp(loss.item())


def memory_tokens(library, name: str) -> int:
    return read_memory_metadata(library.get_memory(name)["path"])["tokens"]


def test_update_memorizes_only_new_and_changed_notes(session, small_vault, fed_tokens, edit_vault):
    library = session.library
    doc_id = sync_folder(session, small_vault).document_id
    sections = library.sections(doc_id)
    outcome = update_notes_memory(session, "notes", doc_id)
    everything = [t for s in sections for t in note_tokens(session, library, s.id)]
    assert outcome.completed and outcome.tokens_total == len(everything)
    assert fed_tokens == [everything]
    assert len(library.held_sections("notes", doc_id)) == len(sections) == 8
    before_tokens = memory_tokens(library, "notes")
    unchanged = next(s for s in sections if s.meta["path"] == "note-05.md")
    unchanged_text = f"{unchanged.title}\n\n{library.section_text(unchanged.id)}"
    ppl_before = perplexity(session, "notes", unchanged_text)

    edit_vault(small_vault)
    synced = sync_folder(session, small_vault)
    touched = sorted(synced.added + synced.changed, key=lambda c: [s.id for s in library.sections(doc_id)].index(c.section_id))
    expected = [t for c in touched for t in note_tokens(session, library, c.section_id)]
    status = notes_status(session, "notes", doc_id)
    assert sorted(s.id for s in status.to_memorize) == sorted(c.section_id for c in touched)
    assert sorted(r["path"] for r in status.deleted) == ["Index.md", "projects/work/note-03.md"]
    assert sorted(r["path"] for r in status.outdated) == ["journal/note-01.md", "reading/quotes.txt"]

    outcome = update_notes_memory(session, "notes", doc_id)
    assert outcome.completed and outcome.tokens_total == len(expected) < len(everything) // 3
    assert fed_tokens[1] == expected  # exactly the changed notes' tokens, nothing else
    assert memory_tokens(library, "notes") == before_tokens + len(expected)
    ppl_after = perplexity(session, "notes", unchanged_text)
    print(f"\nunchanged note perplexity: {ppl_before:.3f} -> {ppl_after:.3f}")
    assert ppl_after <= ppl_before * 1.01
    assert notes_status(session, "notes", doc_id).up_to_date
    assert update_notes_memory(session, "notes", doc_id).tokens_total == 0 and len(fed_tokens) == 2

    if os.name == "posix":
        base = Path(library.get_memory("notes")["path"])
        for suffix in (".safetensors", ".json"):
            assert stat.S_IMODE(base.with_suffix(suffix).stat().st_mode) == 0o600

    outcome = rebuild_notes_memory(session, "notes")
    assert outcome.completed and library.get_memory("notes")["status"] == "done"
    assert [m["name"] for m in library.list_memories()] == ["notes"]
    status = notes_status(session, "notes", doc_id)
    assert status.up_to_date and not status.holds_removed_text
    assert len(library.held_sections("notes", doc_id)) == 7


def test_interrupted_update_resumes_the_same_notes(session, tmp_path, fed_tokens):
    library = session.library
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nShort note about apples.\n", encoding="utf-8")
    (folder / "b.md").write_text("# B\n\nShort note about bees.\n", encoding="utf-8")
    doc_id = sync_folder(session, folder).document_id
    update_notes_memory(session, "notes", doc_id)
    long_note = " ".join(f"Line {i}: the ferry to Hallstatt leaves at {i % 12 + 1} o'clock." for i in range(12))
    (folder / "c.md").write_text(f"# Ferries\n\n{long_note}\n", encoding="utf-8")
    (folder / "b.md").write_text("# B\n\nBees, revised.\n", encoding="utf-8")
    sync_folder(session, folder)
    control = JobControl()

    def cancel_after_first_chunk(ev):
        if ev.phase == "memorizing" and ev.tokens_done >= 64:
            control.cancel()

    outcome = update_notes_memory(session, "notes", doc_id, on_event=cancel_after_first_chunk, control=control)
    assert not outcome.completed and outcome.tokens_total > 128
    checkpoint = Path(library.get_memory("notes")["path"]).with_suffix(".ckpt")
    if os.name == "posix":
        assert stat.S_IMODE(checkpoint.stat().st_mode) == 0o600
    session.unload_memory("notes")  # as if the app had been restarted
    outcome = run_memorize(session, resume_request(session, "notes"))
    assert outcome.completed and fed_tokens[2] == fed_tokens[1]  # the same notes, not the folder
    assert notes_status(session, "notes", doc_id).up_to_date
    assert sorted(r["path"] for r in library.held_sections("notes", doc_id)) == ["a.md", "b.md", "b.md", "c.md"]


def test_quick_note_is_stored_and_memorized_alone(session, fed_tokens):
    library = session.library
    first = add_quick_note(session, "The spare key is under the blue flowerpot.", memory="home")
    assert first.outcome.completed
    assert fed_tokens == [note_tokens(session, library, first.section_id)]
    second = add_quick_note(session, "Dentist appointment moved to Thursday at nine.", memory="other")
    assert second.document_id == first.document_id
    assert fed_tokens[1] == note_tokens(session, library, second.section_id)  # not the first note again
    third = add_quick_note(session, "Buy oat milk.")
    assert third.outcome is None and len(fed_tokens) == 2
    assert library.search("flowerpot")[0].section_id == first.section_id
    assert [len(library.held_sections(m)) for m in ("home", "other")] == [1, 1]
