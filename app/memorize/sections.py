"""Choosing chapters: the section numbers people see (`locas list --sections DOC_ID`, the
Memorize dialog's list) and the section ids a memorize job plans with.

Numbers are 1-based positions in the document, as listed; a choice is a list of numbers and
ranges such as ``3-10`` or ``1,4,7-9``.
"""

from __future__ import annotations

from app.errors import UserError
from app.library import Library, SectionInfo


class SectionChoiceError(UserError):
    """A --sections choice that does not fit the document; the message says why."""


def _spans_text(spans: list[tuple[int, int]]) -> str:
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return ", ".join(f"{a}-{b}" if b > a else str(a) for a, b in merged)


def number_ranges(numbers: list[int]) -> str:
    """Numbers written short, as a person would: [3, 4, 5, 9] -> '3-5, 9'."""
    return _spans_text([(n, n) for n in numbers])


def what_exists(count: int) -> str:
    """'this document has 1 section' / 'this document has 139 sections, 1-139'."""
    if count == 1:
        return "this document has 1 section"
    return f"this document has {count} sections, 1-{count}" if count else "this document has no sections"


def parse_section_numbers(spec: str, count: int, document_id: int | None = None) -> list[int]:
    """The 1-based section numbers ``spec`` names, sorted, each within 1..``count``."""
    spans: list[tuple[int, int]] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            first, last = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise SectionChoiceError(
                f"'{spec}' is not a list of section numbers such as 3-10 or 1,4,7-9.") from None
        if first > last:
            raise SectionChoiceError(f"The range {part} runs backwards; write it as {last}-{first}.")
        spans.append((first, last))
    if not spans:
        raise SectionChoiceError("Name at least one section, such as 3-10.")
    outside = [(a, b) for first, last in spans
               for a, b in ((first, min(last, 0)), (max(first, count + 1), last)) if a <= b]
    if outside:
        named = _spans_text(outside)
        where = f"locas list --sections {document_id}" if document_id is not None else \
            "locas list --sections DOC_ID"
        exists = what_exists(count)
        raise SectionChoiceError(
            f"{exists[0].upper()}{exists[1:]}: {named} {'are' if '-' in named or ',' in named else 'is'} "
            f"not among them. See: {where}")
    return sorted({n for first, last in spans for n in range(first, last + 1)})


def chosen_sections(library: Library, document_id: int, spec: str) -> list[SectionInfo]:
    """The document's sections that ``spec`` names (by SectionInfo.number), in document order."""
    sections = library.sections(document_id)
    wanted = set(parse_section_numbers(spec, len(sections), document_id))
    return [s for s in sections if s.number in wanted]


def held_section_ids(library: Library, memory: str, document_id: int) -> set[int]:
    """Ids of the document's sections whose current text the memory already holds."""
    if library.get_memory(memory) is None:
        return set()
    unheld = {s.id for s in library.unheld_sections(memory, document_id)}
    return {s.id for s in library.sections(document_id)} - unheld


def unheld_rest(library: Library, memory: str, document_id: int) -> list[int] | None:
    """When the memory holds only some sections of the document (chapters chosen earlier), the
    ids of the others, to memorize when the whole document is asked for again; else None."""
    if library.get_memory(memory) is None:
        return None
    done = any(s["document_id"] == document_id and s["status"] == "done"
               for s in library.memory_sources(memory))
    held = held_section_ids(library, memory, document_id)
    if not done or not held:
        return None
    rest = [s.id for s in library.sections(document_id) if s.id not in held]
    return rest or None


def sections_to_memorize(library: Library, memory: str | None, document_id: int,
                         chosen: list[int] | None = None) -> list[SectionInfo]:
    """The sections a memorize job trains ``memory`` on: of ``chosen`` (section ids; None: the
    whole document), those it does not hold yet. What the cost said before Start counts."""
    held = held_section_ids(library, memory, document_id) if memory else set()
    wanted = None if chosen is None else set(chosen)
    return [s for s in library.sections(document_id)
            if (wanted is None or s.id in wanted) and s.id not in held]
