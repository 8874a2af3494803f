"""Every bad input is refused with one sentence naming the file and the cause, and the library
is left exactly as it was."""

from __future__ import annotations

import io
import json
import os
import zipfile

import pytest

from app.document import ImportFailed
from app.importers import import_file

ENCRYPTED = """<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container"
  xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>
  <enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
  <enc:CipherData><enc:CipherReference URI="OEBPS/ch1.xhtml"/></enc:CipherData>
  </enc:EncryptedData></encryption>"""


def _garbage(n: int = 4096) -> bytes:
    return bytes((i * 7919 + 13) % 256 for i in range(n))


def _corrupt_member(data: bytes) -> bytes:
    """Flip bytes inside a compressed chapter so its CRC no longer matches."""
    info = next(i for i in zipfile.ZipFile(io.BytesIO(data)).infolist() if i.filename.endswith("ch1.xhtml"))
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 5
    buf = bytearray(data)
    for k in range(start, start + 20):
        buf[k] ^= 0xFF
    return bytes(buf)


def make_bad(kind: str, tmp_path, make_epub, shared_data):
    """(path, expected words in the message) for each kind of bad input."""
    p = tmp_path
    if kind == "missing":
        return p / "nowhere.epub", "does not exist"
    if kind == "empty":
        (p / "empty.txt").write_bytes(b"")
        return p / "empty.txt", "empty"
    if kind == "blank":
        (p / "blank.md").write_text("  \n\n \t\n")
        return p / "blank.md", "empty"
    if kind == "garbage-epub":
        (p / "junk.epub").write_bytes(_garbage())
        return p / "junk.epub", "damaged"
    if kind == "garbage-pdf":
        (p / "junk.pdf").write_bytes(_garbage())
        return p / "junk.pdf", "not a valid PDF"
    if kind == "garbage-txt":
        (p / "junk.txt").write_bytes(_garbage())
        return p / "junk.txt", "binary"
    if kind == "truncated-epub":
        data = (shared_data / "books" / "childrens-literature.epub").read_bytes()
        (p / "truncated.epub").write_bytes(data[: len(data) // 2])
        return p / "truncated.epub", "damaged"
    if kind == "corrupt-epub":
        (p / "corrupt.epub").write_bytes(_corrupt_member(make_epub("good.epub").read_bytes()))
        return p / "corrupt.epub", "damaged"
    if kind == "drm-epub":
        return make_epub("drm.epub", encryption=ENCRYPTED), "DRM"
    if kind == "no-sections-epub":
        return make_epub("hollow.epub", chapters=[]), "no readable text"
    if kind == "empty-chapters-epub":
        return make_epub("blank-pages.epub", chapters=[("", "<p> </p>"), ("", "<div></div>")]), "no readable text"
    if kind == "truncated-json":
        text = (shared_data / "chats" / "locomo-conv30.json").read_text()
        (p / "chat.json").write_text(text[:5000])
        return p / "chat.json", "not valid JSON"
    if kind == "unknown-json":
        (p / "data.json").write_text(json.dumps({"hello": "world"}))
        return p / "data.json", "not a recognised chat export"
    if kind == "malformed-locomo":
        (p / "conv.json").write_text(json.dumps({"speaker_a": "A", "speaker_b": "B", "session_1": "oops"}))
        return p / "conv.json", "session_1"
    if kind == "malformed-telegram":
        (p / "result.json").write_text(json.dumps({"name": "X", "messages": [1, 2, 3]}))
        return p / "result.json", "Telegram"
    if kind == "garbage-pdf-header":
        (p / "broken.pdf").write_bytes(b"%PDF-1.4\n" + _garbage(2000))
        return p / "broken.pdf", "PDF"
    raise AssertionError(kind)


KINDS = ["missing", "empty", "blank", "garbage-epub", "garbage-pdf", "garbage-txt", "truncated-epub",
         "corrupt-epub", "drm-epub", "no-sections-epub", "empty-chapters-epub", "truncated-json",
         "unknown-json", "malformed-locomo", "malformed-telegram", "garbage-pdf-header"]


@pytest.mark.parametrize("kind", KINDS)
def test_bad_input_refused_and_library_unchanged(kind, tmp_path, make_epub, shared_data, library, snapshot):
    library.import_file(shared_data / "chats" / "locomo-conv26.json")
    before = snapshot(library)
    path, words = make_bad(kind, tmp_path, make_epub, shared_data)
    with pytest.raises(ImportFailed) as err:
        library.import_file(path)
    message = str(err.value)
    assert path.name in message and words.lower() in message.lower(), message
    assert message.endswith(".") and "\n" not in message and message.count(". ") == 0, message
    assert snapshot(library) == before


def test_size_limit(tmp_path, library, snapshot, monkeypatch):
    path = tmp_path / "big.txt"
    path.write_text("word " * 5000)
    before = snapshot(library)
    with pytest.raises(ImportFailed, match=r"big\.txt: the file is .* over the .* import limit\.$"):
        library.import_file(path, max_size=1000)
    monkeypatch.setenv("LOCAS_MAX_IMPORT_MB", "0.01")
    with pytest.raises(ImportFailed, match="import limit"):
        import_file(path)
    assert snapshot(library) == before


def test_folder_is_refused(tmp_path):
    with pytest.raises(ImportFailed, match="folder"):
        import_file(tmp_path)


def test_failed_write_rolls_back(make_epub, library, snapshot, monkeypatch):
    """A crash halfway through storing sections leaves no half document behind."""
    from app.library import documents as library_module

    before = snapshot(library)
    calls = {"n": 0}
    real = library_module.passage_spans

    def failing(text):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        return real(text)

    monkeypatch.setattr(library_module, "passage_spans", failing)
    with pytest.raises(RuntimeError):
        library.import_file(make_epub())
    assert snapshot(library) == before
    assert os.path.exists(library.path)
