"""The controller's actions on memories as files: rename, delete, export, import, and what
refuses them while a memory is being memorized.

A mixin of `AppController` (app/ui/controller.py; it uses its library, task manager, running
controls and signals), kept apart so the controller stays under one screen of concerns. Like the
rest of the controller: no widgets, every outcome a signal or a callback on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.ui.library_rows import STATUS_TEXT


class MemoryFileActions:
    """Rename, delete, export and import memories (mixed into AppController)."""

    def busy_refusal(self, name: str, action: str) -> str | None:
        """Why ``action`` ("rename", "delete", "export") cannot be done to memory ``name`` now:
        said before the person is asked anything (a new name, a file), never after."""
        if name not in self.controls:
            return self._unfinished(name) if action == "export" else None
        if action == "export":
            return (f"“{name}” is being memorized; export it once memorizing is done (or stop it: "
                    "what it held before this run can be exported then).")
        return f"“{name}” is being memorized; stop it first (its progress is kept), then {action} it."

    def _unfinished(self, name: str) -> str | None:
        """A stopped first run holds only a checkpoint: nothing can be exported yet."""
        from app.memorize.paths import TENSORS, memory_file

        row = self.library.get_memory(name)
        if row is None or (row.get("path") and memory_file(Path(row["path"]), TENSORS).exists()):
            return None
        status = STATUS_TEXT.get(row.get("status") or "", row.get("status") or "")
        return (f"“{name}” has nothing finished to export yet ({status}): resume memorizing it from "
                "its menu, then export it once it is done.")

    def rename_memory(self, name: str, new_name: str) -> None:
        from app.memories import rename_memory

        if refusal := self.busy_refusal(name, "rename"):
            self.error.emit("Rename failed", refusal)
            return
        # The worker may hold the memory attached under its old name: let it forget it.
        self.tasks.run_on_engine(lambda s: s.unload_memory(name))
        self._library_op(lambda lib: rename_memory(lib, name, new_name), "Rename failed",
                         f"Renamed “{name}” to “{new_name}”.",
                         after=lambda: self.memory_renamed.emit(name, new_name))

    def delete_memory(self, name: str) -> None:
        from app.memories import delete_memory

        if refusal := self.busy_refusal(name, "delete"):
            self.error.emit("Delete failed", refusal)
            return
        self.tasks.run_on_engine(lambda s: s.unload_memory(name))
        self._library_op(lambda lib: delete_memory(lib, name), "Delete failed", f"Deleted “{name}”.")

    def export_memory(self, name: str, dest: str | None = None, merged_dir: str | None = None,
                      on_done: Callable[[list], None] | None = None) -> None:
        """Copy the memory file (a library task, runs at once), or write a merged model folder
        (needs the model, so it runs on the engine worker, after any running memorization)."""
        from app.memories import export_memory_file, export_merged_model

        def done(written: list) -> None:
            self.message.emit(f"Exported {', '.join(str(p) for p in written)}")
            if on_done is not None:
                on_done(written)

        if dest:
            # The save dialog has already asked before replacing a file.
            self.tasks.run(lambda: export_memory_file(self.tasks.library(), name, dest, force=True),
                           on_done=done,
                           on_error=lambda msg: self.error.emit("Export failed", msg))
        if merged_dir:
            if self.worker_busy():
                self.message.emit("Export of the merged model starts when the running memorization ends.")
            else:
                self.message.emit("Exporting the merged model…")
            self.tasks.run_on_engine(lambda s: [export_merged_model(s, name, merged_dir)], on_done=done,
                             on_error=lambda msg: self.error.emit("Export failed", msg))

    def memory_file_name(self, path: str, on_done: Callable[[str], None]) -> None:
        """The name an exported memory file would be imported under (read on the task thread),
        so the window can ask for another before importing when that name is taken."""
        from app.memory_import import memory_file_name

        self.tasks.run(lambda: memory_file_name(path), on_done=on_done,
                       on_error=lambda msg: self.error.emit("Memory not imported", msg))

    def import_memory(self, path: str, name: str | None = None) -> None:
        """Add an exported memory file (under ``name``, else the name it was saved with), checked
        against the model on the worker (which may load the model first); a memory made for
        another model is refused with a sentence."""
        from app.memory_import import import_memory_file

        self.message.emit("Checking the memory file against the model…")

        def done(row: dict) -> None:
            self.library_changed.emit()
            self.message.emit(f"Imported memory “{row['name']}”.")

        self.tasks.run_on_engine(lambda s: import_memory_file(s, path, name=name), on_done=done,
                                 on_error=lambda msg: self.error.emit("Memory not imported", msg))
