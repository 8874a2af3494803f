"""Documents in the library: storing them with their search index, reading them back, searching.

Why SQLite through sqlite-utils: a single file a person can back up, transactions so a failed
import never leaves half a book behind, and FTS5 for passage search without another service.
Every write that belongs together runs in one ``_write()`` block.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from ..document import Document, Section, memorized_text
from ..passages import fts_query, passage_spans
from .records import DocumentInfo, Passage, SectionInfo
from .store import LibraryError, Store, now


class DocumentsRepo(Store):
    """Documents, their sections and the passage index (``sync_notes`` comes from NotesRepo)."""

    def add_document(self, doc: Document) -> int:
        """Store a Document (sections + index) in one transaction and return its id.

        The same content (same hash) already stored returns the existing id: no duplicate.
        """
        return self._store(doc)[0]

    def _store(self, doc: Document) -> tuple[int, bool]:
        """(document id, whether it is new): the duplicate check and the insert race with another
        process importing the same file, so the UNIQUE hash decides and the loser reads the winner's."""
        existing = self.find_by_hash(doc.content_hash)
        if existing is not None:
            return existing.id, False
        if not doc.sections:
            raise LibraryError(f"{doc.title} has no sections to store.")
        try:
            return self._insert_document(doc), True
        except sqlite3.IntegrityError:
            existing = self.find_by_hash(doc.content_hash)
            if existing is None:
                raise
            return existing.id, False

    def _insert_document(self, doc: Document) -> int:
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO documents (title, authors, language, kind, source_path, content_hash, sections, "
                "characters, meta, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [doc.title, json.dumps(doc.authors), doc.language, doc.kind, doc.source_path, doc.content_hash,
                 len(doc.sections), doc.characters, json.dumps(doc.meta, ensure_ascii=False), now()],
            )
            document_id = cursor.lastrowid
            for position, section in enumerate(doc.sections):
                self._insert_section(db, document_id, position, section)
        return document_id

    def _insert_section(self, db: Database, document_id: int, position: int, section: Section) -> int:
        cursor = db.execute(
            "INSERT INTO sections (document_id, position, title, text, characters, meta) VALUES (?, ?, ?, ?, ?, ?)",
            [document_id, position, section.title, section.text, len(section.text),
             json.dumps(section.meta, ensure_ascii=False)],
        )
        section_id = cursor.lastrowid
        self._index_section(db, document_id, section_id, section)
        return section_id

    def _index_section(self, db: Database, document_id: int, section_id: int, section: Section) -> None:
        """The section's passages in the search index."""
        rows = [
            (section.text[start:end], section.title, document_id, section_id, idx, start, end)
            for idx, (start, end) in enumerate(passage_spans(section.text))
        ]
        db.conn.executemany(
            'INSERT INTO passages (text, section_title, document_id, section_id, idx, start, "end") '
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def import_file(self, path: str | Path, max_size: int | None = None) -> DocumentInfo:
        """Import a file (raises ImportFailed, leaving the library untouched, on bad input)."""
        from ..importers import import_file

        doc = import_file(path, max_size=max_size)
        if doc.meta.get("format") == "notes-folder":  # a folder imported again is synced
            synced = self.sync_notes(doc)
            info = self.get_document(synced.document_id)
            assert info is not None
            info.duplicate = not synced.created and not synced.changes
            return info
        document_id, created = self._store(doc)
        info = self.get_document(document_id)
        assert info is not None
        info.duplicate = not created
        return info

    def _document_info(self, row: dict[str, Any]) -> DocumentInfo:
        return DocumentInfo(
            id=row["id"], title=row["title"], authors=json.loads(row["authors"]), language=row["language"],
            kind=row["kind"], source_path=row["source_path"], content_hash=row["content_hash"],
            sections=row["sections"], characters=row["characters"], created=row["created"],
            meta=json.loads(row["meta"]),
        )

    def find_by_hash(self, content_hash: str) -> DocumentInfo | None:
        rows = self._rows("SELECT * FROM documents WHERE content_hash = ?", [content_hash])
        return self._document_info(rows[0]) if rows else None

    def get_document(self, document_id: int) -> DocumentInfo | None:
        rows = self._rows("SELECT * FROM documents WHERE id = ?", [document_id])
        return self._document_info(rows[0]) if rows else None

    def list_documents(self) -> list[DocumentInfo]:
        return [self._document_info(r) for r in self._rows("SELECT * FROM documents ORDER BY id")]

    def sections(self, document_id: int) -> list[SectionInfo]:
        rows = self._rows(
            "SELECT id, document_id, position, title, characters, meta FROM sections "
            "WHERE document_id = ? ORDER BY position",
            [document_id],
        )
        return [SectionInfo(r["id"], r["document_id"], r["position"], r["title"], r["characters"],
                            json.loads(r["meta"])) for r in rows]

    def section_text(self, section_id: int) -> str:
        rows = self._rows("SELECT text FROM sections WHERE id = ?", [section_id])
        if not rows:
            raise LibraryError(f"There is no section {section_id} in the library.")
        return rows[0]["text"]

    def load_document(self, document_id: int) -> Document:
        """The stored Document with its full section text (what a memorize job reads)."""
        info = self.get_document(document_id)
        if info is None:
            raise LibraryError(f"There is no document {document_id} in the library.")
        rows = self._rows("SELECT title, text, meta FROM sections WHERE document_id = ? ORDER BY position",
                          [document_id])
        return Document(
            title=info.title, authors=info.authors, language=info.language, kind=info.kind,
            source_path=info.source_path, content_hash=info.content_hash,
            sections=[Section(r["title"], r["text"], json.loads(r["meta"])) for r in rows], meta=info.meta,
        )

    def document_text(self, document_id: int) -> str:
        """The whole document as one text, each section under its title (what gets memorized)."""
        doc = self.load_document(document_id)
        return "\n\n".join(memorized_text(s.title, s.text) for s in doc.sections)

    def rename_document(self, document_id: int, title: str) -> DocumentInfo:
        title = title.strip()
        if not title:
            raise LibraryError("A document needs a title.")
        if self.get_document(document_id) is None:
            raise LibraryError(f"There is no document {document_id} in the library.")
        with self._write() as db:
            db.execute("UPDATE documents SET title = ? WHERE id = ?", [title, document_id])
            db.execute("UPDATE memory_sources SET document_title = ? WHERE document_id = ?", [title, document_id])
        info = self.get_document(document_id)
        assert info is not None
        return info

    def passage_context(self, passage: Passage | dict[str, Any]) -> dict[str, Any]:
        """The section a passage (or a stored citation dict) comes from, with the passage's offsets."""
        get = passage.get if isinstance(passage, dict) else lambda key: getattr(passage, key)
        section_id = get("section_id")
        rows = self._rows(
            "SELECT s.id, s.document_id, s.position, s.title, s.text, d.title AS document_title "
            "FROM sections s JOIN documents d ON d.id = s.document_id WHERE s.id = ?",
            [section_id],
        )
        if not rows:
            raise LibraryError("The passage's document is no longer in the library.")
        r = rows[0]
        return {"document_id": r["document_id"], "document_title": r["document_title"], "section_id": r["id"],
                "section_title": r["title"], "section_position": r["position"], "text": r["text"],
                "start": get("start"), "end": get("end")}

    def delete_document(self, document_id: int) -> DocumentInfo:
        """Remove a document, its sections and index rows; memories keep a 'deleted' mark."""
        info = self.get_document(document_id)
        if info is None:
            raise LibraryError(f"There is no document {document_id} in the library.")
        with self._write() as db:
            db.execute("DELETE FROM passages WHERE document_id = ?", [document_id])
            db.execute("DELETE FROM sections WHERE document_id = ?", [document_id])
            db.execute("DELETE FROM documents WHERE id = ?", [document_id])
            db.execute(
                "UPDATE memory_sources SET status = 'deleted' WHERE document_id = ?",
                [document_id],
            )
        return info

    # --- search ---------------------------------------------------------------------------

    def search(self, query: str, document_ids: Iterable[int] | None = None, limit: int = 10,
               fill: bool = False) -> list[Passage]:
        """Passages ranked by bm25: all terms first, any term when that finds nothing.

        With ``fill``, passages holding only some of the terms follow those holding all of them,
        up to ``limit``: the wide candidate list a reranker chooses from.
        Text in double quotes is matched as a phrase; punctuation never raises a syntax error.
        """
        found: list[Passage] = []
        for any_term in (False, True):
            match = fts_query(query, any_term=any_term)
            if match is None:
                return found
            seen = {(p.section_id, p.index) for p in found}
            found += [p for p in self._search(match, document_ids, limit) if (p.section_id, p.index) not in seen]
            if (found and not fill) or len(found) >= limit:
                break
        return found[:limit]

    def _search(self, match: str, document_ids: Iterable[int] | None, limit: int) -> list[Passage]:
        sql = (
            "SELECT p.document_id, d.title AS document_title, p.section_id, p.section_title, s.position, "
            'p.idx, p.start, p."end", p.text, '
            "snippet(passages, 0, '[', ']', '…', 24) AS snippet, bm25(passages, 1.0, 0.3) AS score "
            "FROM passages p JOIN documents d ON d.id = p.document_id JOIN sections s ON s.id = p.section_id "
            "WHERE passages MATCH ?"
        )
        params: list[Any] = [match]
        if document_ids is not None:
            ids = [int(i) for i in document_ids]
            if not ids:
                return []
            sql += f" AND p.document_id IN ({', '.join('?' * len(ids))})"
            params += ids
        sql += " ORDER BY score LIMIT ?"
        params.append(int(limit))
        return [
            Passage(r["document_id"], r["document_title"], r["section_id"], r["section_title"], r["position"],
                    r["idx"], r["start"], r["end"], r["text"], r["snippet"], r["score"])
            for r in self._rows(sql, params)
        ]
