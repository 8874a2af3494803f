"""HTML/XHTML to clean paragraphs, shared by the EPUB and HTML importers.

The model memorizes whatever text we hand it, so markup noise (CSS, scripts, page-number spans,
double-escaped entities) would be learned as if it were the book. We walk the tree once and emit a
flat list of blocks: headings, paragraphs and, for EPUB, the anchors the table of contents points
at, so a long file can be cut into its real chapters.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import lxml.html
from lxml import etree

from ._encoding import decode_text
from .mathml import is_math, math_text

SKIP_TAGS = {
    "script", "style", "head", "noscript", "template", "svg", "iframe", "object",
    "embed", "canvas", "audio", "video", "button", "select", "input", "textarea", "title",
    "nav",  # site menus and in-page tables of contents: links, not text
}
BLOCK_TAGS = {
    "p", "div", "section", "article", "aside", "header", "footer", "main", "nav", "blockquote",
    "pre", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tr", "td", "th",
    "caption", "figure", "figcaption", "address", "hr", "body", "html", "h1", "h2", "h3", "h4",
    "h5", "h6", "details", "summary", "center", "hgroup", "form", "fieldset", "legend",
}
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_LEFTOVER_ENTITY = re.compile(r"&(#\d+|#x[0-9a-f]+|[a-z][a-z0-9]{1,8});", re.I)
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


@dataclass
class Block:
    """One unit of the page: kind is "p", "h1".."h6" or "anchor" (text = the anchor id)."""

    kind: str
    text: str


def parse_html(data: bytes | str) -> etree._Element:
    """Parse (X)HTML leniently; encoding from BOM/UTF-8/legacy fallback, never from guesses."""
    text = decode_text(data) if isinstance(data, bytes) else data
    text = _XML_DECL.sub("", text, count=1)
    if not text.strip():
        text = "<html><body></body></html>"
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    return lxml.html.document_fromstring(text.encode("utf-8"), parser=parser)


def clean_text(text: str) -> str:
    """Collapse whitespace inside lines, undo double-escaped entities, keep deliberate breaks."""
    if "&" in text:
        text = _LEFTOVER_ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def _tag(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""  # comment or processing instruction
    return tag.rsplit("}", 1)[-1].lower()


def _is_hidden(el: etree._Element) -> bool:
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    epub_type = el.get("epub:type") or el.get("{http://www.idpf.org/2007/ops}type") or ""
    if "pagebreak" in epub_type:
        return True
    style = (el.get("style") or "").replace(" ", "").lower()
    return "display:none" in style


class _Walker:
    def __init__(self, anchors: frozenset[str]) -> None:
        self.anchors = anchors
        self.blocks: list[Block] = []
        self.pending: list[str] = []
        self.heading: str | None = None

    def flush(self) -> None:
        text = clean_text("".join(self.pending))
        self.pending = []
        if text:
            kind = self.heading or "p"
            if kind != "p":
                text = text.replace("\n", " ")
            self.blocks.append(Block(kind, text))

    def walk(self, el: etree._Element) -> None:
        tag = _tag(el)
        if tag and tag not in SKIP_TAGS and not _is_hidden(el):
            self._enter(el, tag)
        if el.tail:
            self.pending.append(el.tail.replace("\n", " "))

    def _enter(self, el: etree._Element, tag: str) -> None:
        ident = el.get("id") or (el.get("name") if tag == "a" else None)
        if ident and ident in self.anchors:
            self.flush()
            self.blocks.append(Block("anchor", ident))
        if tag == "br":
            self.pending.append("\n")
            return
        if is_math(tag):  # maths as a line of text (m×n), not dropped (mathml.py)
            self.pending.append(math_text(el))
            return
        if tag == "img" and el.get("alt", "").strip():
            return  # alt text is for screen readers; as book text it reads as noise
        block = tag in BLOCK_TAGS
        outer_heading = self.heading
        if block:
            self.flush()
            if tag in HEADINGS:
                self.heading = tag
        if el.text:
            self.pending.append(el.text.replace("\n", " "))
        for child in el:
            self.walk(child)
        if block:
            self.flush()
            self.heading = outer_heading


def html_blocks(root: etree._Element, anchors: frozenset[str] = frozenset()) -> list[Block]:
    """Flatten a parsed page into headings, paragraphs and the requested anchors, in order."""
    walker = _Walker(anchors)
    body = root.find(".//body")
    walker.walk(body if body is not None else root)
    walker.flush()
    return walker.blocks


def page_title(root: etree._Element) -> str:
    """The page's <title>, used when the body has no heading."""
    title = root.findtext(".//title") or ""
    return clean_text(title).replace("\n", " ")
