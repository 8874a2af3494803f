"""Builders for small, realistic test files (EPUB, PDF) and a library fixture.

Files are generated rather than checked in so each test shows exactly what it feeds the importer.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from app.library import Library

CONTAINER = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""

PAGE = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="en">
<head><title>{title}</title><style>p {{ color: red; }}</style>
<script>var tracking = "do not import me";</script></head>
<body{body_attrs}>{body}</body></html>"""


def build_epub(
    path: Path,
    chapters: list[tuple[str, str]],
    title: str = "A Small Book",
    author: str = "Ada Writer",
    cover: bool = True,
    copyright_page: bool = True,
    encryption: str | None = None,
) -> Path:
    """An EPUB 3 with an optional cover and copyright page, a nav document and the given chapters."""
    pages: list[tuple[str, str, str]] = []  # (id, file, xhtml)
    if cover:
        pages.append(("cover", "cover.xhtml", PAGE.format(title="Cover", body_attrs=' epub:type="cover"',
                                                          body='<img src="cover.png" alt="Cover"/>')))
    if copyright_page:
        pages.append(("copy", "copyright.xhtml", PAGE.format(
            title="Copyright", body_attrs="",
            body="<p>Copyright © 2024 Ada Writer. All rights reserved.</p><p>ISBN 978-0-00-000000-0</p>")))
    for n, (heading, body) in enumerate(chapters, 1):
        pages.append((f"ch{n}", f"ch{n}.xhtml", PAGE.format(title=heading, body_attrs="",
                                                            body=f"<h1>{heading}</h1>{body}")))
    nav_items = "".join(f'<li><a href="ch{n}.xhtml">{h}</a></li>' for n, (h, _) in enumerate(chapters, 1))
    nav = PAGE.format(title="Contents", body_attrs="",
                      body=f'<nav epub:type="toc" id="toc"><h1>Contents</h1><ol>{nav_items}</ol></nav>')
    manifest = "".join(f'<item id="{i}" href="{f}" media-type="application/xhtml+xml"/>' for i, f, _ in pages)
    spine = "".join(f'<itemref idref="{i}"/>' for i, _, _ in pages)
    opf = f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="id">urn:uuid:12345678-1234-1234-1234-123456789abc</dc:identifier>
    <dc:title>{title}</dc:title><dc:creator>{author}</dc:creator><dc:language>en</dc:language>
    <meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>
  </metadata>
  <manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>{manifest}</manifest>
  <spine><itemref idref="nav"/>{spine}</spine>
</package>"""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml", CONTAINER)
        if encryption is not None:
            z.writestr("META-INF/encryption.xml", encryption)
        z.writestr("OEBPS/content.opf", opf)
        z.writestr("OEBPS/nav.xhtml", nav)
        for _, file, xhtml in pages:
            z.writestr(f"OEBPS/{file}", xhtml, compress_type=zipfile.ZIP_DEFLATED)
    return path


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def build_pdf(path: Path, pages: list[list[str]], title: str | None = None) -> Path:
    """A minimal valid PDF (Helvetica text, one line per string), written by hand."""
    objects: list[bytes] = []
    n_pages = len(pages)
    # 1 catalog, 2 pages, 3 font, then (page, content) pairs, then info
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for i, lines in enumerate(pages):
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 740 Td"]
        for line in lines:
            ops.append(f"({_pdf_escape(line)}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("cp1252")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    info_ref = ""
    if title:
        objects.append(f"<< /Title ({_pdf_escape(title)}) /Author (Pat Author) >>".encode())
        info_ref = f" /Info {len(objects)} 0 R"
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info_ref} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


@pytest.fixture
def make_epub(tmp_path) -> Callable[..., Path]:
    def make(name: str = "book.epub", chapters: list[tuple[str, str]] | None = None, **kw) -> Path:
        chapters = chapters if chapters is not None else [
            ("Chapter One", "<p>It was a bright cold day in April, and the clocks were striking thirteen.</p>"
                            "<p>Winston &amp; Julia walked&nbsp;home.</p>"),
            ("Chapter Two", "<p>The second chapter tells of the lighthouse keeper and his lamp.</p>"),
        ]
        return build_epub(tmp_path / name, chapters, **kw)

    return make


@pytest.fixture
def make_pdf(tmp_path) -> Callable[..., Path]:
    def make(name: str = "paper.pdf", pages: list[list[str]] | None = None, title: str | None = None) -> Path:
        return build_pdf(tmp_path / name, pages or [["Hello PDF."]], title)

    return make


@pytest.fixture
def library(locas_home) -> Library:
    lib = Library()
    yield lib
    lib.close()


def _snapshot(lib: Library) -> tuple:
    """Everything a failed import could have touched: counts and all document/section rows."""
    docs = lib._rows("SELECT * FROM documents ORDER BY id")
    sections = lib._rows("SELECT id, document_id, title, length(text) AS n FROM sections ORDER BY id")
    return lib.counts(), docs, sections


@pytest.fixture
def snapshot() -> Callable[[Library], tuple]:
    return _snapshot
