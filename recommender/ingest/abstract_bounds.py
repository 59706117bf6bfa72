"""Where a copied page's abstract starts and ends, and its text.

The abstract is the text after an "Abstract" heading (in any interface language, or glued to the word), or
else the longest run of prose, joined across paragraphs and structured-abstract labels (BACKGROUND:,
METHODS:, ...), ended by the first stop marker. The title rules and the page fields need its lines, so it is
found first.
"""

from __future__ import annotations

from .fields import strip_markup
from .page_fields import _is_metadata_line
from .page_language import is_english
from .page_lines import PageLines
from .page_patterns import (
    ABSTRACT_INLINE,
    BARE_LABEL,
    DOI_LABELLED,
    MAX_RULE_LINE_CHARS,
    SECTION_LABEL,
    TRAILING_MORE,
)


def _collect_abstract(page: PageLines, start: int, first: str | None = None) -> tuple[str, list[int]]:
    """Join the abstract's paragraphs from ``start``; structured labels are kept ("Methods: ...")."""
    parts: list[str] = [first] if first else []
    used: list[int] = []
    pending_label: str | None = None
    index = start
    while index < page.end:
        line, kind = page.text[index], page.kind[index]
        if kind == "blank":
            index += 1
            continue
        if not parts and not pending_label and DOI_LABELLED.search(line[:MAX_RULE_LINE_CHARS]):
            index += 1  # a citation line ("Title. Authors. Journal. 2026. doi: ...") heads some abstracts
            continue
        if kind == "abstract_end" and not parts and SECTION_LABEL.match(line):
            kind = "section"  # "Introduction:" right after the heading labels the abstract's first section
        bare = BARE_LABEL.match(line) if kind in ("other", "prose") else None
        if bare:  # "Objectives To examine ..." (BMJ): a label with no colon, then the section's text
            parts.append(f"{bare.group('label')}: {bare.group('rest')}")
            used.append(index)
            index += 1
            continue
        if kind == "section":
            match = SECTION_LABEL.match(line)
            assert match is not None
            rest = (match.group("rest") or "").strip()
            label = match.group("label")
            if rest:
                parts.append(f"{label}: {rest}")
            elif parts and label.lower().startswith("introduction"):
                break
            else:
                pending_label = label
            used.append(index)
        elif kind == "prose" or (pending_label and kind == "other") or _is_sentence(line, kind):
            parts.append(f"{pending_label}: {line}" if pending_label else line)
            pending_label = None
            used.append(index)
        else:
            break
        index += 1
    return _tidy_abstract(" ".join(parts)), used


def _without_title(abstract: str, title: str) -> str:
    """The abstract without the title some pages repeat as its first line (a summary blog's "Original
    abstract"), when something substantial remains."""
    head = title.rstrip(" .")
    if abstract[: len(head)].lower() == head.lower():
        rest = abstract[len(head) :].lstrip(" .:")
        if len(rest) >= 100:
            return rest
    return abstract


def _is_sentence(line: str, kind: str) -> bool:
    """A line of running text too short to be prose on its own ("We examined whether ... predicts ...")."""
    return kind == "other" and len(line.split()) >= 8 and line[-1] in ".!?" and not _is_metadata_line(line)


def _tidy_abstract(text: str) -> str:
    """Markup tags left in copied text (JATS) removed; a site's "… CONTINUE READING" / "(More)" cut off."""
    text = strip_markup(text) if "<" in text or "&" in text else text.strip()
    return (
        TRAILING_MORE.sub("", text[-200:]).join([text[:-200], ""]) if len(text) > 200 else TRAILING_MORE.sub("", text)
    )


def heading_abstracts(page: PageLines, minimum: int = 100) -> list[tuple[str, list[int]]]:
    """Every abstract that follows an "Abstract" heading (in any interface language) or a glued one, in order;
    those after a heading need ``minimum`` characters."""
    found = []
    for index in range(page.end):
        kind = page.kind[index]
        if kind == "abstract_inline":
            match = ABSTRACT_INLINE.match(page.text[index])
            assert match is not None
            text, used = _collect_abstract(page, index + 1, first=match.group("rest").strip())
            found.append((text, [index, *used]))
        elif kind == "abstract_heading":
            text, used = _collect_abstract(page, index + 1)
            if len(text) >= minimum:
                found.append((text, [index, *used]))
    return found


def find_abstract(page: PageLines) -> tuple[str | None, list[int]]:
    """The abstract after an "Abstract" heading if there is one, else the longest run of prose.

    A page with abstracts in two languages (SciELO, Springer, CyberLeninka) gives the English one when it is at
    least half as long as the longest: the English model reads it best and the title is chosen in English too.
    """
    found = heading_abstracts(page)
    if found:
        longest = max(len(text) for text, _ in found)
        english = [item for item in found if is_english(item[0]) and len(item[0]) >= longest / 2]
        return (english or found)[0]
    best: tuple[str, list[int]] = ("", [])
    index = 0
    while index < page.end:
        if page.kind[index] in ("prose", "section"):
            start = _sentences_before(page, index)  # an unlabelled abstract may open with one-sentence lines
            text, used = _collect_abstract(page, start)
            if len(text) > len(best[0]):
                best = (text, used)
            index = max(used[-1] if used else index, index) + 1
        else:
            index += 1
    return (best[0] or None), best[1]


def _sentences_before(page: PageLines, index: int) -> int:
    """The first of the one-sentence lines right above ``index`` (at most five), or ``index``."""
    start = index
    while start > 0 and index - start < 5 and _is_sentence(page.text[start - 1], page.kind[start - 1]):
        start -= 1
    return start
