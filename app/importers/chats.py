"""Chat logs: LoCoMo, WhatsApp, ChatGPT, Telegram and plain "Name: message" transcripts.

Every message becomes one line "[8 May 2023, 1:56 pm] Caroline: ..." whatever the source, so the
memorized text always says *who* said something and *when*: that is what questions about a
conversation ask. One session (LoCoMo session, ChatGPT conversation, or one calendar day of a
WhatsApp/Telegram/transcript log) is one section.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..document import Document, ImportFailed, Section, content_hash
from .calendar_words import day_text, parse_clock, parse_day_and_time
from .relative_dates import pin_relative_dates


@dataclass
class Message:
    speaker: str
    text: str
    when: datetime | None = None
    has_time: bool = True
    stamp: str | None = None  # verbatim time when it could not be parsed
    ref: str | None = None  # source id (LoCoMo dia_id) kept for evaluation


def format_when(when: datetime | None, has_time: bool = True, has_date: bool = True) -> str:
    """'8 May 2023, 1:56 pm' (the LoCoMo style, readable to a small model)."""
    if when is None:
        return ""
    date = day_text(when)
    hour = when.hour % 12 or 12
    clock = f"{hour}:{when:%M} {'am' if when.hour < 12 else 'pm'}"
    if not has_date:
        return clock
    return f"{date}, {clock}" if has_time else date


# A message line as `render` writes it: "[8 May 2023, 1:56 pm] Caroline: text" or "Caroline: text".
CHAT_LINE = re.compile(r"^(?:\[(?P<stamp>[^\]\n]*)\]\s)?(?P<speaker>[^:\n\[\]]{1,60}?):\s(?P<text>.*)$", re.MULTILINE)


def render(messages: Iterable[Message], has_date: bool = True) -> tuple[str, dict[str, int]]:
    """Message lines plus where each referenced message starts (char offset).

    Relative dates in a dated message are pinned to the calendar ("yesterday [7 May 2023]"),
    see relative_dates.py: a memory of the chat is asked about it long after "yesterday".
    """
    lines, refs, offset = [], {}, 0
    for m in messages:
        stamp = m.stamp or format_when(m.when, m.has_time, has_date)
        text = m.text.strip().replace("\n", " / ")
        if m.when is not None and has_date:
            text = pin_relative_dates(text, m.when.date())
        line = f"[{stamp}] {m.speaker}: {text}" if stamp else f"{m.speaker}: {text}"
        if m.ref:
            refs[m.ref] = offset
        lines.append(line)
        offset += len(line) + 1
    return "\n".join(lines), refs


def by_day(messages: list[Message], prefix: str = "") -> list[Section]:
    """Group dated messages into one section per calendar day (a chat 'session')."""
    sections: list[Section] = []
    current: list[Message] = []
    day = None

    def close() -> None:
        if current:
            text, _ = render(current)
            when = current[0].when
            title = format_when(when, has_time=False) if when else "Undated messages"
            sections.append(Section(
                f"{prefix}{title}", text,
                {"date": when.date().isoformat() if when else None,
                 "speakers": sorted({m.speaker for m in current}), "messages": len(current)},
            ))

    for m in messages:
        key = m.when.date() if m.when else None
        if current and key != day:
            close()
            current = []
        day = key
        current.append(m)
    close()
    return sections


def _document(path: Path, data: bytes, title: str, sections: list[Section], meta: dict) -> Document:
    sections = [s for s in sections if s.text.strip()]
    if not sections:
        raise ImportFailed(path, "the chat log contains no messages")
    speakers = sorted({sp for s in sections for sp in s.meta.get("speakers", [])})
    return Document(
        title=title, authors=speakers, language=None, kind="chat", source_path=str(path),
        content_hash=content_hash(data), sections=sections, meta=meta,
    )


# --- LoCoMo --------------------------------------------------------------------------------

_SESSION = re.compile(r"^session_(\d+)$")


def is_locomo(obj: Any) -> bool:
    if isinstance(obj, list):
        return bool(obj) and all(isinstance(x, dict) and is_locomo(x) for x in obj)
    if not isinstance(obj, dict):
        return False
    conv = obj.get("conversation", obj)
    return isinstance(conv, dict) and "speaker_a" in conv and any(_SESSION.match(k) for k in conv)


def _locomo_sample(path: Path, sample: dict, prefix: str) -> tuple[list[Section], list]:
    conv = sample.get("conversation", sample)
    numbers = sorted(int(m.group(1)) for k in conv if (m := _SESSION.match(k)))
    sections = []
    for n in numbers:
        turns = conv[f"session_{n}"]
        if not isinstance(turns, list):
            raise ImportFailed(path, f"session_{n} is not a list of messages")
        raw_time = str(conv.get(f"session_{n}_date_time", "")).strip()
        when = parse_day_and_time(raw_time) if raw_time else None  # "1:56 pm on 8 May, 2023"
        messages = []
        for turn in turns:
            if not isinstance(turn, dict) or "speaker" not in turn or "text" not in turn:
                raise ImportFailed(path, f"a message in session_{n} has no speaker or text")
            text = str(turn["text"])
            if turn.get("blip_caption"):
                text += f" [shares an image: {turn['blip_caption']}]"
            messages.append(Message(str(turn["speaker"]), text, when,
                                    stamp=None if when or not raw_time else raw_time,
                                    ref=turn.get("dia_id")))
        text, refs = render(messages)
        sections.append(Section(
            f"{prefix}Session {n}" + (f" ({format_when(when)})" if when else ""), text,
            {"session": n, "date_time": raw_time or None, "dia_ids": refs,
             "speakers": sorted({m.speaker for m in messages})},
        ))
    return sections, sample.get("qa", [])


def import_locomo(path: Path, data: bytes, obj: Any) -> Document:
    samples = obj if isinstance(obj, list) else [obj]
    sections, qa = [], []
    for i, sample in enumerate(samples):
        prefix = f"{sample.get('sample_id', f'Conversation {i + 1}')}, " if len(samples) > 1 else ""
        s, q = _locomo_sample(path, sample, prefix)
        sections += s
        qa += q if isinstance(q, list) else []
    conv = samples[0].get("conversation", samples[0])
    title = f"Conversation of {conv['speaker_a']} and {conv.get('speaker_b', '?')}"
    return _document(path, data, title, sections, {"format": "locomo", "qa": qa})


# --- ChatGPT conversations.json ------------------------------------------------------------

def is_chatgpt(obj: Any) -> bool:
    return isinstance(obj, list) and bool(obj) and all(isinstance(c, dict) and "mapping" in c for c in obj)


def _chatgpt_branch(conv: dict) -> list[dict]:
    """Messages of the branch the person last saw: walk up from current_node, then reverse."""
    mapping = conv.get("mapping") or {}
    if not isinstance(mapping, dict):
        raise ValueError("mapping is not an object")
    node_id = conv.get("current_node")
    chain = []
    seen = set()
    while node_id and node_id in mapping and node_id not in seen:
        seen.add(node_id)
        node = mapping[node_id]
        chain.append(node)
        node_id = node.get("parent")
    if not chain:  # no current_node: fall back to creation time order
        chain = sorted(mapping.values(), key=lambda n: ((n.get("message") or {}).get("create_time") or 0))
        return chain
    return chain[::-1]


def import_chatgpt(path: Path, data: bytes, obj: list) -> Document:
    sections = []
    for conv in obj:
        messages = []
        try:
            nodes = _chatgpt_branch(conv)
        except (ValueError, AttributeError) as exc:
            raise ImportFailed(path, f"a ChatGPT conversation is malformed ({exc})") from exc
        for node in nodes:
            msg = node.get("message") if isinstance(node, dict) else None
            if not isinstance(msg, dict):
                continue
            role = (msg.get("author") or {}).get("role")
            if role not in ("user", "assistant"):
                continue
            content = msg.get("content") or {}
            parts = content.get("parts") or ([content["text"]] if isinstance(content.get("text"), str) else [])
            text = "\n".join(p for p in parts if isinstance(p, str)).strip()
            if not text:
                continue
            ts = msg.get("create_time")
            when = datetime.fromtimestamp(ts) if isinstance(ts, (int, float)) else None
            messages.append(Message("User" if role == "user" else "ChatGPT", text, when))
        if messages:
            text, _ = render(messages)
            ts = conv.get("create_time")
            when = datetime.fromtimestamp(ts) if isinstance(ts, (int, float)) else None
            sections.append(Section(
                str(conv.get("title") or "Untitled conversation"), text,
                {"date": when.isoformat() if when else None, "speakers": ["ChatGPT", "User"],
                 "messages": len(messages)},
            ))
    return _document(path, data, "ChatGPT conversations", sections, {"format": "chatgpt"})


# --- Telegram Desktop result.json ----------------------------------------------------------

def is_telegram(obj: Any) -> bool:
    if not isinstance(obj, dict):
        return False
    if isinstance(obj.get("messages"), list):
        return True
    chats = obj.get("chats")
    return isinstance(chats, dict) and isinstance(chats.get("list"), list)


def _telegram_text(text: Any) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        return "".join(t if isinstance(t, str) else str(t.get("text", "")) for t in text if isinstance(t, (str, dict)))
    return ""


def _telegram_messages(path: Path, chat: dict) -> list[Message]:
    messages = []
    for m in chat.get("messages", []):
        if not isinstance(m, dict):
            raise ImportFailed(path, "a Telegram message is not an object")
        if m.get("type", "message") != "message":
            continue
        text = _telegram_text(m.get("text"))
        if not text.strip():
            if m.get("media_type") or m.get("photo"):
                text = f"[{m.get('media_type', 'photo').replace('_', ' ')}]"
            else:
                continue
        try:
            when = datetime.fromisoformat(m["date"]) if m.get("date") else None
        except (TypeError, ValueError):
            when = None
        messages.append(Message(str(m.get("from") or "Unknown"), text, when))
    return messages


def import_telegram(path: Path, data: bytes, obj: dict) -> Document:
    chats = obj["chats"]["list"] if "chats" in obj else [obj]
    sections = []
    for chat in chats:
        if not isinstance(chat, dict) or not isinstance(chat.get("messages", []), list):
            raise ImportFailed(path, "a Telegram chat has no message list")
        prefix = f"{chat.get('name') or 'Chat'} — " if len(chats) > 1 else ""
        sections += by_day(_telegram_messages(path, chat), prefix)
    title = f"Telegram chat with {obj['name']}" if obj.get("name") else "Telegram chats"
    return _document(path, data, title, sections, {"format": "telegram"})


# --- WhatsApp exported chat ----------------------------------------------------------------

_WA_DATE = r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}"
_WA_TIME = r"\d{1,2}[:.]\d{2}(?:[:.]\d{2})?"
_WA_AMPM = r"(?:[\s\u202f\u00a0]*([AaPp]\.?\s?[Mm]\.?))?"
# iOS: "[12/05/2023, 14:03:22] Name: text"; Android: "12/05/2023, 14:03 - Name: text".
_WA_IOS = re.compile(rf"^\u200e?\[({_WA_DATE}),\s({_WA_TIME}){_WA_AMPM}\]\s(.*)$")
_WA_ANDROID = re.compile(rf"^\u200e?({_WA_DATE}),?\s({_WA_TIME}){_WA_AMPM}\s[-\u2013]\s(.*)$")


def _wa_match(line: str) -> tuple[str, str, str | None, str] | None:
    """(date, time, am/pm, rest) of a WhatsApp message or system line."""
    m = _WA_IOS.match(line) or _WA_ANDROID.match(line)
    return (m.group(1), m.group(2), m.group(3), m.group(4)) if m else None


_WA_SPEAKER = re.compile(r"^(?P<speaker>[^:]{1,60}?):\s(?P<text>.*)$")


def whatsapp_lines(text: str) -> int:
    """How many lines look like a WhatsApp message header (used by format detection)."""
    return sum(1 for line in text.split("\n")[:200] if (m := _wa_match(line)) and _WA_SPEAKER.match(m[3]))


def _wa_date_order(dates: list[tuple[int, int, int]], twelve_hour: bool) -> str:
    """'dmy', 'mdy' or 'ymd' from the numbers seen: a field above 12 (or 31) votes for an order,
    and the majority wins, so one malformed line cannot flip a whole chat."""
    votes = {"ymd": 0, "dmy": 0, "mdy": 0}
    for a, b, _ in dates:
        if a > 31:
            votes["ymd"] += 1
        elif a > 12:
            votes["dmy"] += 1
        elif b > 12:
            votes["mdy"] += 1
    best = max(votes, key=lambda k: votes[k])
    if votes[best]:
        return best
    return "mdy" if twelve_hour else "dmy"  # US phones export 12-hour with month first


def import_whatsapp(path: Path, data: bytes, text: str) -> Document:
    raw: list[tuple[tuple[int, int, int], str, str | None, str, str]] = []
    for line in text.split("\n"):
        m = _wa_match(line)
        s = _WA_SPEAKER.match(m[3]) if m else None
        if m and s:
            nums = tuple(int(x) for x in re.split(r"[./-]", m[0]))
            raw.append((nums, m[1], m[2], s.group("speaker").strip(), s.group("text")))
        elif m:
            continue  # system line ("Messages are end-to-end encrypted", "X joined")
        elif raw and line.strip():
            last = raw[-1]
            raw[-1] = (*last[:4], last[4] + "\n" + line)
    twelve = any(r[2] for r in raw)
    order = _wa_date_order([r[0] for r in raw], twelve)
    messages = []
    for (a, b, c), clock, ampm, speaker, body in raw:
        day, month, year = {"dmy": (a, b, c), "mdy": (b, a, c), "ymd": (c, b, a)}[order]
        year += 2000 if year < 100 else 0
        parts = [int(x) for x in re.split(r"[:.]", clock)]
        hour, minute = parts[0], parts[1]
        if ampm:
            pm = ampm.lower().startswith("p")
            hour = hour % 12 + (12 if pm else 0)
        try:
            when = datetime(year, month, day, hour, minute)
        except ValueError:
            when = None
        body = body.replace("\u200e", "").strip()
        messages.append(Message(speaker.replace("\u200e", ""), body, when))
    if not messages:
        raise ImportFailed(path, "the WhatsApp chat contains no messages")
    speakers = sorted({m.speaker for m in messages})
    title = f"WhatsApp chat: {', '.join(speakers[:3])}" + (" …" if len(speakers) > 3 else "")
    return _document(path, data, title, by_day(messages), {"format": "whatsapp", "date_order": order})


# --- generic transcript --------------------------------------------------------------------

_TS = (
    r"(?P<date>\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})?[ T,]*"
    r"(?P<time>\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp][Mm])?)?"
)
_TRANSCRIPT = re.compile(
    r"^\s*(?:\[(?P<b>[^\]]{4,40})\]\s*|(?P<p>\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(?::\d{2})?|\d{1,2}:\d{2}(?::\d{2})?)\s+(?:-\s+)?)?"
    r"(?P<speaker>[A-Z\u00c0-\u024f][\w.'\- ]{0,38}?|[a-z][\w.\-]{1,30})\s*:\s+(?P<text>\S.*)$"
)
_STAMP = re.compile(r"^" + _TS + r"$")


def transcript_lines(text: str) -> tuple[int, int, set[str]]:
    """(matching lines, non-empty lines, speakers) over the first 300 lines."""
    lines = [line for line in text.split("\n")[:300] if line.strip()]
    speakers, hits = set(), 0
    for line in lines:
        m = _TRANSCRIPT.match(line)
        if m and len(m.group("speaker").split()) <= 4:
            hits += 1
            speakers.add(m.group("speaker").strip())
    return hits, len(lines), speakers


def _parse_stamp(raw: str | None) -> tuple[datetime | None, bool, bool]:
    """(datetime, has_time, has_date) of a transcript timestamp."""
    if not raw:
        return None, False, False
    when = parse_day_and_time(raw)  # "8 May 2023, 1:56 pm"
    if when is not None:
        return when, True, True
    m = _STAMP.match(raw.strip())
    if not m or not (m.group("date") or m.group("time")):
        return None, False, False
    date_raw, time_raw = m.group("date"), m.group("time")
    when = datetime(1900, 1, 1)
    try:
        if date_raw and "-" in date_raw:
            when = datetime.strptime(date_raw, "%Y-%m-%d")
        elif date_raw:
            mo, d, y = (int(x) for x in date_raw.split("/"))
            when = datetime(y + 2000 if y < 100 else y, mo, d)
        if time_raw:
            clock = parse_clock(time_raw)
            if clock is None:
                return None, False, False
            when = when.replace(hour=clock[0], minute=clock[1])
    except ValueError:
        return None, False, False
    return when, bool(time_raw), bool(date_raw)


def import_transcript(path: Path, data: bytes, text: str) -> Document:
    messages: list[Message] = []
    dated = False
    for line in text.split("\n"):
        m = _TRANSCRIPT.match(line)
        if m and len(m.group("speaker").split()) <= 4:
            when, has_time, has_date = _parse_stamp(m.group("b") or m.group("p"))
            dated = dated or has_date
            stamp = None
            if when and not has_date:
                stamp = format_when(when, has_date=False)
            elif (m.group("b") or m.group("p")) and not when:
                stamp = (m.group("b") or m.group("p")).strip()
            messages.append(Message(m.group("speaker").strip(), m.group("text"), when if has_date else None,
                                    has_time=has_time, stamp=stamp))
        elif messages and line.strip():
            messages[-1].text += "\n" + line.strip()
    if not messages:
        raise ImportFailed(path, "the transcript contains no messages")
    if dated:
        sections = by_day(messages)
    else:
        body, _ = render(messages)
        sections = [Section("Transcript", body, {"speakers": sorted({m.speaker for m in messages}),
                                                 "messages": len(messages)})]
    return _document(path, data, path.stem.replace("_", " "), sections, {"format": "transcript"})
