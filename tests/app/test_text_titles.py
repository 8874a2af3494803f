"""A plain text's title is its heading line, not its file name (when it has one)."""

from __future__ import annotations

from pathlib import Path

from app.importers.text import import_text


def title_of(text: str, name: str = "aesop-fables.txt") -> str:
    return import_text(Path(name), text.encode("utf-8")).title


def test_the_heading_line_names_the_text():
    assert title_of("AESOP'S FABLES\n\nThe Fox and the Grapes\n\nA hungry fox saw some grapes.\n") == (
        "AESOP'S FABLES")
    assert title_of("Title: Moby Dick\nAuthor: Herman Melville\n\nCall me Ishmael.\n") == "Moby Dick"


def test_no_heading_keeps_the_file_name():
    assert title_of("CHAPTER ONE\n\nThe keeper climbed the steps.\n") == "aesop-fables"  # a chapter mark
    assert title_of("The fox was hungry. It saw grapes.\n\nMore.\n") == "aesop-fables"  # a sentence
    assert title_of("a first line\nand a second line of one paragraph\n\nMore.\n") == "aesop-fables"
