"""Notes folders in the library: syncing a folder imported again, and which version of each note
a memory holds (continual memorization of notes).

Notes are matched by their relative path and compared by content hash, so an edited note keeps
its section id and a memory knows which of its notes are new, changed or gone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..document import Document, section_hash
from .records import DocumentInfo, NoteChange, NotesSync, SectionInfo
from .store import Store, now


class NotesRepo(Store):
    """Notes sync and held note versions (uses DocumentsRepo's inserts and MemoriesRepo's ids)."""

    def find_notes_folder(self, source_path: str) -> DocumentInfo | None:
        """The notes document imported from ``source_path`` (a resolved folder path), if any."""
        rows = self._rows("SELECT * FROM documents WHERE kind = 'notes' AND source_path = ? ORDER BY id",
                          [source_path])
        return self._document_info(rows[0]) if rows else None

    def _note_rows(self, document_id: int) -> list[dict[str, Any]]:
        rows = self._rows("SELECT id, position, title, text, meta FROM sections WHERE document_id = ? ORDER BY position",
                          [document_id])
        for r in rows:
            r["meta"] = json.loads(r["meta"])
            r["path"] = r["meta"].get("path") or f"#{r['position']}"
            r["hash"] = r["meta"].get("hash") or section_hash(r["title"], r["text"])
        return rows

    def sync_notes(self, doc: Document) -> NotesSync:
        """Bring the stored notes document from the same folder in step with ``doc``, in one transaction.

        Notes are matched by their relative path and compared by content hash: a changed note
        keeps its section id (citations and memory records still point at it) and gets new text
        and index rows; new notes are inserted, deleted ones removed. The first import of a
        folder simply stores it.
        """
        existing = self.find_notes_folder(doc.source_path)
        if existing is None:
            document_id = self.add_document(doc)
            added = [NoteChange(s.id, s.meta.get("path", ""), s.title) for s in self.sections(document_id)]
            return NotesSync(document_id, created=True, added=added)
        document_id = existing.id
        old = {r["path"]: r for r in self._note_rows(document_id)}
        result = NotesSync(document_id)
        with self._write() as db:
            new_paths = {s.meta.get("path") for s in doc.sections}
            gone = [r for path, r in old.items() if path not in new_paths]
            for position, section in enumerate(doc.sections):
                before = old.get(section.meta.get("path"))
                meta = json.dumps(section.meta, ensure_ascii=False)
                if before is None:
                    section_id = self._insert_section(db, document_id, position, section)
                    result.added.append(NoteChange(section_id, section.meta.get("path", ""), section.title))
                elif before["hash"] != section.meta.get("hash"):
                    db.execute("UPDATE sections SET position = ?, title = ?, text = ?, characters = ?, meta = ? "
                               "WHERE id = ?",
                               [position, section.title, section.text, len(section.text), meta, before["id"]])
                    db.execute("DELETE FROM passages WHERE section_id = ?", [before["id"]])
                    self._index_section(db, document_id, before["id"], section)
                    result.changed.append(NoteChange(before["id"], before["path"], section.title))
                else:
                    db.execute("UPDATE sections SET position = ?, meta = ? WHERE id = ?", [position, meta, before["id"]])
                    result.unchanged += 1
            for r in gone:
                db.execute("DELETE FROM passages WHERE section_id = ?", [r["id"]])
                db.execute("DELETE FROM sections WHERE id = ?", [r["id"]])
                result.deleted.append(NoteChange(r["id"], r["path"], r["title"]))
            db.execute("UPDATE documents SET content_hash = ?, sections = ?, characters = ?, meta = ? WHERE id = ?",
                       [doc.content_hash, len(doc.sections), doc.characters,
                        json.dumps(doc.meta, ensure_ascii=False), document_id])
        return result

    def unheld_sections(self, memory: int | str, document_id: int) -> list[SectionInfo]:
        """The document's sections whose current version the memory does not hold (new or changed notes)."""
        memory_id = self._memory_id(memory)
        held = {r["section_hash"] for r in self._rows(
            "SELECT section_hash FROM memory_sections WHERE memory_id = ? AND document_id = ? AND status = 'done'",
            [memory_id, document_id])}
        ids = {r["id"] for r in self._note_rows(document_id) if r["hash"] not in held}
        return [s for s in self.sections(document_id) if s.id in ids]

    def set_pending_sections(self, memory: int | str, document_id: int, section_ids: Iterable[int]) -> None:
        """Plan to memorize only these sections of the document into the memory (the next job
        for it, or its resume, reads the plan with ``pending_sections``)."""
        memory_id = self._memory_id(memory)
        wanted = set(section_ids)
        rows = [r for r in self._note_rows(document_id) if r["id"] in wanted]
        self.add_memory_source(memory_id, document_id, status="pending")
        with self._write() as db:
            db.execute("DELETE FROM memory_sections WHERE memory_id = ? AND document_id = ? AND status = 'pending'",
                       [memory_id, document_id])
            db.conn.executemany(
                "INSERT OR IGNORE INTO memory_sections (memory_id, document_id, section_hash, path, title, status, "
                "updated) VALUES (?, ?, ?, ?, ?, 'pending', ?)",
                [(memory_id, document_id, r["hash"], r["path"], r["title"], now()) for r in rows],
            )
            db.execute("UPDATE memory_sources SET status = 'pending' WHERE memory_id = ? AND document_id = ? "
                       "AND status != 'deleted'", [memory_id, document_id])

    def pending_sections(self, memory: int | str, document_id: int) -> list[int] | None:
        """Section ids planned by ``set_pending_sections``, in document order; None when there is
        no plan (the whole document is to be memorized)."""
        memory_id = self._memory_id(memory)
        planned = {r["section_hash"] for r in self._rows(
            "SELECT section_hash FROM memory_sections WHERE memory_id = ? AND document_id = ? AND status = 'pending'",
            [memory_id, document_id])}
        if not planned:
            return None
        return [r["id"] for r in self._note_rows(document_id) if r["hash"] in planned]

    def mark_sections_held(self, memory: int | str, document_id: int, tokens: dict[int, int]) -> None:
        """Record that the memory now holds these sections ({section id: tokens}); clears the plan."""
        memory_id = self._memory_id(memory)
        rows = [r for r in self._note_rows(document_id) if r["id"] in tokens]
        with self._write() as db:
            db.execute("DELETE FROM memory_sections WHERE memory_id = ? AND document_id = ? AND status = 'pending'",
                       [memory_id, document_id])
            db.conn.executemany(
                "INSERT OR REPLACE INTO memory_sections (memory_id, document_id, section_hash, path, title, tokens, "
                "status, updated) VALUES (?, ?, ?, ?, ?, ?, 'done', ?)",
                [(memory_id, document_id, r["hash"], r["path"], r["title"], tokens[r["id"]], now()) for r in rows],
            )

    def held_sections(self, memory: int | str, document_id: int | None = None) -> list[dict[str, Any]]:
        """The section versions the memory holds (path, title, section_hash, tokens), oldest first."""
        memory_id = self._memory_id(memory)
        sql = "SELECT * FROM memory_sections WHERE memory_id = ? AND status = 'done'"
        params: list[Any] = [memory_id]
        if document_id is not None:
            sql += " AND document_id = ?"
            params.append(document_id)
        return self._rows(sql + " ORDER BY id", params)

    def stale_sections(self, memory: int | str, document_id: int) -> list[dict[str, Any]]:
        """Held versions no longer in the document: notes deleted since, or older versions of edited ones.

        Each row gets ``deleted``: True when no note at that path exists any more.
        """
        current = self._note_rows(document_id)
        hashes = {r["hash"] for r in current}
        paths = {r["path"] for r in current}
        stale = [r for r in self.held_sections(memory, document_id) if r["section_hash"] not in hashes]
        for r in stale:
            r["deleted"] = r["path"] not in paths
        return stale
