"""The library: schema, dedupe, delete, passage search, memories and history."""

from __future__ import annotations

import sqlite3

import pytest

from app.library import SCHEMA_VERSION, Library, LibraryError
from app.passages import MAX_WORDS, fts_query, passage_spans


@pytest.fixture
def book(library, shared_data):
    return library.import_file(shared_data / "books" / "childrens-literature.epub")


def test_schema_wal_and_location(library, locas_home):
    assert library.path == locas_home / "library.db"
    assert library.schema_version == SCHEMA_VERSION
    assert library.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    library.close()
    again = Library()  # reopening applies no migration twice
    assert again._rows("SELECT COUNT(*) AS n FROM migrations")[0]["n"] == SCHEMA_VERSION
    again.close()


def test_newer_schema_refused(tmp_path):
    path = tmp_path / "lib.db"
    Library(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO migrations VALUES (999, 'future', '')")
    conn.commit()
    conn.close()
    with pytest.raises(LibraryError, match="newer Locas Reader"):
        Library(path)


def test_old_library_with_cached_chunks_still_deletes(library, book):
    """A schema-2 library may hold rows of the dropped chunk cache that reference its sections:
    opening it drops the cache, so deleting the document is not refused by the foreign keys."""
    conn = library.db.conn
    conn.executescript(
        "CREATE TABLE chunks (id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL REFERENCES documents(id), "
        "section_id INTEGER REFERENCES sections(id), tokenizer TEXT NOT NULL, position INTEGER NOT NULL, "
        "start INTEGER, text TEXT NOT NULL, tokens INTEGER NOT NULL);"
        "DELETE FROM migrations WHERE version = 3;"
    )
    section = library.sections(book.id)[0].id
    conn.execute("INSERT INTO chunks (document_id, section_id, tokenizer, position, text, tokens) "
                 "VALUES (?, ?, 'smollm2', 0, 'a b', 2)", [book.id, section])
    conn.commit()
    library.close()
    reopened = Library()
    assert reopened.schema_version == SCHEMA_VERSION
    assert "chunks" not in reopened.db.table_names()
    reopened.delete_document(book.id)
    assert reopened.get_document(book.id) is None
    reopened.close()


def test_import_is_stored_and_deduplicated(library, book, shared_data):
    assert not book.duplicate and book.kind == "book" and book.sections == 21
    again = library.import_file(shared_data / "books" / "childrens-literature.epub")
    assert again.duplicate and again.id == book.id
    assert len(library.list_documents()) == 1
    doc = library.load_document(book.id)
    assert [s.title for s in doc.sections] == [s.title for s in library.sections(book.id)]
    assert "192 THE REAL PRINCESS" in library.document_text(book.id)


def test_search_quoted_phrase_finds_its_passage(library, book):
    hits = library.search('"twenty mattresses and the twenty feather beds"')
    assert hits, "the phrase is in The Real Princess"
    top = hits[0]
    assert top.document_id == book.id and top.section_title == "192 THE REAL PRINCESS"
    section = library.section_text(top.section_id)
    assert section[top.start:top.end] == top.text
    assert "twenty mattresses and the twenty feather beds" in top.text
    assert "[" in top.snippet
    ctx = library.passage_context(top)
    assert ctx["document_title"] == "Children's Literature" and ctx["text"] == section


def test_search_ranks_and_filters(library, book, shared_data):
    chat = library.import_file(shared_data / "chats" / "locomo-conv26.json")
    hits = library.search("LGBTQ support group", limit=5)
    assert hits and all(h.document_id == chat.id for h in hits)
    assert hits == sorted(hits, key=lambda h: h.score)
    assert library.search("LGBTQ", document_ids=[book.id]) == []
    # a natural question: not every word is present, the any-term fallback still finds passages
    assert library.search("When did Caroline go to the LGBTQ support group?", document_ids=[chat.id])


@pytest.mark.parametrize("query", ['"', '""', "AND OR NOT", "NEAR(x y", "col:umn", "a*b^c", "'quote", "(()", "-x",
                                   '"unclosed phrase', "^", "???", "prince's"])
def test_search_never_raises_on_user_text(library, book, query):
    assert isinstance(library.search(query), list)


def test_fts_query_escaping():
    # a phrase must be in the passage's text (not only in its section title)
    assert fts_query('red "real princess" pea') == 'text : "real princess" AND "red" AND "pea"'
    assert fts_query("sail NEAR boat*", any_term=True) == '("sail" OR "NEAR" OR "boat")'
    assert fts_query('"the pea" bed quilt', any_term=True) == 'text : "the pea" AND ("bed" OR "quilt")'
    assert fts_query("the of", any_term=True) == '("the" OR "of")'  # only stopwords: kept
    assert fts_query("!!!") is None


def test_passages_cover_text_in_bounded_pieces():
    text = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(12)) + "\n\n" + "long " * 500
    spans = passage_spans(text)
    assert spans[0][0] == 0 and spans[-1][1] == len(text.rstrip())
    for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False):
        assert end <= next_start
    assert all(len(text[s:e].split()) <= MAX_WORDS + 2 for s, e in spans)


def test_delete_document_keeps_memory_marked(library, book, shared_data):
    other = library.import_file(shared_data / "chats" / "locomo-conv30.json")
    memory = library.create_memory("fairy tales", backbone="SmolLM2-135M", path="/tmp/m.safetensors")
    library.add_memory_source(memory["id"], book.id, tokens=5, status="done")
    library.add_memory_source("fairy tales", other.id)
    library.delete_document(book.id)
    assert library.get_document(book.id) is None
    assert library.search('"real princess"') == []
    counts = library.counts()
    assert counts["sections"] == other.sections and counts["documents"] == 1
    kept = library.get_memory("fairy tales")
    assert kept is not None and kept["has_deleted_sources"]
    sources = library.memory_sources("fairy tales")
    assert [(s["document_title"], s["status"]) for s in sources] == [
        ("Children's Literature", "deleted"), ("Conversation of Jon and Gina", "pending")]
    with pytest.raises(LibraryError, match="no document"):
        library.delete_document(book.id)


def test_memory_crud_by_id_and_name(library, book):
    m = library.create_memory("Book A", backbone="SmolLM2")
    assert m["status"] == "queued" and "settings" not in m  # status and a path: specs are in its files
    with pytest.raises(TypeError):
        library.update_memory("Book A", settings={"rank": 64})
    with pytest.raises(LibraryError, match="already exists"):
        library.create_memory("Book A", backbone="x")
    library.update_memory("Book A", status="running", tokens_done=10, tokens_total=100, ppl=12.5, pid=123)
    library.update_memory(m["id"], backbone_fingerprint="f" * 64, message="halfway")
    row = library.get_memory(m["id"])
    assert (row["status"], row["tokens_done"], row["ppl"], row["message"]) == ("running", 10, 12.5, "halfway")
    with pytest.raises(LibraryError, match="not a memory status"):
        library.update_memory("Book A", status="exploded")
    with pytest.raises(TypeError):
        library.update_memory("Book A", colour="red")
    first = library.add_memory_source("Book A", book.id)
    assert library.add_memory_source("Book A", book.id)["id"] == first["id"]  # already held: no-op
    library.update_memory_source("Book A", book.id, tokens=99, status="done")
    assert library.memory_sources("Book A")[0]["tokens"] == 99
    library.rename_memory("Book A", "Book B")
    assert library.get_memory("Book A") is None and library.get_memory("Book B")["id"] == m["id"]
    assert [x["name"] for x in library.list_memories()] == ["Book B"]
    assert library.list_memories(status="done") == []
    library.add_history("Who?", "Her.", memory="Book B", citations=library.search('"real princess"', limit=1),
                        options={"use_memory": True})
    library.delete_memory("Book B")
    assert library.get_memory(m["id"]) is None and library.memory_sources(m["id"]) == []
    history = library.history()
    assert history[0]["memory_id"] is None and history[0]["answer"] == "Her."


def test_history(library, book):
    m = library.create_memory("m", backbone="b")
    library.add_history("Q1", "A1", memory=m["id"])
    library.add_history("Q2", "A2")
    library.add_history("Q3", "A3", memory="m", citations=[{"section_id": 1}], options={"passages": 4})
    assert [h["question"] for h in library.history()] == ["Q1", "Q2", "Q3"]
    assert [h["question"] for h in library.history(memory="m")] == ["Q1", "Q3"]
    last = library.history(memory="m", limit=1)
    assert last[0]["citations"] == [{"section_id": 1}] and last[0]["options"] == {"passages": 4}
    assert last[0]["memory"] == "m"
