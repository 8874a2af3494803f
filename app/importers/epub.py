"""EPUB 2/3 books: spine order, chapter titles from the table of contents, clean paragraphs.

A book's table of contents often points *into* a file (``s04.xhtml#ch12``): Project Gutenberg
EPUBs can hold a whole anthology in one spine item. We therefore split each spine file at the
anchors its table-of-contents entries name, so sections are real chapters and citations land
near the passage. Cover, navigation, copyright and empty pages are left out because a memory
trained on them learns publisher boilerplate rather than the book.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from ..document import Document, ImportFailed, Section, content_hash
from ._markup import Block, html_blocks, page_title, parse_html

# Font obfuscation is not DRM: the text stays readable (IDPF and Adobe font mangling).
_FONT_OBFUSCATION = {
    "http://www.idpf.org/2008/embedding",
    "http://ns.adobe.com/pdf/enc#RC",
}
_ENC_NS = "http://www.w3.org/2001/04/xmlenc#"
_COPYRIGHT = re.compile(r"all rights reserved|©|\bcopyright\b|\bisbn\b|\bpublished by\b", re.I)
_TOC_HEADINGS = {"contents", "table of contents", "toc"}
log = logging.getLogger(__name__)
MAX_UNPACKED_MEMBER = 64 * 2**20  # the largest chapter or image a book plausibly holds
MAX_UNPACKED_TOTAL = 256 * 2**20  # plus twice the file's size: stored images do not shrink


def check_container(path: Path, data: bytes) -> zipfile.ZipFile:
    """Open the zip and refuse damaged or DRM-protected books before ebooklib sees them."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        _check_unpacked_size(path, archive, len(data))
        bad = archive.testzip()  # streams each member: no member is held whole in memory
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise ImportFailed(path, "the EPUB file is damaged or incomplete (not a readable zip archive)") from exc
    except Exception as exc:  # zlib.error and friends on truncated members
        raise ImportFailed(path, f"the EPUB file is damaged or incomplete ({exc})") from exc
    if bad is not None:
        raise ImportFailed(path, f"the EPUB file is damaged or incomplete (entry {bad} is corrupt)")
    names = set(archive.namelist())
    if "META-INF/container.xml" not in names:
        raise ImportFailed(path, "the file is not an EPUB book (it has no META-INF/container.xml)")
    if "META-INF/rights.xml" in names or _has_encrypted_content(archive, names):
        raise ImportFailed(path, "the book is protected by DRM (its content is encrypted) and cannot be read")
    return archive


def _check_unpacked_size(path: Path, archive: zipfile.ZipFile, packed: int) -> None:
    """Refuse a zip bomb before anything is decompressed.

    zipfile never inflates a member past the size its header declares, so the declared sizes
    bound what ebooklib (which reads every member whole) can be made to hold.
    """
    sizes = [info.file_size for info in archive.infolist()]
    biggest = max(sizes, default=0)
    limit = MAX_UNPACKED_TOTAL + 2 * packed
    if biggest > MAX_UNPACKED_MEMBER or sum(sizes) > limit:
        mib = max(biggest, sum(sizes)) / 2**20
        raise ImportFailed(path, f"the EPUB file unpacks to {mib:,.0f} MiB, far more than any book "
                                 "(a damaged file or a 'zip bomb'), so it was not opened")


def _has_encrypted_content(archive: zipfile.ZipFile, names: set[str]) -> bool:
    if "META-INF/encryption.xml" not in names:
        return False
    try:
        root = etree.fromstring(archive.read("META-INF/encryption.xml"))
    except etree.XMLSyntaxError:
        return True  # an unreadable encryption manifest: assume the worst
    for data in root.iter(f"{{{_ENC_NS}}}EncryptedData"):
        method = data.find(f"{{{_ENC_NS}}}EncryptionMethod")
        algorithm = method.get("Algorithm", "") if method is not None else ""
        if algorithm not in _FONT_OBFUSCATION:
            return True
    return False


def _flatten_toc(toc, out: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """ebooklib's toc is nested Link / (Section, children); flatten to (href, title) in order."""
    for entry in toc:
        if isinstance(entry, (tuple, list)):
            head, children = entry[0], entry[1]
            if getattr(head, "href", None):
                out.append((head.href, head.title or ""))
            _flatten_toc(children, out)
        elif getattr(entry, "href", None):
            out.append((entry.href, entry.title or ""))
    return out


def _split_href(href: str) -> tuple[str, str]:
    file, _, fragment = unquote(href).partition("#")
    return file.rsplit("/", 1)[-1], fragment


def _skip_reason(item, root: etree._Element, blocks: list[Block]) -> str | None:
    """Why a spine page is not book text (None when it is)."""
    name = item.get_name().lower()
    text = " ".join(b.text for b in blocks if b.kind != "anchor")
    types = " ".join(el.get("epub:type", "") for el in root.iter() if isinstance(el.tag, str))
    if "cover" in types.split() or ("cover" in name and len(text) < 500):
        return "cover"
    if not text.strip():
        return "empty"
    if "toc" in types.split() or "copyright-page" in types:
        return "toc" if "toc" in types.split() else "copyright"
    if "copyright" in name or (len(text) < 2000 and len(_COPYRIGHT.findall(text)) >= 2):
        return "copyright"
    headings = [b.text.strip().lower() for b in blocks if b.kind.startswith("h")]
    if headings and headings[0] in _TOC_HEADINGS:
        return "toc"
    return None


def _sections_of_page(
    blocks: list[Block], titles: dict[str, str], file_title: str | None, fallback: str, meta: dict
) -> list[Section]:
    """Cut one page's blocks at its table-of-contents anchors."""
    heading = next((b.text for b in blocks if b.kind in ("h1", "h2", "h3")), None)
    parts: list[tuple[str, str | None, list[Block]]] = [(file_title or heading or fallback, None, [])]
    for block in blocks:
        if block.kind == "anchor":
            parts.append((titles[block.text], block.text, []))
        else:
            parts[-1][2].append(block)
    sections: list[Section] = []
    carry = ""  # headings-only parts ("PART II") are prefixed to the next real section
    for title, anchor, part in parts:
        text = "\n\n".join(b.text for b in part)
        if not any(b.kind == "p" for b in part):
            carry = f"{carry}\n\n{text}".strip()
            continue
        if carry:
            text = f"{carry}\n\n{text}"
            carry = ""
        sections.append(Section(title.strip() or fallback, text, {**meta, "anchor": anchor}))
    if carry and sections:
        sections[-1].text += "\n\n" + carry
    elif carry:
        sections.append(Section(file_title or heading or fallback, carry, {**meta, "anchor": None}))
    return sections


def import_epub(path: Path, data: bytes) -> Document:
    """Read an EPUB into a Document, or raise ImportFailed with the reason."""
    check_container(path, data)
    try:
        from ebooklib import ITEM_DOCUMENT, epub

        book = epub.read_epub(str(path), options={"ignore_ncx": False})
    except ImportFailed:
        raise
    except KeyError as exc:  # ebooklib looks up the metadata namespace a book must declare
        raise ImportFailed(path, "the EPUB file is incomplete (its package file has no book metadata)") from exc
    except Exception as exc:
        log.warning("Reading EPUB %s failed", path, exc_info=True)  # details for a bug report only
        raise ImportFailed(path, "the EPUB file is damaged or incomplete") from exc

    toc = _flatten_toc(book.toc, [])
    file_titles: dict[str, str] = {}
    anchor_titles: dict[str, dict[str, str]] = {}
    for href, title in toc:
        file, fragment = _split_href(href)
        if fragment:
            anchor_titles.setdefault(file, {}).setdefault(fragment, title)
        else:
            file_titles.setdefault(file, title)

    sections: list[Section] = []
    skipped: list[str] = []
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() != ITEM_DOCUMENT:
            continue
        if isinstance(item, epub.EpubNav) or "nav" in (getattr(item, "properties", None) or []):
            skipped.append(f"{item.get_name()}: navigation")
            continue
        file = item.get_name().rsplit("/", 1)[-1]
        try:
            root = parse_html(item.get_content())
        except Exception as exc:
            raise ImportFailed(path, f"the page {item.get_name()} could not be read ({exc})") from exc
        titles = anchor_titles.get(file, {})
        blocks = html_blocks(root, frozenset(titles))
        reason = _skip_reason(item, root, blocks)
        if reason:
            skipped.append(f"{item.get_name()}: {reason}")
            continue
        fallback = page_title(root) or f"Section {len(sections) + 1}"
        sections += _sections_of_page(blocks, titles, file_titles.get(file), fallback, {"href": item.get_name()})

    if not sections:
        raise ImportFailed(path, "the book contains no readable text")

    def dc(name: str) -> list[str]:
        try:  # ebooklib raises KeyError (the DC namespace) when a book has no such metadata
            values = book.get_metadata("DC", name)
        except KeyError:
            return []
        return [str(value).strip() for value, _attrs in values if str(value).strip()]

    titles = dc("title")
    languages = dc("language")
    return Document(
        title=titles[0] if titles else path.stem,
        authors=dc("creator"),
        language=languages[0] if languages else None,
        kind="book",
        source_path=str(path),
        content_hash=content_hash(data),
        sections=sections,
        meta={"format": "epub", "skipped": skipped, "publisher": (dc("publisher") or [None])[0]},
    )
