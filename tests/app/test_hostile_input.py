"""Hostile and damaged inputs: zip bombs, bad bytes, XXE, path traversal, locked PDFs, bad links,
file names that are not UTF-8. Each gives a document or one sentence, and the library is unchanged
by a refusal."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from app.cli import main
from app.document import ImportFailed
from app.importers import import_file
from app.importers.epub import MAX_UNPACKED_MEMBER


def _refused(library, snapshot, path, *words) -> str:
    before = snapshot(library)
    with pytest.raises(ImportFailed) as err:
        library.import_file(path)
    message = str(err.value)
    assert message.endswith(".") and "\n" not in message and "Error" not in message, message
    for w in words:
        assert w.lower() in message.lower(), message
    assert snapshot(library) == before
    return message


def _rewrite(path: Path, replace: dict[str, bytes | None], add: dict[str, bytes] | None = None) -> Path:
    """Copy an EPUB with some members replaced (None drops one) and others added."""
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename in replace:
                if replace[info.filename] is not None:
                    z.writestr(info.filename, replace[info.filename])
            else:
                z.writestr(info, src.read(info.filename))
        for name, data in (add or {}).items():
            z.writestr(name, data)
    path.write_bytes(out.getvalue())
    return path


# -- zip bombs -------------------------------------------------------------------------------

def test_zip_bomb_epub_is_refused_before_unpacking(make_epub, library, snapshot, monkeypatch):
    path = make_epub("bomb.epub")
    bomb = b"<p>" + b"a" * (MAX_UNPACKED_MEMBER + 1) + b"</p>"
    _rewrite(path, {"OEBPS/ch1.xhtml": bomb})
    assert path.stat().st_size < 1_000_000  # a small file...
    unpacked = []
    monkeypatch.setattr(zipfile.ZipFile, "testzip", lambda self: unpacked.append(1))
    _refused(library, snapshot, path, "bomb.epub", "MiB", "zip bomb")
    assert unpacked == []  # ...refused from the sizes its headers declare


def test_many_members_adding_up_are_refused(make_epub, library, snapshot, monkeypatch):
    from app.importers import epub

    monkeypatch.setattr(epub, "MAX_UNPACKED_TOTAL", 2_000_000)
    path = make_epub("many.epub")
    _rewrite(path, {}, {f"OEBPS/pad{i}.css": b" " * 600_000 for i in range(5)})
    _refused(library, snapshot, path, "unpacks to")


# -- encodings and names ----------------------------------------------------------------------

def test_utf8_with_a_few_bad_bytes_stays_utf8(tmp_path):
    path = tmp_path / "cafe.txt"
    path.write_bytes("Le café était très bon, dit-elle.\n\n".encode() * 20 + b"Une \xff erreur.\n")
    text = import_file(path).sections[0].text
    assert "Le café était" in text and "Ã" not in text and "\ufffd" in text


def test_legacy_text_is_still_legacy(tmp_path):
    path = tmp_path / "old.txt"
    path.write_bytes("Le café était très bon.\n".encode("cp1252") * 10)
    assert "café était" in import_file(path).sections[0].text


def test_utf16_without_bom(tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes("Plain words from a Windows tool, café.\n".encode("utf-16-le") * 10)
    assert "Windows tool, café" in import_file(path).sections[0].text


def test_a_file_name_that_is_not_utf8_does_not_stop_the_others(tmp_path, locas_home, capsys):
    folder = os.fsencode(tmp_path)
    bad = os.path.join(folder, b"caf\xe9 notes.txt")
    with open(bad, "wb") as f:
        f.write(b"Some readable text about a cafe.\n" * 5)
    good = tmp_path / "good.txt"
    good.write_text("Other readable text about a harbour.\n" * 5)
    missing = tmp_path / "missing.txt"
    assert main(["import", os.fsdecode(bad), str(missing), str(good)]) == 1  # one file is missing
    out, err = capsys.readouterr()
    assert "caf\ufffd notes" in out and "good" in out and "missing.txt" in err
    assert main(["list"]) == 0
    assert "caf\ufffd notes" in capsys.readouterr().out


def test_size_limit_is_said_in_mib(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCAS_MAX_IMPORT_MB", "1")
    path = tmp_path / "big.txt"
    path.write_bytes(b"word " * 250_000)  # 1.19 MiB = 1.25 MB
    with pytest.raises(ImportFailed, match=r"is 1.2 MiB, over the 1 MiB import limit\.$"):
        import_file(path)


# -- EPUB structure: XXE, entities, traversal, missing parts, DRM ------------------------------

XXE = """<?xml version="1.0"?>
<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<html xmlns="http://www.w3.org/1999/xhtml"><body><h1>One</h1><p>Start &xxe; end of the chapter text.</p>
<p>More of the chapter so that it is a chapter.</p></body></html>"""

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE html [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]>
<html xmlns="http://www.w3.org/1999/xhtml"><body><h1>One</h1><p>Laugh: &h; done.</p></body></html>"""


@pytest.mark.parametrize("page", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_entities_are_never_expanded_from_files_or_exponentially(make_epub, library, snapshot, page):
    path = _rewrite(make_epub("ent.epub"), {"OEBPS/ch1.xhtml": page.encode()})
    try:
        doc = import_file(path)
    except ImportFailed as exc:
        assert "ent.epub" in str(exc)
        return
    text = "\n".join(s.text for s in doc.sections)
    assert "root:" not in text and len(text) < 100_000


@pytest.mark.parametrize("page", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_entities_in_html_files(tmp_path, page):
    path = tmp_path / "page.html"
    path.write_text(page)
    try:
        doc = import_file(path)
    except ImportFailed:
        return
    text = "\n".join(s.text for s in doc.sections)
    assert "root:" not in text and len(text) < 100_000


def test_path_traversal_members_are_never_written(make_epub, tmp_path):
    path = _rewrite(make_epub("trav.epub"), {}, {"../../evil.txt": b"owned", "/abs/evil.txt": b"owned"})
    before = set(tmp_path.parent.rglob("evil.txt"))
    try:
        import_file(path)
    except ImportFailed as exc:
        assert "trav.epub" in str(exc)
    assert set(tmp_path.parent.rglob("evil.txt")) == before and not Path("/abs/evil.txt").exists()


def test_missing_opf_or_container(make_epub, library, snapshot):
    no_opf = _rewrite(make_epub("no-opf.epub"), {"OEBPS/content.opf": None})
    _refused(library, snapshot, no_opf, "no-opf.epub")
    no_container = _rewrite(make_epub("no-container.epub"), {"META-INF/container.xml": None})
    _refused(library, snapshot, no_container, "no-container.epub", "container.xml")


def test_drm_rights_xml(make_epub, library, snapshot):
    path = _rewrite(make_epub("adobe.epub"), {}, {"META-INF/rights.xml": b"<rights/>"})
    _refused(library, snapshot, path, "adobe.epub", "DRM")


def test_book_without_dublin_core_metadata_is_a_plain_sentence(make_epub):
    path = make_epub("plain.epub")
    opf = zipfile.ZipFile(path).read("OEBPS/content.opf").decode()
    start, end = opf.index("<metadata"), opf.index("</metadata>") + len("</metadata>")
    _rewrite(path, {"OEBPS/content.opf": (opf[:start] + "<metadata/>" + opf[end:]).encode()})
    with pytest.raises(ImportFailed) as err:  # ebooklib cannot read it: say so without internals
        import_file(path)
    assert "purl.org" not in str(err.value) and "KeyError" not in str(err.value)
    assert "plain.epub" in str(err.value)


# -- PDFs ------------------------------------------------------------------------------------

def _encrypted(make_pdf, user: str, name: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    src = make_pdf("plain-" + name, pages=[["A locked page of plain words."]])
    writer = PdfWriter(clone_from=PdfReader(src))
    writer.encrypt(user_password=user, owner_password="owner-secret", algorithm="AES-256")
    out = src.parent / name
    with open(out, "wb") as f:
        writer.write(f)
    return out


def test_aes_encrypted_pdf_that_viewers_open_imports(make_pdf):
    doc = import_file(_encrypted(make_pdf, "", "aes.pdf"))
    assert "locked page" in doc.sections[0].text


def test_password_protected_pdf_is_refused(make_pdf, library, snapshot):
    _refused(library, snapshot, _encrypted(make_pdf, "secret", "pw.pdf"), "pw.pdf", "password")


def test_scanned_pdf_is_refused(make_pdf, library, snapshot):
    _refused(library, snapshot, make_pdf("scan.pdf", pages=[[]]), "scan.pdf", "scanned")


# -- chats -----------------------------------------------------------------------------------

def test_one_malformed_whatsapp_date_does_not_flip_the_order(tmp_path):
    lines = [f"{d}/03/2023, 10:0{d % 10} - Ann: message {d}" for d in range(13, 22)]
    lines.insert(4, "03/14/2023, 11:00 - Bob: a line from another phone")  # month-first, once
    path = tmp_path / "chat.txt"
    path.write_text("\n".join(lines) + "\n")
    doc = import_file(path)
    assert doc.meta["date_order"] == "dmy"
    assert "13 March 2023" in json.dumps([s.title for s in doc.sections])


# -- notes folders ----------------------------------------------------------------------------

def test_bad_links_in_a_notes_folder_are_skipped_by_name(tmp_path, library, capsys):
    vault = tmp_path / "vault"
    (vault / "sub").mkdir(parents=True)
    (vault / "a.md").write_text("# A\n\nThe first note.\n")
    (vault / "sub" / "b.md").write_text("# B\n\nThe second note.\n")
    (vault / "inside.md").symlink_to(vault / "sub" / "b.md")
    (vault / "dangling.md").symlink_to(vault / "gone.md")
    (vault / "loop.md").symlink_to(vault / "loop.md")
    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0 a secret outside the folder\n")
    (vault / "passwd.md").symlink_to(outside)
    doc = import_file(vault)
    paths = sorted(s.meta["path"] for s in doc.sections)
    assert paths == ["a.md", "inside.md", "sub/b.md"]
    assert all("secret" not in s.text for s in doc.sections)
    warnings = " ".join(doc.meta["warnings"])
    for name in ("dangling.md", "loop.md", "passwd.md"):
        assert name in warnings
    assert main(["import", str(vault)]) == 0
    assert "passwd.md" in capsys.readouterr().err


# -- the data folder -------------------------------------------------------------------------

def test_an_open_data_folder_is_made_private(locas_home):
    from app.paths import data_home

    os.chmod(locas_home, 0o755)
    data_home()
    assert locas_home.stat().st_mode & 0o777 == 0o700
