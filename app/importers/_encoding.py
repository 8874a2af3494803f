"""Turn the bytes of a text-like file into a str, or say it is not text.

Files reach the reader from every era of computing: UTF-8 with and without a BOM, UTF-16 from
Windows tools, old cp1252/Latin-1 exports. Guessing wrong silently produces mojibake, and treating
a binary file as text produces garbage sections, so both are decided here, once.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Control characters other than tab/newline/carriage return/form feed: rare in real text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")


class NotText(ValueError):
    """The bytes do not decode to readable text."""


def detect_encoding(data: bytes) -> tuple[str, int]:
    """Return (encoding, bytes of BOM to skip)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    # UTF-16 without a BOM: ASCII-heavy text has a NUL in every other byte.
    sample = data[:4000]
    if len(sample) >= 8:
        even_nul = sample[0::2].count(0) / (len(sample) / 2)
        odd_nul = sample[1::2].count(0) / (len(sample) / 2)
        if odd_nul > 0.4 and even_nul < 0.05:
            return "utf-16-le", 0
        if even_nul > 0.4 and odd_nul < 0.05:
            return "utf-16-be", 0
    if _mostly_utf8(data):
        return "utf-8", 0  # decode_text replaces the few bad bytes
    if b"\x00" not in sample:
        # Windows-1252 decodes nearly every byte and is the commonest legacy encoding of the
        # books people have; charset-normalizer is asked first for the less common ones.
        best = charset_normalizer.from_bytes(data[:200_000]).best()
        if best is not None and best.encoding not in ("utf_8", "ascii"):
            name = codecs.lookup(best.encoding).name
            if name in _SINGLE_BYTE_OK:
                return name, 0
        return "cp1252", 0
    return "binary", 0


def _mostly_utf8(data: bytes) -> bool:
    """UTF-8, or UTF-8 with a few bad bytes (a damaged copy, a cut-off line): most of its
    non-ASCII characters decode. Legacy 8-bit text almost never forms valid UTF-8 sequences, so
    in cp1252 text nearly every non-ASCII byte is an error."""
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = len(text) - len(text.encode("ascii", "ignore")) - bad  # non-ASCII characters that decoded
    return good > 2 * bad


# Legacy encodings we trust a detector's choice for; anything else falls back to cp1252, which
# never loses the ASCII part and gets Western European text right.
_SINGLE_BYTE_OK = {
    "cp1252", "iso8859-1", "iso8859-15", "cp1250", "cp1251", "koi8-r", "iso8859-2",
    "iso8859-5", "iso8859-7", "cp1253", "cp1254", "iso8859-9", "cp1257", "mac-roman",
    "shift_jis", "euc_jp", "gb2312", "gb18030", "big5", "euc_kr", "cp932", "cp949", "cp936",
}


def decode_text(data: bytes) -> str:
    """Decode ``data`` as text (BOM, UTF-8, UTF-16, legacy fallback) or raise NotText."""
    encoding, skip = detect_encoding(data)
    if encoding == "binary":
        raise NotText("the file holds binary data, not text")
    text = data[skip:].decode(encoding, errors="replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text:
        bad = len(_CONTROL.findall(text[:100_000]))
        if bad / min(len(text), 100_000) > 0.02:
            raise NotText("the file holds binary data, not text")
    return text


def clean_name(text: str) -> str:
    """A file name as text that can be stored and printed: bytes that were not valid UTF-8
    (kept by Python as lone surrogates) become U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace") if text else text
