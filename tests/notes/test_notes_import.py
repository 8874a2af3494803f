"""Importing and syncing a notes folder, quick-note storage and file permissions (no model)."""

from __future__ import annotations

import os
import stat

import pytest

from app.document import ImportFailed
from app.importers import import_file
from app.importers.notes import clean_note


def test_vault_is_one_document_with_a_section_per_note(vault):
    doc = import_file(vault)
    assert doc.kind == "notes" and doc.title == "vault" and doc.source_path == str(vault.resolve())
    paths = [s.meta["path"] for s in doc.sections]
    assert len(paths) == 32 and "Index.md" in paths and "reading/quotes.txt" in paths
    assert "projects/home/note-02.md" in paths
    assert not any(p.startswith(".") or "/." in p or p.endswith((".png", ".pdf")) for p in paths)
    note = next(s for s in doc.sections if s.meta["path"] == "note-00.md")
    assert note.title == "Note 0 about garden"  # front matter title wins over the heading
    assert "tags: garden, personal" in note.text and "created: 2024-03-01" in note.text
    assert "my chess log" in note.text and "Index" in note.text and "[[" not in note.text
    assert "a bold remark" in note.text and "photo.png" not in note.text
    assert {"path", "mtime", "hash"} <= set(note.meta)
    index = next(s for s in doc.sections if s.meta["path"] == "Index.md")
    assert index.title == "Index" and "see note-01 and note-04 > Heading 4." in index.text
    assert next(s for s in doc.sections if s.meta["path"] == "reading/quotes.txt").title == "quotes"


def test_first_heading_is_the_title_and_logseq_syntax_reads_plainly():
    text, heading, fields = clean_note("# My day\n\n- type:: journal\n- met ((0f0e2b4a-1111-2222-3333-444455556666)) [[Ann]]\n",
                                       markdown=True)
    assert heading == "My day" and not fields
    assert text == "- type: journal\n- met  Ann"


def test_empty_and_noteless_folders_are_refused_in_one_sentence(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ImportFailed, match=r"^Could not import empty: the folder is empty\.$"):
        import_file(empty)
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    (pictures / "a.png").write_bytes(b"\x89PNG")
    with pytest.raises(ImportFailed, match=r"^Could not import pictures: the folder holds no Markdown or text notes\.$"):
        import_file(pictures)


def test_sync_finds_new_changed_and_deleted_notes(vault, library, edit_vault):
    first = library.import_file(vault)
    assert not first.duplicate and first.sections == 32
    again = library.import_file(vault)
    assert again.id == first.id and again.duplicate
    ids = {s.meta["path"]: s.id for s in library.sections(first.id)}
    edit_vault(vault)
    from app.notes import sync_folder
    from app.session import Session

    synced = sync_folder(Session(library=library), vault)
    assert synced.document_id == first.id and not synced.created
    assert [c.path for c in synced.added] == ["new-folder/fresh.md"]
    assert sorted(c.path for c in synced.changed) == ["journal/note-01.md", "reading/quotes.txt"]
    assert sorted(c.path for c in synced.deleted) == ["Index.md", "projects/work/note-03.md"]
    assert synced.unchanged == 28
    after = {s.meta["path"]: s for s in library.sections(first.id)}
    assert len(after) == 31 and after["journal/note-01.md"].id == ids["journal/note-01.md"]
    assert after["journal/note-01.md"].title == "Changed"
    assert library.get_document(first.id).sections == 31
    assert library.search("violins") and library.search("kites")
    assert not library.search('"Plain index without a heading"')
    assert library.counts()["documents"] == 1
    assert [s.position for s in library.sections(first.id)] == list(range(31))


def test_a_failed_sync_changes_nothing(vault, library, monkeypatch, edit_vault):
    from app.library import Library

    doc = library.import_file(vault)
    before = [(s.id, s.title) for s in library.sections(doc.id)], library.counts()
    edit_vault(vault)
    real = Library._index_section
    calls = {"n": 0}

    def fail_later(self, *args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(self, *args)

    monkeypatch.setattr(Library, "_index_section", fail_later)
    with pytest.raises(RuntimeError):
        library.import_file(vault)
    assert ([(s.id, s.title) for s in library.sections(doc.id)], library.counts()) == before


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_library_settings_and_data_folder_are_private(locas_home, tmp_path, monkeypatch, vault):
    from app.library import Library
    from app.paths import data_home, memories_dir
    from app.settings import Settings, save_settings, settings_path

    home = tmp_path / "fresh-home"
    monkeypatch.setenv("LOCAS_HOME", str(home))
    lib = Library()
    lib.import_file(vault)  # writes through the WAL
    save_settings(Settings())
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(data_home()) == 0o700 and mode(memories_dir()) == 0o700
    for name in ("library.db", "library.db-wal", "library.db-shm"):
        assert mode(home / name) == 0o600, name
    assert mode(settings_path()) == 0o600
    lib.close()


def test_cli_sync_prints_changes_and_what_a_memory_still_holds(vault, capsys, edit_vault):
    from app.cli import main
    from app.library import Library

    assert main(["sync", str(vault)]) == 0
    assert "Imported vault as document 1: 32 notes." in capsys.readouterr().out
    with Library() as lib:  # a memory that holds every note (as a finished memorize job records it)
        lib.create_memory("mind", status="done")
        lib.add_memory_source("mind", 1, status="done")
        lib.mark_sections_held("mind", 1, {s.id: 10 for s in lib.sections(1)})
    assert main(["sync", str(vault)]) == 0
    out = capsys.readouterr().out
    assert "is unchanged: 32 notes" in out and "holds every note in its current version" in out
    edit_vault(vault)
    assert main(["sync", str(vault)]) == 0
    out = capsys.readouterr().out
    assert "1 new, 2 changed, 2 deleted, 28 unchanged" in out and "new-folder/fresh.md" in out
    assert "Memory 'mind' lacks 3 new or changed notes" in out
    assert "still holds 2 deleted notes (Index.md, projects/work/note-03.md)" in out and "--rebuild" in out
    with Library() as lib:
        lib.create_memory("books", status="done")
    assert main(["sync", str(vault), "--rebuild", "books"]) == 1
    assert "Memory 'books' was not made from this folder" in capsys.readouterr().err
    assert main(["note", "Remember the milk"]) == 0
    assert "Added the note to Quick notes" in capsys.readouterr().out
    assert main(["sync", str(vault / "reading" / "quotes.txt")]) == 1
    assert "it is a file, not a folder of notes" in capsys.readouterr().err
