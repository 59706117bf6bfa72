"""The line model of a copied page: its lines cleaned and joined, each with a kind.

Every other rule of :mod:`.text_page` reads a :class:`PageLines`: the page split into cleaned lines (ligatures
undone, glued section labels put on lines of their own, hard-wrapped paragraphs joined), each given a *kind*
(blank, furniture, stop marker, abstract heading, section label, prose, ...), and the region that still
belongs to the paper (everything after a reference list or a journal blurb is cut off).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..paper import clean_text
from .page_patterns import (
    ABSTRACT_END,
    ABSTRACT_HEADING,
    ABSTRACT_INLINE,
    BULLET,
    DOCUMENT_END,
    FURNITURE,
    GENERATED,
    GLUED_LABEL,
    LEADING_LABEL,
    MAX_RULE_LINE_CHARS,
    NUMBERED,
    SECTION_LABEL,
    SENTENCE_END,
)
from .person_names import parse_author_line

#: Longest paragraph hard-wrapped lines are joined into.
MAX_REFLOW_CHARS = 20000


def split_lines(text: str) -> list[str]:
    """The page's lines, cleaned; a section label glued to the end of a sentence ("...by 45%.Conclusion") is
    put on a line of its own, and hard-wrapped paragraphs (PDF copies, 80-column pages) are joined."""
    lines = [clean_text(line.replace("\u00a0", " ")) for line in text.replace("\r\n", "\n").split("\n")]
    lines = [part for line in lines for part in _unglue_labels(line.translate(LIGATURES))]
    return _reflow(lines)


def _runs_on(previous: str, line: str, *, inside: bool = False) -> bool:
    """Whether ``line`` continues ``previous`` (a hard-wrapped paragraph): a long line cut mid-sentence, then a
    lower-case start of at least three words or a sentence end; inside a paragraph already three lines long,
    an upper-case start too ("...sustains ATP and" / "NADPH levels."), unless it is a heading or author line.
    Never BibTeX or labelled fields."""
    if not previous or not line or len(previous) < (25 if inside else 40) or previous[-1] in ".!?:;":
        return False
    if line[0].islower() and line[1:2].isupper():
        return False  # "aDepartment of ...": an affiliation with its footnote letter, not a continued sentence
    if not line[0].islower() and not (
        inside and line[0].isalnum() and not SECTION_LABEL.match(line) and parse_author_line(line) is None
    ):
        return False
    if "{" in previous or "=" in line.split(" ", 1)[0] or line.split(" ", 1)[0].endswith(":"):
        return False
    return len(line.split()) >= 3 or line[-1] in ".!?"


#: Typographic ligatures of PDF text ("ﬁbroblasts") as their letters.
LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"}
)


def _unglue_labels(line: str) -> list[str]:
    start = LEADING_LABEL.match(line)
    if start and start.end():  # "ObjectiveTo investigate", "方法分离..." → the label, then its text
        label = start.group(1) or start.group(2)
        rest = _unglue_labels(line[start.end() :].strip())
        return [label, *rest] if label else rest
    if len(line) > MAX_RULE_LINE_CHARS * 10 or "." not in line:
        return [line]
    parts = GLUED_LABEL.split(line)
    if len(parts) == 1:
        return [line]
    out = [parts[0]]
    for label, text in zip(parts[1::2], parts[2::2], strict=True):
        out.extend([label, text.strip()] if text.strip() else [label])
    return out


def _reflow(lines: list[str]) -> list[str]:
    """Join a line to the next when the text plainly runs on: the line is long and ends mid-sentence (or with a
    hyphen) and the next starts in lower case (:func:`_runs_on`); a joined paragraph stops growing at
    :data:`MAX_REFLOW_CHARS`."""
    out: list[str] = []
    pieces: list[str] = []
    size = 0
    for line in lines:
        if pieces and size < MAX_REFLOW_CHARS and _runs_on(pieces[-1], line, inside=len(pieces) >= 2):
            if pieces[-1].endswith("-") and pieces[-1][-2:-1].isalpha():
                pieces[-1] = pieces[-1][:-1] + line  # a word hyphenated at the line end
            else:
                pieces.append(line)
            size += len(line) + 1
            continue
        if pieces:
            out.append(" ".join(pieces))
        pieces, size = [line], len(line)
    if pieces:
        out.append(" ".join(pieces))
    return out


def sentence_count(line: str) -> int:
    return len(SENTENCE_END.findall(re.sub(r"\bet al\.", "et al", line)))


def is_prose(line: str) -> bool:
    """Running text: long, or several sentences. Titles are one sentence; buttons are a few words."""
    if len(line) >= 250:
        return True
    return len(line) >= 80 and sentence_count(line) >= 2 and len(line.split()) >= 12


@dataclass
class PageLines:
    """The page's lines with their kinds, and the region that still belongs to the paper."""

    text: list[str]
    kind: list[str]
    end: int

    @classmethod
    def classify(cls, raw: str) -> PageLines:
        lines = split_lines(raw)
        kinds = [_kind(line) for line in lines]
        _mark_generated_blocks(lines, kinds)
        end = len(lines)
        seen_prose = False
        for index, kind in enumerate(kinds):
            seen_prose = seen_prose or kind == "prose" or (kind == "section" and len(lines[index]) > 80)
            if kind == "document_end" and seen_prose and not _in_contents_list(lines, kinds, index):
                end = index
                break
        return cls(lines, kinds, end)


def _in_contents_list(lines: list[str], kinds: list[str], index: int) -> bool:
    """Whether a "References" line is an entry of a table of contents: followed by a heading or short entry,
    not by references."""
    following = next((lines[j] for j in range(index + 1, min(index + 4, len(lines))) if lines[j]), "")
    return bool(following) and len(following) < 40 and not following[:1].isdigit() and not following.startswith("[")


def _is_caption(line: str) -> bool:
    """A figure caption with panels: "(a) ... (b) ..." within its first 600 characters (plain string search)."""
    head = line[:600]
    first = head.find("(a) ")
    return first >= 0 and head.find("(b) ", first + 4) >= 0


def _kind(line: str) -> str:
    if not line:
        return "blank"
    head = line[:MAX_RULE_LINE_CHARS]  # markers and furniture are short lines: their patterns read only this
    if DOCUMENT_END.search(head):
        return "document_end"
    if GENERATED.search(head):
        return "generated"
    if ABSTRACT_HEADING.match(head):
        return "abstract_heading"
    if ABSTRACT_INLINE.match(line):
        return "abstract_inline"
    if ABSTRACT_END.search(head) or _is_caption(line):
        return "abstract_end"
    if len(line) <= MAX_RULE_LINE_CHARS and FURNITURE.search(line):
        return "furniture"
    if line[0] in "{[" and line[-1] in "}]":
        return "json"
    section = SECTION_LABEL.match(line)
    if section:
        rest = (section.group("rest") or "").strip()
        if (not rest and len(line) < 40) or len(rest.split()) >= 3:
            return "section"
    if is_prose(line):
        return "prose"
    if BULLET.match(line):
        return "bullet"
    if NUMBERED.match(line):
        return "numbered"
    return "other"


def _mark_generated_blocks(lines: list[str], kinds: list[str]) -> None:
    """The prose lines right after a 'Generated ...' marker are an app's summary: make them furniture."""
    for index, kind in enumerate(kinds):
        if kind != "generated":
            continue
        cursor = index + 1
        while cursor < len(lines) and kinds[cursor] in ("prose", "other", "section") and len(lines[cursor]) > 60:
            kinds[cursor] = "furniture"
            cursor += 1


def _next_line(page: PageLines, index: int, stop: int) -> str | None:
    """The next non-blank line within two lines (a label's value on the line below it)."""
    for later in range(index + 1, min(index + 3, stop)):
        if page.text[later]:
            return page.text[later] if len(page.text[later]) <= MAX_RULE_LINE_CHARS else None
    return None
