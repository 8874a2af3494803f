"""Search as a reader uses it: a quoted phrase finds only passages that contain it, common words
neither rank nor get highlighted, and no-break spaces never show as double spaces."""

from __future__ import annotations

import re

import pytest

from app.cli import main
from app.library import Library


def paragraph(seed: str, n: int = 110) -> str:
    """About n words of filler around a seed sentence, so that each paragraph is one passage."""
    filler = ("The crew of the ship spoke of the sea and of the weather in the long hours of the "
              "watch, and the mate wrote the log of the day. ").split()
    words = (filler * (n // len(filler) + 1))[:n]
    return " ".join(words[: n // 2]) + f" {seed} " + " ".join(words[n // 2:])


@pytest.fixture
def whale_book(tmp_path) -> Library:
    chapters = [
        "# The Whiteness of the Whale",
        paragraph("Above all, the whiteness of the whale was what appalled me."),
        paragraph("A white bear of the poles and a white shark of the tropics are dreaded."),
        paragraph("The whale was white, and of the whiteness there was much to say."),
        "# The Chart",
        paragraph("Whiteness of foam marked the reef where the whale had gone down."),
    ]
    path = tmp_path / "whale.md"
    path.write_text("\n\n".join(chapters), encoding="utf-8")
    lib = Library()
    lib.import_file(path)
    yield lib
    lib.close()


def flat(text: str) -> str:
    return " ".join(text.split()).lower()


def test_a_quoted_phrase_finds_only_passages_that_contain_it(whale_book):
    hits = whale_book.search('"the whiteness of the whale"')
    # The chapter's title holds the phrase too; that must not make every passage under it a hit.
    assert [flat(h.text).count("the whiteness of the whale") for h in hits] == [1], [h.text[:80] for h in hits]
    # A phrase stays required when other words fall back to any-term matching.
    hits = whale_book.search('"the whiteness of the whale" appalled nonexistentword')
    assert hits and all("the whiteness of the whale" in flat(h.text) for h in hits)


def test_common_words_neither_rank_nor_highlight(whale_book):
    hits = whale_book.search("the whiteness of the whale")
    assert hits
    for h in hits:
        marked = {m.lower() for m in re.findall(r"\[([^\]]+)\]", h.snippet)}
        # porter stemming: "whiteness" also matches "white"; never "the" or "of"
        assert marked and all(m.startswith(("whit", "whale")) for m in marked), h.snippet
    assert [h.text for h in hits] == [h.text for h in whale_book.search("whiteness whale")]
    assert whale_book.search("the of")  # only common words: they are searched after all


def test_no_break_spaces_are_plain_spaces_in_titles_and_text(make_epub, capsys):
    book = make_epub(chapters=[("Chapter\u00a01.\u00a0 Loomings", "<p>Call\u00a0me Ishmael, some years ago.</p>")],
                     title="Moby\u00a0Dick;\u00a0 or, The Whale")
    assert main(["import", str(book)]) == 0
    assert main(["list"]) == 0
    assert main(["search", "Ishmael"]) == 0
    out = capsys.readouterr().out
    assert "\u00a0" not in out and "  " not in out.replace("\n    ", "\n"), out
    assert "Moby Dick; or, The Whale" in out and "Chapter 1. Loomings" in out
    with Library() as lib:
        section = [s for s in lib.sections(1) if "Loomings" in s.title][0]
        assert section.title == "Chapter 1. Loomings"
        assert "Call me Ishmael" in lib.section_text(section.id)
        assert lib.search('"call me ishmael"')


def test_phrase_search_on_a_real_book(shared_data):
    book = shared_data / "books" / "childrens-literature.epub"
    if not book.exists():
        pytest.skip(f"{book} not found")
    with Library() as lib:
        lib.import_file(book)
        hits = lib.search('"the ugly duckling"', limit=10)
        assert hits
        assert all("the ugly duckling" in flat(h.text) for h in hits), [h.text[:60] for h in hits]
        unquoted = lib.search("the ugly duckling", limit=5)
        assert unquoted and not any("[the]" in h.snippet.lower() for h in unquoted)
