"""Plain text finds its sections: titles on their own line between blank lines, and "CHAPTER"
lines, without turning short paragraphs, dialogue lines or labels into chapters."""

from __future__ import annotations

import textwrap
from pathlib import Path

from app.importers import import_file
from app.importers.text import import_text

REPO = Path(__file__).resolve().parents[2]
PROSE = ("The keeper climbed the hundred steps of the lighthouse every evening at dusk, trimmed "
         "the wick, wound the clockwork and watched the first ships come round the point. ") * 2


def sections_of(text: str, name: str = "story.txt") -> list[tuple[str, str]]:
    doc = import_text(Path(name), text.encode("utf-8"))
    return [(s.title, s.text) for s in doc.sections]


def test_the_sample_imports_as_its_three_fables():
    doc = import_file(REPO / "assets" / "sample" / "aesop-fables.txt")
    assert doc.title == "Three Fables of Aesop"
    assert [s.title for s in doc.sections] == [
        "The Hare and the Tortoise", "The Fox and the Grapes", "The Lion and the Mouse"]
    # the front matter (title line, translator) opens the first fable; nothing is lost
    assert doc.sections[0].text.startswith("Three Fables of Aesop\n\nTranslated by George Fyler")
    assert "A Hare one day ridiculed" in doc.sections[0].text
    assert doc.sections[1].text.startswith("A famished Fox")
    assert doc.sections[2].text.rstrip().endswith("confer benefits on a Lion.\"")


def test_gutenberg_chapter_lines_still_cut_chapters():
    front = "The Lighthouse, by A. Keeper\n\n" + "A long preface about lighthouses. " * 12
    text = (front + "\n\nCHAPTER I.\n\n" + PROSE + "\n\nCHAPTER II.\n\n" + PROSE
            + "\n\nCHAPTER III. The Storm\n\n" + PROSE)
    assert [t for t, _ in sections_of(text)] == [
        "Opening", "CHAPTER I.", "CHAPTER II.", "CHAPTER III. The Storm"]
    # short front matter opens chapter one instead of being a section of its own
    short = "The Lighthouse\n\nCHAPTER I.\n\n" + PROSE + "\n\nCHAPTER II.\n\n" + PROSE
    parts = sections_of(short)
    assert [t for t, _ in parts] == ["CHAPTER I.", "CHAPTER II."]
    assert parts[0][1].startswith("The Lighthouse\n\nThe keeper climbed")


def test_dialogue_and_short_paragraphs_are_not_titles():
    text = "\n\n".join([
        "The Lighthouse",
        PROSE,
        '"Where are you going?" asked the boy.',
        '"Up," said the keeper.',
        "Silence.",
        PROSE,
        "Yes, he thought. Tonight of all nights.",
        "— Who is there?",
        "He went up.",
        PROSE,
        "* * *",
        PROSE,
        "THE END.",
    ]) + "\n"
    assert [t for t, _ in sections_of(text)] == ["The Lighthouse"]


def test_a_list_of_contents_and_repeated_labels_are_not_sections():
    contents = "\n\n".join(["CONTENTS", "The Hare and the Tortoise", "The Fox and the Grapes",
                            "The Lion and the Mouse"])
    note = "Note\n\nKeep the lamp trimmed, and the glass clean, or the light is lost at sea."
    text = "\n\n".join([
        "Fables", contents,
        "The Hare and the Tortoise", PROSE, note,
        "The Fox and the Grapes", PROSE, note,
        "The Lion and the Mouse", PROSE,
    ])
    parts = sections_of(text)
    assert [t for t, _ in parts] == ["The Hare and the Tortoise", "The Fox and the Grapes",
                                     "The Lion and the Mouse"]
    assert parts[0][1].startswith("Fables\n\nCONTENTS\n\nThe Hare")  # short front matter opens it
    assert "Note\n\nKeep the lamp" in parts[0][1] and "Note\n\nKeep the lamp" in parts[1][1]


def test_numbered_titles_and_bylines():
    text = "\n\n".join([
        "Tales", "I.", "The Keeper", PROSE, "II.", "The Storm", "JOHN RUSKIN", PROSE,
        "III.", PROSE,
    ])
    parts = sections_of(text)
    assert [t for t, _ in parts] == ["I. The Keeper", "II. The Storm", "III."]
    assert parts[1][1].startswith("JOHN RUSKIN\n\nThe keeper climbed")  # the byline is text


def test_one_stray_title_line_cuts_nothing():
    text = "\n\n".join(["The Lighthouse", PROSE, "Anna Smith", PROSE, PROSE])
    assert len(sections_of(text)) == 1


def _as_plain_text(doc, keep_headings: bool) -> str:
    """A book as a plain-text file: paragraphs hard-wrapped at 72 columns, blank lines between."""
    paragraphs = [doc.title]
    for section in doc.sections:
        parts = section.text.split("\n\n")
        paragraphs += (parts if keep_headings else parts[1:])
    return "\n\n".join(p if "\n" in p else textwrap.fill(p, 72) for p in paragraphs) + "\n"


def test_a_real_anthology_as_plain_text(shared_data):
    """The shared children's anthology (stories, dialogue, bibliographies) written out as plain
    text: its story titles become sections, and no line of its prose or dialogue does."""
    book = import_file(shared_data / "books" / "childrens-literature.epub")
    headings = {s.text.split("\n", 1)[0].strip() for s in book.sections}
    titled = " ".join(s.title for s in book.sections).casefold()
    for keep_headings in (True, False):
        text = _as_plain_text(book, keep_headings)
        found = [s.title for s in import_text(Path("anthology.txt"), text.encode()).sections]
        # the anthology's own inner headings, and the chapters of its last story, count too
        strays = [t for t in found if t not in headings and t.casefold() not in titled
                  and t not in ("BIBLIOGRAPHY", "SUGGESTIONS FOR READING")
                  and not t.startswith("CHAPTER ")]
        assert not strays, strays
        assert "CHAPTER V HOW LITTLE GLUCK SET OFF ON AN EXPEDITION TO THE GOLDEN RIVER, AND HOW " \
               "HE PROSPERED THEREIN; WITH OTHER MATTERS OF INTEREST" in found  # wrapped, whole
        stories = [s.title.split(" ", 1)[1] for s in book.sections if s.title[:3].isdigit()]
        assert sum(story in found for story in stories) >= len(stories) - 2, found


def test_a_technical_book_as_plain_text(shared_data):
    """Accessible EPUB 3 as plain text: its chapters and headings become sections; its 26 "Note"
    boxes, its "Tip" and its "Caution" do not, and without its headings it has no sections."""
    book = import_file(shared_data / "books" / "accessible_epub_3.epub")
    headings = [s.text.split("\n", 1)[0].strip() for s in book.sections]
    found = [s.title for s in import_text(Path("epub3.txt"),
                                          _as_plain_text(book, True).encode()).sections]
    assert sum(h in found for h in headings) >= len(headings) - 2, found
    # one line of its list of type conventions ("Italic", then what italic marks) reads as a
    # title: the one stray
    assert [t for t in found if t not in headings] == ["Italic"]
    bodies = import_text(Path("epub3.txt"), _as_plain_text(book, False).encode())
    assert [s.title for s in bodies.sections] == ["Accessible EPUB 3"]


def test_header_fields_are_not_titles():
    text = "Title: The Keeper\n\n" + PROSE + "\n\nThe Storm\n\n" + PROSE + "\n\nThe Calm\n\n" + PROSE
    doc = import_text(Path("keeper.txt"), text.encode())
    assert doc.title == "The Keeper"
    assert [s.title for s in doc.sections] == ["Opening", "The Storm", "The Calm"]
