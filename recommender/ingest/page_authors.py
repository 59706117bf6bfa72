"""The author list of a copied page, chosen among candidate lists by evidence.

Lists beside the title, labelled lists and the paper's own citation are scored (:func:`author_candidates`),
the same way the journal is (:mod:`.page_journal`); names abbreviated in the winning list are spelt out where
the page spells the same person in full. Which text is a name at all is :mod:`.person_names`.
"""

from __future__ import annotations

import re

from .fields import flip_name
from .page_lines import PageLines, _next_line
from .page_patterns import (
    _INSTITUTION_WORD,
    _WORD,
    _YEAR,
    BIBTEX_FIELD,
    MAX_RULE_LINE_CHARS,
    SHORT_CITATION,
)
from .page_title import MAX_CITATION_SCAN_LINES, TITLE_WINDOW, _around_title, _title_lines
from .person_names import (
    _ET_AL,
    _ET_AL_TAIL,
    _LIST_PREFIX,
    _TITLE_PREFIX,
    _line_names,
    is_person_name,
    parse_person_list,
)

#: Least evidence for an author list: a list beside the title, a labelled list, or the paper's citation.
AUTHORS_MIN_SCORE = 2.5
MAX_AUTHOR_CANDIDATES = 300
MAX_AUTHOR_RUN_LINES = 60
#: Names an abbreviated author is looked up among.
MAX_NAME_POOL = 1000
#: Lines inside a one-name-per-line list that are not names: ORCID links, lone commas and ampersands.
_RUN_FILLER = re.compile(r"^(?:[,&…•·]|and|\.\.\.|(?:https?://)?orcid\.org/\S*|orcid(?: icon)?)$", re.IGNORECASE)
#: Labels whose value is the author list (alone on a line, the list on the next lines).
AUTHOR_LABEL = re.compile(
    r"^(?:[•·▪◦*–-]\s*)?(?:authors?(?: of this article)?|by|autor(?:es|en)?|auteurs?|autori|автори|авторы|автор|"
    r"tác giả|作者|著者|저자)\s*+(?:[:：]\s*+(?P<value>.*))?$",
    re.IGNORECASE,
)
#: "..., автор научной работы — Name, Name" (CyberLeninka), "Authors — Name".
AUTHOR_LABEL_INLINE = re.compile(r"\b(?:authors?|автор(?:ы)?(?: научной работы)?)\s*+[—–]\s*+(?P<value>.+)$", re.I)
#: Labels whose names are not the paper's authors: editors, reviewers, contacts.
NOT_AUTHORS = re.compile(
    r"^(?:editors?|edited by|reviewed by|reviewers?|academic editor|handling editor|guest editor|section editor|"
    r"editor who approved|peer reviewers?|media contact|contact|credit|photo|translated by|author biographies|"
    r"corresponding authors?|correspondence(?: to)?|\*\s*correspondence|\*\s*corresponding author)\b",
    re.IGNORECASE,
)
_CORRESPONDENCE = re.compile(
    r"(?:corresponding author|correspondence(?: to)?|to whom correspondence)\s*+[:：]?\s*+(?P<value>.*)$",
    re.IGNORECASE,
)


def _page_words(page: PageLines, abstract_lines: list[int]) -> frozenset[str]:
    """Words the page writes in lower case in running text: "Cancer" or "Treatment" in a line are not names."""
    words: set[str] = set()
    size = 0
    for index in [*abstract_lines, *range(min(page.end, TITLE_WINDOW))]:
        if page.kind[index] not in ("prose", "section") and index not in abstract_lines:
            continue
        text = " ".join(token for token in page.text[index][:5000].split() if "@" not in token and "/" not in token)
        words.update(word for word in _WORD.findall(text) if word.islower())  # not e-mail or web addresses
        size += len(text)
        if size > 200_000:
            break
    return frozenset(words)


def _author_run(page: PageLines, start: int, stop: int, common: frozenset[str]) -> tuple[list[str], int, int]:
    """Names from ``start`` on: one line's list, or a run of one name per line (with bullets, numbers, ORCID
    links and lone commas between); returns the names, the line after them and how many lines held names."""
    names: list[str] = []
    lines = 0
    index = start
    while index < stop and index - start < MAX_AUTHOR_RUN_LINES and len(names) < 200:
        line = page.text[index]
        if not line or _RUN_FILLER.match(_LIST_PREFIX.sub("", line)):
            index += 1
            continue
        found = _line_names(line, common) if len(line) <= MAX_RULE_LINE_CHARS else None
        if not found:
            break
        names.extend(found)
        lines += 1
        index += 1
    return names, index, lines


def find_authors(page: PageLines, title: str | None, abstract_lines: list[int]) -> list[str]:
    """The authors by evidence (:func:`author_candidates`), abbreviated names spelt out where the page spells
    the same person in full ("Okafor CN" → "Chidi N Okafor"); empty below :data:`AUTHORS_MIN_SCORE`."""
    candidates = author_candidates(page, title, abstract_lines)
    if not candidates:
        return []
    best = max(candidates, key=lambda item: (item[0], -item[1]))
    if best[0] < AUTHORS_MIN_SCORE:
        return []
    pool = [name for _, _, names in candidates for name in names][:MAX_NAME_POOL] + _correspondents(page)
    names = [_spelt_out_name(name, pool) if position < 50 else name for position, name in enumerate(best[2])]
    return list(dict.fromkeys(names))  # a name a page copied twice ("Oliver Lund" / "Oliver Lund1*")


def author_candidates(
    page: PageLines, title: str | None, abstract_lines: list[int]
) -> list[tuple[float, int, list[str]]]:
    """Author lists with their evidence, as (score, line, names):

    - beside a line holding the title (or, on a page without a title, beside the abstract): +3 within 2 lines,
      +2 within 4, +1 within 8 (non-blank lines);
    - labelled ("Authors:", "by", "Autores", "Автори:", "作者", BibTeX ``author=``): +3;
    - the paper's own citation (names before the title, or right after it): +3;
    - two names or more: +0.5; one name alone: -1; one name a line over several lines (a laid-out list): +1;
      ending in "et al." or a short citation ("Ann Smith et al. J Name. 2021"): +1;
    - above the abstract +0.5, below it -1 (when the page has a title).

    Names after "Editor", "Reviewed by", "Correspondence", "Contact" or "Credit" labels are never candidates."""
    window = min(page.end, TITLE_WINDOW)
    common = _page_words(page, abstract_lines)
    title_lines = _title_lines(page, title)
    rank = [0] * len(page.text)
    count = 0
    for index in range(min(len(page.text), MAX_CITATION_SCAN_LINES)):
        count += bool(page.text[index])
        rank[index] = count
    abstract_start = abstract_lines[0] if abstract_lines else page.end
    abstract_end = abstract_lines[-1] if abstract_lines else page.end
    # Without a title, the abstract is what an author list sits beside.
    anchors = title_lines or ([abstract_lines[0], abstract_lines[-1]] if abstract_lines else [])
    titled = [rank[index] for index in anchors if index < len(rank)]
    candidates: list[tuple[float, int, list[str]]] = []

    def score(names: list[str] | None, index: int, bonus: float, *, near: bool = True) -> None:
        if not names or len(candidates) >= MAX_AUTHOR_CANDIDATES:
            return
        value = (
            bonus
            + (0.5 if len(names) >= 2 else -1.0)
            + (1.0 if _ET_AL.search(page.text[index][-_ET_AL_TAIL:]) else 0.0)
        )
        if near and index < len(rank):
            distance = min((abs(rank[index] - at) for at in titled if at != rank[index]), default=99)
            value += 3.0 if distance <= 2 else 2.0 if distance <= 4 else 1.0 if distance <= 8 else 0.0
        value += 0.5 if index < abstract_start else -1.0 if index > abstract_end and near and title_lines else 0.0
        candidates.append((value, index, names))

    for index in title_lines:
        before, after = _around_title(page.text[index], title or "")
        before = re.sub(r"\(\s*+(?:" + _YEAR + r")[a-z]?\s*+\)[\s.,]*+$", "", before.rstrip(" .,:"))
        before = before.rsplit(": ", 1)[-1].rstrip(" .,")
        names = parse_person_list(re.sub(r"^\d{1,3}\.\s*", "", before), common) if before else None
        if not names:
            lead = after.lstrip(" .,:;")
            cut = lead.lower().find("et al", 0, 400)
            stop = cut + 5 if cut >= 0 else lead.find(". ", 0, 400)
            names = parse_person_list(lead[:stop] if stop > 0 else "", common)
        score(names, index, 3.0, near=False)
    consumed: set[int] = set()
    for index in range(window):
        line = page.text[index]
        if (
            not line
            or index in consumed
            or len(line) > MAX_RULE_LINE_CHARS
            or page.kind[index] in ("furniture", "json")
        ):
            continue
        if NOT_AUTHORS.match(line):  # "Edited by:" / "Reviewed by:": the names under it are not the authors
            if len(line) < 40 and line.rstrip().endswith((":", "by", "By")):
                start = next((j for j in range(index + 1, min(index + 3, window)) if page.text[j]), index + 1)
                consumed.update(range(start, _author_run(page, start, window, common)[1]))
            continue
        for match in BIBTEX_FIELD.finditer(line):
            if match.group("key").lower() == "author":
                names = [flip_name(name) for name in re.split(r"\s+and\s+", match.group("value"))[:200]]
                score([name for name in names if is_person_name(name, common)], index, 3.0)
        short = SHORT_CITATION.match(line)  # PubMed's "Ann Smith et al. Clin Test Oncol. 2023 Mar."
        if short and is_person_name(short.group("author").strip(), common):
            score([short.group("author").strip()], index, 1.0)
        label = AUTHOR_LABEL.match(line)
        inline = AUTHOR_LABEL_INLINE.search(line) if not label else None
        if label and not label.group("value"):
            start = next((j for j in range(index + 1, min(index + 3, window)) if page.text[j]), index + 1)
            names, end, lines = _author_run(page, start, window, common)
            consumed.update(range(start, end))
            score(names, index, 3.0 + (lines >= 2))
        elif labelled := label or inline:
            value = labelled.group("value")
            score(parse_person_list(value, common) or _line_names(value, common), index, 3.0)
        else:
            names, end, lines = _author_run(page, index, window, common)
            consumed.update(range(index, end))
            score(names, index, 1.0 if lines >= 2 else 0.0)
    return candidates


def _correspondents(page: PageLines) -> list[str]:
    """People named on the page outside author lists, who spell out names a list abbreviates: corresponding
    authors ("Correspondence to Dr Ann Smith; ...") and people beside their affiliation ("Ann Smith, Example
    University")."""
    names = []
    for index in range(min(page.end, TITLE_WINDOW)):
        line = page.text[index]
        if len(line) > MAX_RULE_LINE_CHARS:
            continue
        match = _CORRESPONDENCE.search(line)
        if not match:
            person, comma, rest = line.partition(",")
            if comma and _INSTITUTION_WORD.search(rest) and " " in person.strip() and is_person_name(person.strip()):
                names.append(person.strip())
            continue
        value = match.group("value") or (_next_line(page, index, page.end) or "")
        value = _TITLE_PREFIX.sub("", value.lstrip(" *:"))
        name = re.split(r"[,;:(]|\s(?:at|from)\s", value, maxsplit=1)[0].strip(" .")
        if is_person_name(name) and " " in name:
            names.append(name)
    return names


def _spelt_out_name(name: str, pool: list[str]) -> str:
    """ "Okafor CN", "Verma A" or "M. Okafor" as the page's fuller spelling of the same person ("Chidi N
    Okafor"): same last name, same first initial, a first name of two letters or more."""
    tokens = name.split()
    if len(tokens) < 2:
        return name
    if tokens[-1].replace(".", "").isupper() and len(tokens[-1].replace(".", "")) <= 3:
        last, initial = " ".join(tokens[:-1]), tokens[-1][0]
    elif tokens[0].replace(".", "").replace("-", "").isupper() and len(tokens[0].replace(".", "")) <= 3:
        last, initial = " ".join(tokens[1:]), tokens[0][0]
    else:
        return name
    for other in pool:
        words = other.split()
        if (
            len(words) >= 2
            and other.lower().endswith(" " + last.lower())
            and words[0][0] == initial
            and sum(ch.isalpha() for ch in words[0]) >= 2
            and not words[0].isupper()
        ):
            return other
    return name
