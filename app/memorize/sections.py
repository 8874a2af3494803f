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


def parse_section_numbers(spec: str, count: int) -> list[int]:
    """The 1-based section numbers ``spec`` names, sorted, each within 1..``count``."""
    numbers: set[int] = set()
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
        numbers.update(range(first, last + 1))
    if not numbers:
        raise SectionChoiceError("Name at least one section, such as 3-10.")
    outside = sorted(n for n in numbers if not 1 <= n <= count)
    if outside:
        raise SectionChoiceError(
            f"The document has sections 1-{count}; {', '.join(map(str, outside[:5]))} "
            f"{'is' if len(outside) == 1 else 'are'} not among them. See: locas list --sections DOC_ID")
    return sorted(numbers)


def chosen_sections(library: Library, document_id: int, spec: str) -> list[SectionInfo]:
    """The document's sections that ``spec`` names, in document order."""
    sections = library.sections(document_id)
    wanted = set(parse_section_numbers(spec, len(sections)))
    return [s for i, s in enumerate(sections, 1) if i in wanted]


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
