"""Books and notes: EPUB (shared and generated), text in four encodings, Markdown, HTML, PDF."""

from __future__ import annotations

import re

import pytest

from app.importers import detect_format, import_file

NOISE = re.compile(r"&(nbsp|amp|lt|gt|#\d+);|\{[^}]*:[^}]*;|var tracking")
TAG = re.compile(r"<[a-z/][^>]*>")


ENTITY = re.compile(r"&(nbsp|amp|lt|gt|quot|#\d+);")


def assert_clean(doc, code: bool = False) -> None:
    """No leftover entities; no tags, CSS or script text unless the book quotes code itself."""
    for section in doc.sections:
        assert section.text.strip(), section.title
        assert not ENTITY.search(section.text), (section.title, ENTITY.search(section.text).group())
        if not code:
            assert not NOISE.search(section.text), (section.title, NOISE.search(section.text).group())
            assert not TAG.search(section.text), (section.title, TAG.search(section.text).group())


def test_shared_epub_accessible(shared_data):
    doc = import_file(shared_data / "books" / "accessible_epub_3.epub")
    assert doc.title == "Accessible EPUB 3"
    assert doc.authors == ["Matt Garrish"]
    assert doc.language == "en"
    assert doc.kind == "book"
    titles = [s.title for s in doc.sections]
    # spine order, titles from the navigation document, cover/nav/copyright left out
    assert titles[0] == "Preface"
    assert titles.index("1. Introduction") < titles.index("Accessibility and Usability")
    assert not any(t.lower() in ("cover", "table of contents") for t in titles)
    assert any("navigation" in s for s in doc.meta["skipped"])
    assert len(doc.content_hash) == 64
    assert_clean(doc, code=True)  # a book about EPUB markup quotes tags and CSS in its examples


def test_shared_epub_split_at_toc_anchors(shared_data):
    """Children's Literature keeps every story in one file; the nav anchors cut it into stories."""
    doc = import_file(shared_data / "books" / "childrens-literature.epub")
    assert doc.title == "Children's Literature"
    assert doc.authors == ["Charles Madison Curry", "Erle Elsworth Clippinger"]
    titles = [s.title for s in doc.sections]
    assert "192 THE REAL PRINCESS" in titles
    assert titles.index("193 THE EMPEROR'S NEW CLOTHES") == titles.index("192 THE REAL PRINCESS") + 1
    princess = doc.sections[titles.index("192 THE REAL PRINCESS")]
    assert "twenty mattresses" in princess.text and "Emperor" not in princess.text[:200]
    assert princess.meta["href"].endswith("s04.xhtml")
    assert_clean(doc)


def test_generated_epub_skips_cover_copyright_and_markup(make_epub):
    doc = import_file(make_epub())
    assert [s.title for s in doc.sections] == ["Chapter One", "Chapter Two"]
    assert doc.sections[0].text == (
        "Chapter One\n\nIt was a bright cold day in April, and the clocks were striking thirteen.\n\n"
        "Winston & Julia walked home."
    )
    assert {s.split(":")[1].strip() for s in doc.meta["skipped"]} >= {"cover", "copyright", "navigation"}
    assert doc.authors == ["Ada Writer"] and doc.title == "A Small Book"
    assert_clean(doc)


def test_epub_detected_by_content_not_name(make_epub, tmp_path):
    renamed = tmp_path / "download.bin"
    renamed.write_bytes(make_epub().read_bytes())
    assert import_file(renamed).title == "A Small Book"


def test_font_obfuscation_is_not_drm(make_epub):
    fonts_only = """<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container"
      xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>
      <enc:EncryptionMethod Algorithm="http://www.idpf.org/2008/embedding"/>
      <enc:CipherData><enc:CipherReference URI="OEBPS/font.otf"/></enc:CipherData>
      </enc:EncryptedData></encryption>"""
    assert len(import_file(make_epub(encryption=fonts_only)).sections) == 2


CHAPTERED = """The Project Gutenberg eBook of Tiny Tales
Title: Tiny Tales
Author: Jo Teller

*** START OF THE PROJECT GUTENBERG EBOOK TINY TALES ***

CHAPTER I. The Fox

The fox ran along the hedge and over the stile, looking for
the hen house that the farmer had left open that very morning,
and found it.

CHAPTER II. The Crow

The crow sat on the fence, as crows do, watching the café
across the road where the naïve owner fed every bird he saw.

*** END OF THE PROJECT GUTENBERG EBOOK TINY TALES ***
Licence text that must not be imported.
"""


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_text_encodings_and_chapters(tmp_path, encoding):
    path = tmp_path / f"tales-{encoding}.txt"
    path.write_bytes(CHAPTERED.encode(encoding))
    doc = import_file(path)
    assert doc.title == "Tiny Tales" and doc.authors == ["Jo Teller"]
    assert [s.title for s in doc.sections] == ["CHAPTER I. The Fox", "CHAPTER II. The Crow"]
    crow = doc.sections[1].text
    assert "café" in crow and "naïve" in crow  # decoded right in every encoding
    # hard-wrapped lines rejoined into one paragraph
    assert "watching the café across the road" in crow
    assert "Licence text" not in doc.sections[-1].text and "START OF" not in doc.sections[0].text


def test_text_without_chapters_is_one_section(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("Just a short note.\n\nWith two paragraphs.\n", encoding="utf-8")
    doc = import_file(path)
    assert len(doc.sections) == 1 and doc.sections[0].text == "Just a short note.\n\nWith two paragraphs."


def test_markdown_sections_and_markup(tmp_path):
    path = tmp_path / "garden.md"
    path.write_text(
        "# Garden Notes\n\nIntro to the **garden** plan.\n\n## Tomatoes\n\nPlant in [May](http://x.y/may).\n"
        "![a photo](img.png)\n\n## Beans\n\nBeans climb *fast*.\n", encoding="utf-8")
    doc = import_file(path)
    assert doc.title == "Garden Notes" and doc.kind == "notes"
    assert [s.title for s in doc.sections] == ["Garden Notes", "Tomatoes", "Beans"]
    assert "Plant in May." in doc.sections[1].text and "http" not in doc.sections[1].text
    assert doc.sections[2].text.endswith("Beans climb fast.")


def test_html_page(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(
        b"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'><title>Les Mis\xc3\xa9rables</title>"
        b"<meta name='author' content='Victor Hugo'><style>h1{color:red}</style></head><body>"
        b"<nav>Home | About</nav><h1>Tome I</h1><p>En 1815, M. Charles-Fran\xc3\xa7ois-Bienvenu Myriel"
        b" &eacute;tait &eacute;v&ecirc;que de Digne.</p><script>alert(1)</script>"
        b"<h1>Tome II</h1><p>Cosette &amp; Marius.</p></body></html>")
    doc = import_file(path)
    assert doc.title == "Les Misérables" and doc.authors == ["Victor Hugo"] and doc.language == "fr"
    assert [s.title for s in doc.sections] == ["Tome I", "Tome II"]
    assert "Myriel était évêque de Digne." in doc.sections[0].text
    assert doc.sections[1].text.endswith("Cosette & Marius.")
    assert_clean(doc)


def test_pdf_pages_joined_into_paragraphs(make_pdf):
    lines = [
        "The lighthouse stood on the northern cape for more than two",
        "hundred years, guiding ships past the rocks of the bay and the",
        "shoals beyond them, until the new beacon was built.",
        "",
        "A second paragraph begins here and it talks about the keeper.",
    ]
    path = make_pdf(pages=[lines, ["Page two has its own text (with parentheses)."]], title="Lighthouse Notes")
    doc = import_file(path)
    assert doc.title == "Lighthouse Notes" and doc.authors == ["Pat Author"]
    assert len(doc.sections) == 1 and doc.sections[0].meta["pages"] == [1, 2]
    text = doc.sections[0].text
    assert "more than two hundred years, guiding ships" in text
    assert "Page two has its own text (with parentheses)." in text


def test_detect_format_from_content(tmp_path, make_pdf):
    pdf = tmp_path / "x.dat"
    pdf.write_bytes(make_pdf().read_bytes())
    assert detect_format(pdf, pdf.read_bytes()) == "pdf"
    html = tmp_path / "page.txt"
    html.write_text("<!doctype html><html><body><p>Hi</p></body></html>")
    assert detect_format(html, html.read_bytes()) == "html"
