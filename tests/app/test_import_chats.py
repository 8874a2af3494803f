"""Chat logs: every message keeps speaker and time; one session or day = one section."""

from __future__ import annotations

import json

from app.importers import detect_format, import_file


def test_locomo_shared_log(shared_data):
    doc = import_file(shared_data / "chats" / "locomo-conv26.json")
    assert doc.kind == "chat"
    assert set(doc.authors) == {"Caroline", "Melanie"}
    assert len(doc.sections) == 19  # sessions with messages; later date-only sessions are empty
    first = doc.sections[0]
    assert first.title == "Session 1 (8 May 2023, 1:56 pm)"
    assert first.text.startswith("[8 May 2023, 1:56 pm] Caroline: Hey Mel! Good to see you!")
    # evidence ids map to the line holding them, so QA evidence can be checked against passages
    offset = first.meta["dia_ids"]["D1:3"]
    assert first.text[offset:].startswith("[8 May 2023, 1:56 pm] Caroline: I went to a LGBTQ support group")
    assert doc.meta["qa"][0]["question"] == "When did Caroline go to the LGBTQ support group?"
    # image turns keep their caption as text
    assert "[shares an image:" in "".join(s.text for s in doc.sections)


def test_locomo_original_list_format(tmp_path):
    sample = {"sample_id": "conv-1", "qa": [], "conversation": {
        "speaker_a": "Ann", "speaker_b": "Ben",
        "session_1_date_time": "10:05 am on 3 March, 2023",
        "session_1": [{"speaker": "Ann", "dia_id": "D1:1", "text": "Morning!"},
                      {"speaker": "Ben", "dia_id": "D1:2", "text": "Hi Ann."}]}}
    path = tmp_path / "locomo10.json"
    path.write_text(json.dumps([sample, {**sample, "sample_id": "conv-2"}]))
    doc = import_file(path)
    assert [s.title for s in doc.sections] == ["conv-1, Session 1 (3 March 2023, 10:05 am)",
                                               "conv-2, Session 1 (3 March 2023, 10:05 am)"]
    assert doc.sections[0].text == "[3 March 2023, 10:05 am] Ann: Morning!\n[3 March 2023, 10:05 am] Ben: Hi Ann."


WHATSAPP_24H = """12/05/2023, 14:03 - Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.
12/05/2023, 14:03 - Alice: Are we still on for the lake trip?
12/05/2023, 14:05 - Bob: Yes! I'll bring the canoe.
It fits on the roof: I measured.
13/05/2023, 09:15 - Alice: <Media omitted>
13/05/2023, 21:40 - Bob: Back home, what a day
"""

WHATSAPP_12H = (
    "[5/12/23, 2:03:15\u202fPM] Alice: Are we still on for the lake trip?\n"
    "[5/12/23, 2:05:40\u202fPM] Bob: Yes! I'll bring the canoe.\n"
    "[5/13/23, 9:15:02\u202fAM] Alice: \u200eimage omitted\n"
    "[5/13/23, 12:40:00\u202fAM] Bob: Late night.\n"
)


def test_whatsapp_24h(tmp_path):
    path = tmp_path / "WhatsApp Chat with Bob.txt"
    path.write_text(WHATSAPP_24H, encoding="utf-8")
    assert detect_format(path, path.read_bytes()) == "whatsapp"
    doc = import_file(path)
    assert doc.kind == "chat" and doc.authors == ["Alice", "Bob"]
    assert [s.title for s in doc.sections] == ["12 May 2023", "13 May 2023"]
    assert doc.sections[0].text.split("\n") == [
        "[12 May 2023, 2:03 pm] Alice: Are we still on for the lake trip?",
        "[12 May 2023, 2:05 pm] Bob: Yes! I'll bring the canoe. / It fits on the roof: I measured.",
    ]
    assert "end-to-end" not in doc.sections[0].text
    assert doc.sections[1].text.endswith("[13 May 2023, 9:40 pm] Bob: Back home, what a day")


def test_whatsapp_12h_month_first(tmp_path):
    path = tmp_path / "_chat.txt"
    path.write_text(WHATSAPP_12H, encoding="utf-8")
    doc = import_file(path)
    assert doc.meta["date_order"] == "mdy"
    assert doc.sections[0].text.startswith("[12 May 2023, 2:03 pm] Alice: Are we still on")
    assert doc.sections[1].text.split("\n") == [
        "[13 May 2023, 9:15 am] Alice: image omitted",
        "[13 May 2023, 12:40 am] Bob: Late night.",
    ]


def test_chatgpt_export(tmp_path):
    def node(id_, parent, role, text, t):
        return {"id": id_, "parent": parent, "children": [],
                "message": {"author": {"role": role}, "create_time": t,
                            "content": {"content_type": "text", "parts": [text]}}}

    conversation = {
        "title": "Sourdough help", "create_time": 1683554160.0, "current_node": "c",
        "mapping": {
            "root": {"id": "root", "parent": None, "children": ["s"], "message": None},
            "s": node("s", "root", "system", "You are ChatGPT.", 1683554160.0),
            "a": node("a", "s", "user", "Why is my sourdough flat?", 1683554160.0),
            "x": node("x", "a", "assistant", "An abandoned branch.", 1683554161.0),
            "c": node("c", "a", "assistant", "Your starter may be weak.", 1683554170.0),
        },
    }
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([conversation, {**conversation, "title": "Second"}]))
    doc = import_file(path)
    assert [s.title for s in doc.sections] == ["Sourdough help", "Second"]
    lines = doc.sections[0].text.split("\n")
    assert len(lines) == 2  # system prompt and abandoned branch left out
    assert lines[0].endswith("] User: Why is my sourdough flat?")
    assert lines[1].endswith("] ChatGPT: Your starter may be weak.")
    assert lines[0].startswith("[8 May 2023, ") or lines[0].startswith("[9 May 2023, ")


def test_telegram_export(tmp_path):
    export = {"name": "Carol", "type": "personal_chat", "id": 42, "messages": [
        {"id": 1, "type": "service", "date": "2023-05-08T13:50:00", "action": "phone_call"},
        {"id": 2, "type": "message", "date": "2023-05-08T13:56:00", "from": "Carol", "text": "Lunch?"},
        {"id": 3, "type": "message", "date": "2023-05-08T14:01:00", "from": "Dan",
         "text": ["Sure, see ", {"type": "link", "text": "https://cafe.example"}, " at one"]},
        {"id": 4, "type": "message", "date": "2023-05-09T08:00:00", "from": "Carol", "text": "",
         "photo": "photos/1.jpg"},
    ]}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export, ensure_ascii=False))
    doc = import_file(path)
    assert doc.title == "Telegram chat with Carol"
    assert [s.title for s in doc.sections] == ["8 May 2023", "9 May 2023"]
    assert doc.sections[0].text.split("\n") == [
        "[8 May 2023, 1:56 pm] Carol: Lunch?",
        "[8 May 2023, 2:01 pm] Dan: Sure, see https://cafe.example at one",
    ]
    assert doc.sections[1].text == "[9 May 2023, 8:00 am] Carol: [photo]"


def test_transcript_with_timestamps(tmp_path):
    path = tmp_path / "meeting.txt"
    path.write_text(
        "[2023-05-08 13:56] Caroline: Did you finish the painting?\n"
        "[2023-05-08 13:57] Melanie: Almost, just the sky left.\n"
        "It is a sunrise over the lake.\n"
        "[2023-05-09 09:00] Caroline: Send me a photo!\n", encoding="utf-8")
    assert detect_format(path, path.read_bytes()) == "transcript"
    doc = import_file(path)
    assert [s.title for s in doc.sections] == ["8 May 2023", "9 May 2023"]
    assert doc.sections[0].text.split("\n") == [
        "[8 May 2023, 1:56 pm] Caroline: Did you finish the painting?",
        "[8 May 2023, 1:57 pm] Melanie: Almost, just the sky left. / It is a sunrise over the lake.",
    ]


def test_transcript_without_timestamps(tmp_path):
    path = tmp_path / "interview.txt"
    path.write_text("Interviewer: Where did you grow up?\nDr. Smith: In Leeds, by the canal.\n"
                    "Interviewer: And then?\nDr. Smith: Then London.\n", encoding="utf-8")
    doc = import_file(path)
    assert doc.kind == "chat" and len(doc.sections) == 1
    assert doc.sections[0].text.split("\n")[1] == "Dr. Smith: In Leeds, by the canal."
