"""Property-based fuzzing of the importers: random bytes, and random damage to real EPUB, JSON
chat and WhatsApp files, give either a document or a one-sentence refusal; never a traceback,
never a changed library after a refusal.

The fast tier runs a bounded number of examples per property (FUZZ_EXAMPLES, default 25);
set LOCAS_FUZZ_EXAMPLES=2000 for a long hunt.
"""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.document import Document, ImportFailed

FUZZ_EXAMPLES = int(os.environ.get("LOCAS_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

WHATSAPP = "\n".join(f"1{d}/03/2023, 10:0{d} - {'Ann' if d % 2 else 'Bob'}: message number {d} about the boat"
                     for d in range(10)) + "\n"
CHAT_JSON = json.dumps({
    "speaker_a": "Ann", "speaker_b": "Bob",
    "session_1_date_time": "1:56 pm on 8 May, 2023",
    "session_1": [{"speaker": "Ann", "dia_id": "D1:1", "text": "Hello Bob, the boat is ready."},
                  {"speaker": "Bob", "dia_id": "D1:2", "text": "Great, I will bring the sails."}],
})


def _import_once(library, snapshot, path) -> None:
    """The property: a Document, or ImportFailed with one sentence and the library unchanged."""
    before = snapshot(library)
    try:
        info = library.import_file(path)
    except ImportFailed as exc:
        message = str(exc)
        assert message.startswith("Could not import") and message.endswith(".") and "\n" not in message
        assert "Traceback" not in message
        assert snapshot(library) == before
        return
    assert info.id and info.title is not None


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    buf = bytearray(data)
    for position, value in edits:
        buf[position % len(buf)] = value
    return bytes(buf[:cut] if cut else buf)


EDITS = st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 255)), min_size=1, max_size=12)
CUT = st.one_of(st.none(), st.integers(1, 10**5))


@FUZZ
@given(data=st.binary(min_size=1, max_size=3000), ext=st.sampled_from([".epub", ".pdf", ".json", ".txt", ".md", ".html", ""]))
def test_random_bytes(tmp_path, library, snapshot, data, ext):
    path = tmp_path / f"random{ext}"
    path.write_bytes(data)
    _import_once(library, snapshot, path)


@FUZZ
@given(edits=EDITS, cut=CUT)
def test_damaged_epub(tmp_path, make_epub, library, snapshot, edits, cut):
    good = make_epub("good.epub", chapters=[("One", "<p>The boat left at dawn.</p>"),
                                            ("Two", "<p>It came back at night.</p>")])
    path = tmp_path / "damaged.epub"
    path.write_bytes(_mutate(good.read_bytes(), edits, cut))
    _import_once(library, snapshot, path)


@FUZZ
@given(edits=EDITS, cut=CUT, source=st.sampled_from(["json", "whatsapp"]))
def test_damaged_chats(tmp_path, library, snapshot, edits, cut, source):
    text = CHAT_JSON if source == "json" else WHATSAPP
    path = tmp_path / ("chat.json" if source == "json" else "chat.txt")
    path.write_bytes(_mutate(text.encode(), edits, cut))
    _import_once(library, snapshot, path)


@FUZZ
@given(edits=EDITS, cut=CUT)
def test_damaged_real_locomo_file(tmp_path, shared_data, library, snapshot, edits, cut):
    data = (shared_data / "chats" / "locomo-conv26.json").read_bytes()
    path = tmp_path / "conv.json"
    path.write_bytes(_mutate(data, edits, cut))
    _import_once(library, snapshot, path)


def test_the_unharmed_files_import(tmp_path, make_epub):
    """The fuzzed files start out valid, so a refusal above is caused by the damage."""
    from app.importers import import_file

    for name, text in (("chat.json", CHAT_JSON), ("chat.txt", WHATSAPP)):
        (tmp_path / name).write_text(text)
        assert isinstance(import_file(tmp_path / name), Document)
    assert isinstance(import_file(make_epub("good.epub")), Document)


@pytest.fixture(autouse=True)
def _quiet_logs(caplog):
    caplog.set_level("ERROR")  # the importers log details of each refusal at WARNING
