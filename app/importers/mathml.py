"""MathML as a line of readable text: ``m×n``, ``x^2 + 1/y``, ``√(a+b)``.

Textbooks in EPUB write their maths in MathML. Dropping it leaves sentences such as "An matrix
has rows and columns"; keeping the raw markup leaves tags. A linear form reads as a person would
type it and is what a language model has seen in plain-text maths. When the markup holds no
presentation content, the element's ``alttext`` (often LaTeX, written for screen readers) is used.
"""

from __future__ import annotations

import re

from lxml import etree

_TOKENS = {"mi", "mn", "mo", "mtext", "ms"}
_ROWS = {"math", "mrow", "mstyle", "mpadded", "menclose", "merror", "mprescripts", "none"}
_SKIPPED = {"mphantom", "annotation", "annotation-xml", "maligngroup", "malignmark"}
_SPACED_OPERATORS = {"=", "≠", "<", ">", "≤", "≥", "≈", "≡", "→", "←", "⇒", "⇔", "∈", "∉", "⊂", "⊆"}
_SIMPLE = re.compile(r"^[\w.′'″]+$|^[^\w\s]$")  # needs no parentheses as a base, exponent or term


def _tag(el: etree._Element) -> str:
    """Local name: ``{ns}mi``, ``m:mi`` (a prefix the HTML parser keeps) and ``mi`` alike."""
    return el.tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower() if isinstance(el.tag, str) else ""


def is_math(tag: str) -> bool:
    return tag == "math" or tag.endswith(":math")


def _group(text: str) -> str:
    """Parenthesize a multi-part operand: ``a+b`` → ``(a+b)``; ``x`` and ``12`` stay as they are."""
    text = text.strip()
    if not text or _SIMPLE.match(text) or (text.startswith("(") and text.endswith(")")):
        return text
    return f"({text})"


def _join(parts: list[str]) -> str:
    out = ""
    for part in parts:
        if not part:
            continue
        if out and (out[-1].isalnum() or out[-1] == ")") and part[0].isalnum():
            out += " "  # "sin x", "1/(det A) adj A": adjacent identifiers stay apart
        out += part
    return out


def _linear(el: etree._Element) -> str:
    tag = _tag(el)
    kids = [k for k in el if _tag(k) and _tag(k) not in _SKIPPED]
    if tag in _SKIPPED:
        return ""
    if tag in _TOKENS:
        text = " ".join("".join(el.itertext()).split())
        if tag == "mo" and text in _SPACED_OPERATORS:
            return f" {text} "
        return text
    if tag == "mspace":
        return " "
    parts = [_linear(k) for k in kids]
    if tag == "semantics":
        return parts[0] if parts else ""
    if tag in ("msup", "mover") and len(parts) == 2:
        return f"{_group(parts[0])}^{_group(parts[1])}"
    if tag in ("msub", "munder") and len(parts) == 2:
        return f"{_group(parts[0])}_{_group(parts[1])}"
    if tag in ("msubsup", "munderover") and len(parts) == 3:
        return f"{_group(parts[0])}_{_group(parts[1])}^{_group(parts[2])}"
    if tag == "mfrac" and len(parts) == 2:
        return f"{_group(parts[0])}/{_group(parts[1])}"
    if tag == "msqrt":
        return f"√{_group(_join(parts)) if len(_join(parts)) > 1 else _join(parts)}"
    if tag == "mroot" and len(parts) == 2:
        return f"{_group(parts[0])}^(1/{parts[1].strip()})"
    if tag == "mfenced":
        opening, closing = el.get("open", "("), el.get("close", ")")
        separator = (el.get("separators", ",").strip() or ",")[0]
        return opening + f"{separator} ".join(p.strip() for p in parts) + closing
    if tag == "mtable":
        return "[" + "; ".join(p.strip() for p in parts) + "]"
    if tag in ("mtr", "mlabeledtr"):
        return ", ".join(p.strip() for p in parts)
    return _join(parts)  # mrow, mtd, math and anything unknown: its content in order


def math_text(el: etree._Element) -> str:
    """The ``<math>`` element as one line of text (empty when it holds nothing readable)."""
    text = re.sub(r"\s+", " ", _linear(el)).strip()
    if not text:
        text = " ".join((el.get("alttext") or "").split())
    return text
