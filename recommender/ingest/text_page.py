"""Reading one paper out of a page copied as plain text (journal, PubMed, aggregator or reading-app pages).

A copied page is a column of lines: site banners, buttons, a title, citation and date lines, authors, the
abstract, keywords, then references, journal blurbs, app promotions or machine-generated summaries. No
library parses that, so this module does it with explicit, named rules:

1. every line gets a *kind* (blank, furniture, stop marker, abstract heading, section label, citation,
   author list, prose, other);
2. the abstract is the text after an "Abstract" heading, or else the longest run of prose, joined across
   paragraphs and structured-abstract labels (BACKGROUND:/METHODS:/...), ended by the first stop marker;
3. title, journal, year, DOI, PMID, authors and keywords come from the lines around it by pattern.

Everything after a reference list or a journal blurb is ignored, and the block after a "Generated <date>"
marker (an app's generated summary) is furniture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..paper import clean_text, normalize_doi, normalize_pmid
from .fields import latin_ratio, parse_year

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_YEAR = r"(?:1[89]|20)\d{2}"
_DATE = (
    rf"(?:{_YEAR}(?:\s+{_MONTH})?(?:\s+\d{{1,2}})?"
    rf"|(?:\d{{1,2}}\s+)?{_MONTH}\s+(?:\d{{1,2}},?\s+)?{_YEAR})"
)


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns), re.IGNORECASE)


# Lines that are never content: banners, buttons, app and cookie notices, badges.
FURNITURE = _rx(
    r"^(?:add|remove)\s+(?:like|dislike|to\b.*)$",
    r"^(?:skip|jump)\s+to\b",
    r"official website of the united states government",
    r"^the \.gov means",
    r"federal government websites",
    r"^dot gov$",
    r"^https?$",
    r"^u\.?s\.? flag$",
    r"the site is secure",
    r"https:// ensures",
    r"^access keys\b",
    r"ncbi homepage",
    r"^main (?:content|navigation)$",
    r"^(?:share|cite|save|email|print|download(?: pdf| article| citation)?|view pdf|pdf|full text|get access|"
    r"sign in|log ?in|register|subscribe|menu|search|home|back|next|previous|more|less|show (?:more|less)|"
    r"expand|collapse|open|close|permalink|copy(?: link)?|export|send to|display options|actions|follow|"
    r"go to|view|read more|see more|toggle|translate|listen|bookmark|alert|alerts|request permissions|"
    r"article|research article|original article|review|review article|open access|free article|"
    r"free pmc article|letter|editorial|abstract only|check for updates|metrics|details|tools)\W*$",
    r"\bcookies?\b",
    r"privacy (?:policy|choices|settings)",
    r"terms (?:of use|and conditions|of service)",
    r"all rights reserved",
    r"copyright\s*(?:©|\(c\)|\d{4})",
    r"^©",
    r"mobile app",
    r"^for the best experience",
    r"get seemless",
    r"get seamless",
    r"claim (?:free )?cme",
    r"institutional (?:access|subscription)",
    r"^we have located links",
    r"^can.t access",
    r"^mobile app image",
    r"toggle icon",
    r"^comments?\s*\(\d+\)$",
    r"^\d+\s+comments?$",
    r"this website also contains material",
    r"^by using this service",
    r"^(?:affiliations?|author information|authors? and affiliations|author details)\W*$",
    r"^impact factor",
    r"periodicalif",
    r"^\d+(?:\.\d+)?k?\s*(?:citations?|reads|views|downloads|readers)$",
    r"^(?:pubmed|pmc|google scholar|crossref|europe pmc|semantic scholar|scopus|web of science)\W*$",
    r"^get rights and content$",
    r"^under a creative commons licen[cs]e",
    r"^journal home ?page for\b",
    r"^add to (?:mendeley|zotero|library)",
    r"^download(?:: | full issue| high-res)",
    r"^share this article$",
    r"^citations? (?:&|and) impact$",
    r"^free full text$",
    r"^(?:sign in|log in)\b.{0,40}account",
    r"^search life-sciences literature",
    r"^here'?s how you know$",
    r"^view (?:pdf|article|full text)\b",
    r"^(?:expand|collapse) all$",
    r"^this article has not been cited",
    r"^(?:figures?|tables?|similar articles|cited by|linkout|substances|publication types|grant support|"
    r"full text links|related resources|related information|pubmed disclaimer|supplementary (?:info|information|"
    r"materials?)|associated data|conflict of interest statement|data availability)\W*$",
)
# Lines after which the abstract cannot continue (metadata may still follow).
ABSTRACT_END = _rx(
    r"^(?:key ?words?|keywords|index terms|mesh terms|mesh)\b\s*[:：]?",
    r"^(?:pubmed disclaimer|full text links|comments?\s*\(\d+\)|conflict of interest|competing interests?|"
    r"figures?|tables?|mesh terms|substances|grant support|funding|acknowledg(?:e)?ments?|"
    r"author contributions?|declarations?|ethics|abbreviations|supplementary|copyright|related resources|"
    r"graphical abstract|highlights|cited by|similar articles|publication types)\b",
    r"^(?:1\.?\s*)?introduction\W*$",
)
# Lines after which nothing belongs to the paper any more (reference lists, journal blurbs).
DOCUMENT_END = _rx(
    r"^(?:references?|bibliography|literature cited|works cited|similar articles|cited by|related articles|"
    r"recommended articles|citing articles|more like this)\s*[:：]?$",
    r"^期刊介绍",
    r"^(?:about (?:the|this) journal|journal (?:introduction|description|overview|information))\W*$",
)
# A marker after which the next block is machine-generated text about the paper, not the paper.
GENERATED = _rx(
    rf"^generated\b.{{0,40}}{_YEAR}$",
    r"^(?:ai[- ]generated|summary generated|generated summary|tl;?dr)\b",
    r"^(?:key (?:points|findings|takeaways)|plain language summary|ai summary|in brief)\W*$",
)
ABSTRACT_HEADING = re.compile(r"^(?:abstract|summary|a b s t r a c t)\s*[:.]?$", re.IGNORECASE)
ABSTRACT_INLINE = re.compile(r"^abstract(?:\s*[:.\-–—]\s*|(?=[A-Z]))(?P<rest>.{40,})$")
SECTION_LABEL = re.compile(
    r"^(?P<label>(?:background|introduction|objectives?|aims?(?: and scope)?|purpose|context|importance|"
    r"rationale|hypothesis|methods?|methodology|materials and methods|design|setting|participants|patients|"
    r"interventions?|measurements|main outcome measures?|outcomes?|results?|findings|conclusions?|"
    r"interpretation|significance|implications|limitations|trial registration|registration|evidence|"
    r"study selection|data sources|data extraction|data synthesis|case presentation|case report|discussion|"
    r"summary|problem|approach|observations?|key results|what is known|what is new)"
    r"(?:\s+(?:and|&)\s+[a-z]+)?)\s*(?:[:.]\s*(?P<rest>.*)|$)",
    re.IGNORECASE,
)
SHORT_CITATION = re.compile(
    rf"^(?P<author>[^.;:]{{2,80}}?)\s+et\s+al\.?,?\s+(?P<journal>[^\d]{{2,120}}?)\.\s+(?P<year>{_YEAR})\b"
)
LONG_CITATION = re.compile(
    rf"^(?P<journal>[^\d;]{{0,120}}?)\.?\s*(?P<year>{_YEAR})(?:\s+{_MONTH})?(?:\s+\d{{1,2}})?;\s*\d",
    re.IGNORECASE,
)
# Possessive runs (``\d++``, ``[^\s,]++``): a run of digits or of an issue number is never split in two, which
# made each split retry the scan for the year (quadratic on a long line). "(" before the year is optional and
# the lazy scan would take it anyway, so it is not matched.
VOLUME_CITATION = re.compile(
    rf"^(?P<journal>[A-Z][^\d]{{1,120}}?)[,.]?\s++vol(?:ume)?\.?\s*+\d++.*?(?P<year>{_YEAR})", re.IGNORECASE
)
VOLUME_ISSUE = re.compile(
    rf"^vol(?:ume)?\.?\s*+\d++\s*+,\s*+(?:issue|no\.?)\s*+[^\s,]++\s*+,\s*+(?P<date>.*?{_YEAR})", re.IGNORECASE
)
JOURNAL_COMMA_DATE = re.compile(rf"^(?P<journal>[A-Z][^,\d]{{2,100}}),\s+(?P<date>{_DATE})\s*,\s*\d", re.IGNORECASE)
JOURNAL_DATE = re.compile(rf"^(?P<journal>[A-Z][^\d:;()]{{1,120}}?)[,.]?\s+(?P<date>{_DATE})\.?$", re.IGNORECASE)
DATE_WORDS = re.compile(
    r"^(?:generated|published|received|accepted|revised|epub|updated|posted|online|copyright|available|"
    r"first published|issue date|date|submitted|printed|version|last modified|created|cited)\b",
    re.IGNORECASE,
)
DATED_LINE = re.compile(
    rf"\b(?:published|epub|online|issue date|publication date|date)\b\D{{0,30}}?(?P<year>{_YEAR})", re.IGNORECASE
)
DOI_LABELLED = re.compile(r"(?:\bdoi\s*:?\s*|doi\.org/)(?P<doi>10\.\d{4,9}/\S+)", re.IGNORECASE)
DOI_ANY = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+")
PMID_LINE = re.compile(r"\bPMID\s*:?\s*(?P<pmid>\d{1,9})\b")
KEYWORDS_LINE = re.compile(r"^(?:key ?words?|keywords|index terms)\s*[:：]\s*(?P<terms>.+)$", re.IGNORECASE)
KEYWORDS_HEADING = re.compile(r"^(?:key ?words?|keywords|index terms)\s*[:：]?$", re.IGNORECASE)
MESH_HEADING = re.compile(r"^mesh terms\s*[:：]?$", re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
_ET_AL = re.compile(r"[,;]?\s*(?:et al\.?|and others|…|\.\.\.)\s*$", re.IGNORECASE)  # searched in the tail only
_ET_AL_TAIL = 64
_AUTHOR_PREFIX = re.compile(r"^(?:author links open overlay panel\s*|authors?\s*[:：]?\s+|by\s+)", re.IGNORECASE)
BULLET = re.compile(r"^[•·▪◦*–-]\s")
NUMBERED = re.compile(r"^\(?\d{1,3}[.)]?\s+[A-Z]")
_NAME_PARTICLES = {"van", "von", "de", "der", "den", "da", "di", "du", "del", "della", "dos", "das", "le", "la",
                   "bin", "binti", "al", "el", "ter", "ten", "y", "e", "mac", "st"}  # fmt: skip
_NAME_TOKEN = re.compile(r"^(?:[^\W\d_][\w'’.\-]*+|[A-Z]\.?)$")
# Footnote numbers after a name ("Ruiz 1 2," → "Ruiz,"). Possessive: ``(?:\s*\d+)+`` could split a run of digits
# in exponentially many ways before failing (a name and 29 numbers took 45 s).
_AUTHOR_NUMBERS = re.compile(r"(?<=[^\W\d_])(?:\s*+\d++)++(?=\s*+(?:[,;]|$)|\s++(?:and|&)\s)")
_AUTHOR_SPLIT = re.compile(r"\s*+[,;]\s*+|\s++(?:and|&)\s++")
_FOOTNOTE_MARKS = frozenset("*†‡§¶#")
#: Longest line the title, author, citation and keyword rules look at: longer lines are prose (or an attack),
#: and keeping the rules to bounded lines bounds their cost whatever the patterns. The abstract is not capped.
MAX_RULE_LINE_CHARS = 2000


@dataclass
class PageFields:
    """What the text of one page yields; ``None``/empty where the page does not say."""

    title: str | None = None
    abstract: str | None = None
    doi: str | None = None
    pmid: str | None = None
    journal: str | None = None
    year: int | None = None
    authors: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value not in (None, [], "")}


def split_lines(text: str) -> list[str]:
    return [clean_text(line.replace("\u00a0", " ")) for line in text.replace("\r\n", "\n").split("\n")]


def sentence_count(line: str) -> int:
    return len(SENTENCE_END.findall(re.sub(r"\bet al\.", "et al", line)))


def is_prose(line: str) -> bool:
    """Running text: long, or several sentences. Titles are one sentence; buttons are a few words."""
    if len(line) >= 250:
        return True
    return len(line) >= 80 and sentence_count(line) >= 2 and len(line.split()) >= 12


def is_title_like(line: str) -> bool:
    words = line.split()
    if not 3 <= len(words) <= 60 or len(line) > 400 or line.endswith(":"):
        return False
    if sentence_count(line.rstrip(".?! ")) > 1 or line[0] in "{[<(":
        return False
    return any(ch.isalpha() for ch in line)


def parse_author_line(line: str) -> list[str] | None:
    """Authors from a line such as ``S M Abdus Salam, Eshrat Jahan`` or ``Wang, Liming, Liu, Mei et al.``.

    Returns ``None`` when the line is not a list of names. A list of single words in pairs is read as
    ``Last, First`` and turned around.
    """
    if len(line) > MAX_RULE_LINE_CHARS:
        return None
    text = _AUTHOR_PREFIX.sub("", line.strip())
    head, tail = text[:-_ET_AL_TAIL], text[-_ET_AL_TAIL:]  # the pattern is anchored at the end: search the tail
    had_et_al = bool(_ET_AL.search(tail))
    text = (head + _ET_AL.sub("", tail)).strip(" ,;")
    if not text:
        return None
    text = _AUTHOR_NUMBERS.sub("", text)  # "Ruiz 1 2" → "Ruiz"
    parts = [_strip_footnote_marks(part).strip() for part in _AUTHOR_SPLIT.split(text)]
    parts = [part for part in parts if part]
    if len(parts) < 2 and not had_et_al:
        return None
    if not all(_is_name(part) for part in parts):
        return None
    if len(parts) >= 2 and len(parts) % 2 == 0 and all(" " not in part for part in parts):
        return [f"{parts[i + 1]} {parts[i]}" for i in range(0, len(parts), 2)]
    if all(" " not in part for part in parts) and not had_et_al:
        return None
    return parts


def _strip_footnote_marks(part: str) -> str:
    """``part`` without trailing digits, footnote marks and spaces (a loop: ``[0-9*†\\s]+$`` searched from every
    position is quadratic in a long run of them)."""
    end = len(part)
    while end and (part[end - 1].isdecimal() or part[end - 1].isspace() or part[end - 1] in _FOOTNOTE_MARKS):
        end -= 1
    return part[:end]


def _is_name(part: str) -> bool:
    tokens = part.split()
    if not 1 <= len(tokens) <= 6:
        return False
    for token in tokens:
        if token.lower() in _NAME_PARTICLES:
            continue
        if not _NAME_TOKEN.match(token) or not token[0].isupper():
            return False
    return True


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
            if kind == "document_end" and seen_prose:
                end = index
                break
        return cls(lines, kinds, end)


def _kind(line: str) -> str:
    if not line:
        return "blank"
    if DOCUMENT_END.search(line):
        return "document_end"
    if GENERATED.search(line):
        return "generated"
    if ABSTRACT_HEADING.match(line):
        return "abstract_heading"
    if ABSTRACT_INLINE.match(line):
        return "abstract_inline"
    if ABSTRACT_END.search(line):
        return "abstract_end"
    if FURNITURE.search(line):
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
        elif kind == "prose" or (pending_label and kind == "other"):
            parts.append(f"{pending_label}: {line}" if pending_label else line)
            pending_label = None
            used.append(index)
        else:
            break
        index += 1
    return " ".join(parts).strip(), used


def find_abstract(page: PageLines) -> tuple[str | None, list[int]]:
    """The abstract after an "Abstract" heading if there is one, else the longest run of prose."""
    for index in range(page.end):
        kind = page.kind[index]
        if kind == "abstract_inline":
            match = ABSTRACT_INLINE.match(page.text[index])
            assert match is not None
            text, used = _collect_abstract(page, index + 1, first=match.group("rest").strip())
            return text, [index, *used]
        if kind == "abstract_heading":
            text, used = _collect_abstract(page, index + 1)
            if len(text) >= 100:
                return text, [index, *used]
    best: tuple[str, list[int]] = ("", [])
    index = 0
    while index < page.end:
        if page.kind[index] in ("prose", "section"):
            text, used = _collect_abstract(page, index)
            if len(text) > len(best[0]):
                best = (text, used)
            index = (used[-1] if used else index) + 1
        else:
            index += 1
    return (best[0] or None), best[1]


def _find_title(page: PageLines, abstract_lines: list[int]) -> str | None:
    """A title-like line repeated on the page, else the nearest title-like line above the abstract."""
    counts: dict[str, int] = {}
    for index in range(page.end):
        if page.kind[index] == "other" and is_title_like(page.text[index]):
            counts[page.text[index]] = counts.get(page.text[index], 0) + 1
    repeated = [line for line, count in counts.items() if count >= 2 and parse_author_line(line) is None]
    english = [line for line in repeated if latin_ratio(line) >= 0.8]
    if english or repeated:
        return (english or repeated)[0]
    if not abstract_lines:
        return None
    fallback: str | None = None
    for index in range(abstract_lines[0] - 1, -1, -1):
        line, kind = page.text[index], page.kind[index]
        if kind != "other" or _is_metadata_line(line) or not is_title_like(line):
            continue
        if latin_ratio(line) >= 0.8:
            return line
        fallback = fallback or line
    return fallback


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


def _citation_fields(lines: list[str]) -> dict[str, Any]:
    """Journal, year and first author from citation and date lines, in order of reliability."""
    found: dict[str, Any] = {}
    lines = [line for line in lines if len(line) <= MAX_RULE_LINE_CHARS]
    for line in lines:
        short = SHORT_CITATION.match(line)
        if short:
            found.setdefault("first_author", short.group("author").strip())
            found.setdefault("journal", short.group("journal").strip(" ."))
            found.setdefault("year", parse_year(short.group("year")))
    for previous, line in zip(["", *lines], lines, strict=False):
        comma_date = JOURNAL_COMMA_DATE.match(line)
        if comma_date:
            found.setdefault("journal", comma_date.group("journal").strip())
            found.setdefault("year", parse_year(comma_date.group("date")))
        volume = VOLUME_ISSUE.match(line)
        if volume:
            if _looks_like_journal(previous):
                found.setdefault("journal", previous)
            found.setdefault("year", parse_year(volume.group("date")))
    for line in lines:
        for pattern in (LONG_CITATION, VOLUME_CITATION):
            match = pattern.match(line)
            if match:
                journal = match.group("journal").strip(" .,")
                if journal and not DATE_WORDS.match(journal):
                    found.setdefault("journal", journal)
                found.setdefault("year", parse_year(match.group("year")))
        journal_date = _journal_date(line)
        if journal_date:
            found.setdefault("journal", journal_date[0])
            found.setdefault("year", journal_date[1])
    for line in lines:
        dated = DATED_LINE.search(line)
        if dated:
            found.setdefault("year", parse_year(dated.group("year")))
    return {key: value for key, value in found.items() if value}


def _looks_like_journal(line: str) -> bool:
    """A short title-cased name with no sentence in it ("Cell Reports", "J Clin Invest")."""
    words = line.split()
    if len(line) > MAX_RULE_LINE_CHARS or not 1 <= len(words) <= 10 or SENTENCE_END.search(line):
        return False
    if not line[:1].isupper():
        return False
    return not _is_metadata_line(line)


def _find_doi(lines: list[str]) -> str | None:
    for pattern in (DOI_LABELLED, DOI_ANY):
        for line in lines:
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


def _find_authors(page: PageLines, skip: set[int]) -> list[str]:
    for index in range(page.end):
        if index in skip or page.kind[index] not in ("other", "prose"):
            continue
        names = parse_author_line(page.text[index])
        if names:
            return names
    return []


def parse_text_page(raw: str) -> PageFields:
    """Read title, abstract, identifiers and bibliographic fields from one page of plain text."""
    page = PageLines.classify(raw)
    abstract, abstract_lines = find_abstract(page)
    skip = set(abstract_lines)
    body = [page.text[i] for i in range(page.end) if i not in skip and page.kind[i] not in ("furniture", "blank")]
    fields = PageFields(abstract=abstract)
    fields.title = _find_title(page, abstract_lines)
    citation = _citation_fields(body)
    fields.journal = citation.get("journal")
    fields.year = citation.get("year")
    fields.doi = _find_doi(body)
    pmid = next((m.group("pmid") for m in map(PMID_LINE.search, body) if m), None)
    fields.pmid = normalize_pmid(pmid)
    fields.authors = _find_authors(page, skip)
    if not fields.authors and citation.get("first_author"):
        fields.authors = [citation["first_author"]]
    fields.keywords = _find_keywords(page)
    fields.mesh_terms = _find_mesh(page)
    return fields
