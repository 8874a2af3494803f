"""Symbolic links in a notes folder: followed only when they stay inside the folder.

A vault may link a note from another of its folders (harmless), but a link can also dangle
(its target was deleted), loop onto itself, or point out of the folder (to /etc/passwd, or
to another person's files): such a note is skipped with a warning naming it, and the rest of
the folder is imported.
"""

from __future__ import annotations

from pathlib import Path


def link_problem(folder: Path, path: Path) -> str | None:
    """Why the note at ``path`` (a link or under ``folder``) must be skipped, or None."""
    if not path.is_symlink():
        return None
    name = path.relative_to(folder).as_posix().encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        return f"Skipped {name}: it is a link to a file that does not exist."
    except (RuntimeError, OSError):  # a loop: "Too many levels of symbolic links"
        return f"Skipped {name}: it is a link that points back to itself."
    if not target.is_relative_to(folder):
        return f"Skipped {name}: it is a link to a file outside the folder ({target})."
    if not target.is_file():
        return f"Skipped {name}: it is a link to something that is not a file."
    return None
