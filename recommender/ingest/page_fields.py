"""The fields a copied page states on metadata lines: year, DOI, keywords and MeSH terms.

Citation, date, DOI, PMID and keyword lines are recognised here (:func:`_is_metadata_line`, which the abstract
and title rules use to tell such lines from text) and the year, the DOI, the keywords and the MeSH terms are
read off them by pattern and, for the year, by the evidence of the words beside it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..paper import normalize_doi
from .fields import parse_year
from .page_lines import PageLines, _kind, is_prose
from .page_patterns import (
    _YEAR,
    ABSTRACT_END,
    DATE_WORDS,
    DATED_LINE,
    DOI_ANY,
    DOI_ELSEWHERE,
    DOI_LABELLED,
    DOI_LINE,
    FURNITURE,
    GENERATED,
    JOURNAL_COMMA_DATE,
    JOURNAL_DATE,
    KEYWORDS_HEADING,
    KEYWORDS_LINE,
    LONG_CITATION,
    MAX_RULE_LINE_CHARS,
    MESH_HEADING,
    PMID_LINE,
    SECTION_LABEL,
    SHORT_CITATION,
    VOLUME_CITATION,
    VOLUME_ISSUE,
)
from .person_names import parse_author_line


def _is_metadata_line(line: str) -> bool:
    if len(line) > MAX_RULE_LINE_CHARS:
        return False
    return bool(
        SHORT_CITATION.match(line)
        or LONG_CITATION.match(line)
        or VOLUME_CITATION.match(line)
        or VOLUME_ISSUE.match(line)
        or JOURNAL_COMMA_DATE.match(line)
        or _journal_date(line)
        or DOI_LABELLED.search(line)
        or PMID_LINE.search(line)
        or DATE_WORDS.match(line)
        or parse_author_line(line)
        or KEYWORDS_LINE.match(line)
    )


def _journal_date(line: str) -> tuple[str, int] | None:
    match = JOURNAL_DATE.match(line)
    if not match or DATE_WORDS.match(line) or len(match.group("journal").split()) > 12:
        return None
    year = parse_year(match.group("date"))
    return (match.group("journal").strip(" ,."), year) if year else None


def _citation_year(lines: list[str]) -> int | None:
    """The year of the first citation or date line, in order of reliability: a short citation ("Smith et al.
    J Name. 2021"), a journal-comma-date or volume/issue line, a long citation or journal-date line, a
    "published ..." date line. Only a hint for :func:`_find_year`."""
    lines = [line for line in lines if len(line) <= MAX_RULE_LINE_CHARS]
    for line in lines:
        short = SHORT_CITATION.match(line)
        if short:
            return parse_year(short.group("year"))
    for line in lines:
        comma_date = JOURNAL_COMMA_DATE.match(line)
        if comma_date:
            return parse_year(comma_date.group("date"))
        volume = VOLUME_ISSUE.match(line)
        if volume:
            return parse_year(volume.group("date"))
    for line in lines:
        for pattern in (LONG_CITATION, VOLUME_CITATION):
            match = pattern.match(line)
            if match:
                return parse_year(match.group("year"))
        journal_date = _journal_date(line)
        if journal_date:
            return journal_date[1]
    for line in lines:
        dated = DATED_LINE.search(line)
        if dated:
            return parse_year(dated.group("year"))
    return None


#: Words near a year that say how surely it is the paper's year (publication first, then acceptance, receipt).
YEAR_CONTEXT = (
    (
        re.compile(
            r"\b(?:published|publication|posted|epub|online|issue|year|volume|vol\.|released?|date)\b|"
            r"年|发表|опубліковано|опубликовано|publicado|veröffentlicht|publié",
            re.IGNORECASE,
        ),
        3.0,
    ),
    (re.compile(r"\baccepted\b|aceptado|angenommen", re.IGNORECASE), 1.5),
    (re.compile(r"\b(?:received|submitted|revised)\b|recibido|eingereicht", re.IGNORECASE), 1.0),
    (re.compile(r"©|\bcopyright\b", re.IGNORECASE), 1.0),
)
#: A year standing alone: not part of a page range ("1995–2001"), a longer number or an identifier.
_ANY_YEAR = re.compile(rf"(?<![\d\-–/.:])({_YEAR})(?![\d\-–/]|\.\d)")


def _find_year(lines: list[str], citation_year: int | None) -> int | None:
    """The paper's year by evidence: every year on a short metadata line scores by the words beside it
    (:data:`YEAR_CONTEXT`: published/posted/issue/volume 3, accepted 1.5, received 1, copyright 1, a bare
    year 0.25); a citation line's year adds 3; ties go to the latest year. Lines of running text, long lines
    and years inside page ranges or identifiers do not count."""
    scores: dict[int, float] = {}
    if citation_year:
        scores[citation_year] = 3.0
    for line in lines:
        if len(line) > 300 or is_prose(line) or GENERATED.search(line):
            continue  # an app's "Generated Aug 19, 2025" dates the summary, not the paper
        weight = next((value for pattern, value in YEAR_CONTEXT if pattern.search(line)), 0.25)
        for match in _ANY_YEAR.finditer(line):
            year = parse_year(match.group(1))
            if year:
                scores[year] = scores.get(year, 0.0) + weight
    if not scores:
        return None
    best = max(scores.values())
    return max(year for year, score in scores.items() if score == best)


def _find_doi(lines: list[str], after: Sequence[str] = ()) -> str | None:
    """The paper's DOI: a labelled one before an unlabelled one, never one on a line about a correction or a
    comment when there is another; a "DOI ..." line after the references (Springer's "About this article")
    before an unlabelled one."""
    plain = [line for line in lines if not DOI_ELSEWHERE.search(line[:MAX_RULE_LINE_CHARS])]
    trailing = [line for line in after if DOI_LINE.match(line)]
    for pattern, pool in ((DOI_LABELLED, plain), (DOI_LABELLED, trailing), (DOI_ANY, plain), (DOI_ANY, lines)):
        for line in pool:
            match = pattern.search(line)
            if match:
                doi = normalize_doi(match.group("doi") if pattern is DOI_LABELLED else match.group(0))
                if doi:
                    return doi
    return None


def _find_keywords(page: PageLines) -> list[str]:
    """Keywords from a "Keywords: a; b" line, or from the short lines under a "Keywords" heading."""
    for index in range(page.end):
        line = page.text[index]
        if len(line) > MAX_RULE_LINE_CHARS:
            continue
        match = KEYWORDS_LINE.match(line)
        if match:
            return _split_terms(match.group("terms"))
        if KEYWORDS_HEADING.match(line):
            following: list[str] = []
            for later in page.text[index + 1 : min(index + 30, len(page.text))]:
                if not later:
                    if following:
                        break
                    continue
                if len(later) > 80 or _kind(later) not in ("other", "bullet", "numbered", "section"):
                    break
                if SECTION_LABEL.match(later) and later.lower().startswith("introduction"):
                    break
                following.append(later)
            if len(following) == 1:
                return _split_terms(following[0])
            return [term.strip(" .;,") for term in following if term.strip(" .;,")]
    return []


def _split_terms(terms: str) -> list[str]:
    separator = ";" if ";" in terms else ","
    return [term.strip(" .") for term in terms.split(separator) if term.strip(" .")]


def _find_mesh(page: PageLines) -> list[str]:
    for index in range(len(page.text)):
        if MESH_HEADING.match(page.text[index]):
            terms: list[str] = []
            for line in page.text[index + 1 :]:
                if not line:
                    if terms:
                        break
                    continue
                if FURNITURE.search(line) or ABSTRACT_END.search(line) or len(line) > 120:
                    break
                terms.append(line.strip(" *"))
            return terms
    return []
