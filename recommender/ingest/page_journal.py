"""The journal of a copied page, chosen among candidates by evidence.

Like the title, the journal and the authors are chosen among candidates that each carry evidence, not read
from a fixed position: a page names its journal in a masthead, a breadcrumb, a labelled field, citation
lines and notices, and names its authors in a list beside the title, in a labelled field and in its own
citation (:mod:`.page_authors`). Candidates without enough evidence give no answer: an empty field is better
than a menu item.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .page_lines import PageLines, _next_line
from .page_patterns import (
    _INSTITUTION_WORD,
    _MONTH,
    _MONTH_WORD,
    _STRONG_JOURNAL_WORD,
    _YEAR,
    BIBTEX_FIELD,
    BULLET,
    DATE_WORDS,
    DOI_ANY,
    FURNITURE,
    MAX_RULE_LINE_CHARS,
    SHORT_CITATION,
)
from .page_title import TITLE_FURNITURE, TITLE_WINDOW, _around_title, _title_lines
from .person_names import _line_names, parse_person_list

#: Least evidence for a journal: one labelled value, one citation line, or two weaker signs together.
JOURNAL_MIN_SCORE = 1.5
MAX_JOURNAL_CANDIDATES = 300
#: Where a journal name ends inside a citation or a labelled value: a separator, a comma or colon, a
#: possessive, a sentence, a number, a volume/issue/page word or a date.
_JOURNAL_CUT = re.compile(
    r"[;|·•»\[\](){}]|,\s|:\s|\s[-–—/]\s|['’]s?\s|\.\s+(?=[A-Z][a-z]+\s+[a-z])|\s(?=\d)"
    r"|\s(?i:vol(?:ume)?|no|issue|n[º°o]|núm(?:ero)?|tập|том|т|band|bd|heft|pages?|pp?|e-?issn|issn|isbn|doi|"
    r"https?|print|online)\b"
    rf"|\s(?i:{_MONTH})\s+\d"
)
_LEADING_NUMBER = re.compile(r"^(?:\d{1,4}\s*+[,.;:]\s*+)+")
#: What follows a journal name in a citation: the year and volume ("2021;12(3):45", "2023, 24(3), 1187",
#: "Aug 15, 2023; 15(8)"), a volume ("volume 26", "vol.38", "26, 811–824", "12:947120", "16(6): e0252",
#: "9 (2021)"), or only a full date ("Front. Oncol., 26 November 2020", "Oncotarget 2017 September 30"); a
#: medium mark ("[Internet]") may come first.
CITATION_TAIL = re.compile(
    r"^\.?,?\s*+(?:\[[^\]]{1,20}\]\.?\s*+)?(?:"
    rf"(?:\d{{1,2}}\s+)?(?:{_MONTH}\s+(?:\d{{1,2}},?\s+)?)?{_YEAR}(?:\s+{_MONTH})?(?:\s+\d{{1,2}})?\s*[;,:]\s*\d"
    r"|vol(?:ume)?\.?\s*\d"
    r"|\d{1,4}\s*(?:\(\s*[\w\-–]{1,12}\s*\))?\s*[:,]\s*e?\d"
    rf"|\d{{1,4}}\s*\(\s*{_YEAR}\s*\)"
    rf")|^[.,]?\s*+(?:(?:\d{{1,2}}\s+)?{_MONTH}\s+(?:\d{{1,2}},?\s+)?{_YEAR}|{_YEAR}\s+{_MONTH}(?:\s+\d{{1,2}})?)\.?$",
    re.IGNORECASE,
)
#: Interface labels, in several languages, whose value (on the line or the next one) names the journal.
JOURNAL_LABEL = re.compile(
    r"^(?:journal(?: title| name)?|source(?: title)?|published in(?: final edited form as)?|revista|periódico|"
    r"zeitschrift|revue|rivista|tijdschrift|czasopismo|видання|журнал|издание|источник|tạp chí|来源|期刊|刊名|"
    r"出处|citation_journal_title|container-title|jtitle)\s*+(?:[:：]\s*+(?P<value>.+))?$",
    re.IGNORECASE,
)
#: "... published in Oncology Reports, March 2023" in a notice or a press release.
PUBLISHED_IN = re.compile(r"\bpublished in (?:the )?(?:journal )?(?P<value>[A-Z].{2,200})")
#: An OJS issue line: "Vol. 6 No. 01 (2023): Imaginary Medical College Journal".
OJS_ISSUE = re.compile(
    rf"\bvol\.?\s*+\d{{1,4}}\s*+(?:no\.?\s*+\d{{1,4}}\s*+)?\(\s*+{_YEAR}\s*+\)\s*+:\s*+(?P<value>[^/|]{{3,150}})",
    re.IGNORECASE,
)
#: A line that starts with a volume or issue ("Volume 14", "v.29; Jan-Dec 2022", "2022, Número 3").
VOLUME_LINE = re.compile(
    rf"^(?:{_YEAR}\s*+[,.]\s*+)?(?:vol(?:ume)?|v|no|n[º°o]|núm(?:ero)?|número|issue|tập|том|т|band|bd|heft|"
    r"jahrgang|year|año|ano)\.?\s*+:?\s*+\d",
    re.IGNORECASE,
)
ISSN_MENTION = re.compile(r"\b(?:[ep]-?)?(?:ISSN|ISBN)\b", re.IGNORECASE)
#: A breadcrumb or title bar separator ("Journal of Oncology / 2019 / Article", "A | B | C", "A » B").
SEGMENT_SPLIT = re.compile(r"\s*+[|·•»]\s*+|\s++/\s++|\s++[-–—]\s++")
#: A menu entry after which a journal's name is listed ("Journal List", "All Journals").
JOURNAL_INDEX = re.compile(r"^(?:journals?|all journals|journal list|browse journals|our journals)$", re.IGNORECASE)
#: PMC's logo line: "Journal of X logoLink to Journal of X".
LOGO_LINK = re.compile(r"\blogo ?link to (?P<value>.+)$", re.IGNORECASE)
#: Preprint servers, spelled as they spell themselves.
PREPRINT_SERVER = re.compile(
    r"\b(bioRxiv|medRxiv|arXiv|ChemRxiv|PsyArXiv|SocArXiv|TechRxiv|Research Square|SSRN|Preprints\.org)\b"
)
_JOURNAL_WORD = re.compile(
    r"\b(?:journal|revista|revue|rivista|zeitschrift|tijdschrift|czasopismo|annals?|annales|anales|archives?|"
    r"reports?|letters?|bulletin|proceedings|acta|transactions|reviews?|research|medicine|oncology|cancers?|"
    r"science|sciences|biology|therapy|журнал|вестник|вісник)\b",
    re.IGNORECASE,
)
_SMALL_WORDS = frozenset(
    "of in and the for on at to a an de da do dos das la le les el los las y e et des du di del della der die das "
    "und für & van von".split()
)
#: Words of a site's interface: a "journal" made only of these is a menu entry.
_INTERFACE_WORDS = frozenset(
    "journal journals home archive archives about current issue issues article articles original research review "
    "reviews open access full text abstract information info list browse search submit submission login log sign "
    "register menu view download pdf citation citations cite tools metrics share export references figures tables "
    "data more options editorial board authors author services help contact alerts subscribe subscriptions latest "
    "content back next previous topics topic sections section special collections volume vol number page pages "
    "letter editor case commentary news blog publish policies guidelines permissions reprints advertising explore "
    "this history type publication publications publisher details general keywords categories comments replies "
    "similar papers paper related recommended summary summaries featured press release releases multimedia meetings "
    "trusted source peer-reviewed reviewed edited mini translate language online first print version versions "
    "article-type reader readers get published my account all advanced by with website site our your preview "
    "improvements coming learn try it out now services initiatives proceedings series proposal find active "
    "cover story notes indicators links related services personalised personalized servicios revistas inicio "
    "búsqueda directorio contacto english español índice home page articulo artículo artigo revista periódico "
    "compartir indicadores servicios personalizados links relacionados citado buscar información visitas "
    "zitationen themen jahr autoren volltext".split()
)
#: A date label glued to its date ("Received04 Feb 2019").
_DATE_PREFIX = re.compile(r"^(?:received|accepted|revised|published|posted|epub|updated)(?=\d)", re.IGNORECASE)


@dataclass
class _Candidates:
    """Evidence gathered per candidate, under a key that spells a name alike however the page writes it."""

    score: dict[str, float] = field(default_factory=dict)
    forms: dict[str, dict[str, float]] = field(default_factory=dict)
    first: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, weight: float, index: int) -> None:
        key = _journal_key(name)
        if not key or (key not in self.score and len(self.score) >= MAX_JOURNAL_CANDIDATES):
            return
        self.score[key] = self.score.get(key, 0.0) + weight
        forms = self.forms.setdefault(key, {})
        forms[name] = forms.get(name, 0.0) + weight
        self.first[key] = min(self.first.get(key, index), index)


def _journal_key(name: str) -> str:
    """A name in lower case without punctuation or a leading article ("Der Onkologe" = "Onkologe")."""
    words = re.sub(r"[^\w&]+", " ", name.lower()).split()
    if len(words) > 1 and words[0] in ("the", "der", "die", "das", "la", "le", "el", "il", "les", "los", "las"):
        words = words[1:]
    return " ".join(words)


def journal_name(text: str, *, strict: bool = True) -> str | None:
    """``text`` as a journal's name, or ``None`` when it cannot be one: a date, a menu entry, a URL, a sentence,
    a person. ``strict`` (for names read off unlabelled lines) also wants title case ("Cell Reports")."""
    name = " ".join(text.split()).strip(" .,:;-–—'\"«»“”$*")
    if not 2 <= len(name) <= 150 or "@" in name or "http" in name.lower() or "www." in name.lower():
        return None
    words = name.split()
    if not 1 <= len(words) <= (10 if strict else 15):
        return None
    letters = sum(ch.isalpha() for ch in name)
    if letters < 2 or sum(ch.isdigit() for ch in name) * 3 > letters:
        return None
    lowered = [word.lower().strip(".,:;()'\"") for word in words]
    content = [word for word in lowered if word not in _SMALL_WORDS and any(ch.isalpha() for ch in word)]
    if not content or all(word in _INTERFACE_WORDS or _MONTH_WORD.match(word) for word in content):
        return None
    if DATE_WORDS.match(name) or _DATE_PREFIX.match(name) or FURNITURE.search(name) or TITLE_FURNITURE.search(name):
        return None
    if _INSTITUTION_WORD.search(name) and not _STRONG_JOURNAL_WORD.search(name):
        return None
    if strict:
        for word, low in zip(words, lowered, strict=True):
            if low not in _SMALL_WORDS and word[:1].isalpha() and not any(ch.isupper() for ch in word):
                return None  # "Overview of attention for article": a sentence, not a name
    return name


def journal_head(text: str) -> tuple[str, str]:
    """The name at the start of a citation or a labelled value ("Front. Oncol. 12:947120" → "Front. Oncol.",
    "2023, Annals of X, № 7" → "Annals of X"), and what follows it."""
    text = _LEADING_NUMBER.sub("", text[:300].lstrip(" .,:;|"))
    cut = _JOURNAL_CUT.search(text)
    end = cut.start() if cut else len(text)
    return text[:end].strip(" ,:;-–—'\"«»“”"), text[end:]


def citation_journal(text: str) -> str | None:
    """The journal of a citation that starts with it ("J Name. 2021;12(3):45–67", "J Name 2020, 5, 123",
    "Name volume 26, pages 1–9"), or ``None`` when no year or volume follows the name."""
    head, rest = journal_head(text)
    if not head or not CITATION_TAIL.match(rest):
        return None
    return journal_name(head)


def abbreviates(short: str, full: str) -> bool:
    """Whether ``short`` is an abbreviation of ``full`` ("Nat Cell Biol" of "Nature Cell Biology", "Front.
    Oncol" of "Frontiers in Oncology"): each word a prefix of the next word of ``full`` that is not "of", "in",
    "and"..., at least one of them shortened."""
    small = [word for word in re.split(r"[\s.]+", short.lower()) if word]
    large = [word for word in re.split(r"[\s.,:]+", full.lower()) if word and word not in _SMALL_WORDS]
    if not small or len(small) != len(large) or len(full) <= len(short):
        return False
    return all(b.startswith(a) for a, b in zip(small, large, strict=True)) and any(
        len(a) < len(b) for a, b in zip(small, large, strict=True)
    )


def find_journal(page: PageLines, title: str | None, abstract_lines: list[int], doi: str | None) -> str | None:
    """The journal by evidence (:func:`journal_evidence`); the most used spelling of the best-supported name,
    spelt out in full when the page shows the full name on a line or breadcrumb of its own ("Front. Oncol" →
    "Frontiers in Oncology"); ``None`` below :data:`JOURNAL_MIN_SCORE`."""
    found = journal_evidence(page, title, abstract_lines, doi)
    if not found.score:
        return None
    _merge_abbreviations(found)
    best = max(found.score, key=lambda key: (found.score[key], -found.first[key]))
    if found.score[best] < JOURNAL_MIN_SCORE:
        return None
    forms = found.forms[best]
    name = max(forms, key=lambda form: (forms[form], len(form)))
    return _spelt_out(page, name) or name


def _merge_abbreviations(found: _Candidates, limit: int = 50) -> None:
    """An abbreviation's evidence counts for the full name it abbreviates ("Nat Cell Biol" for "Nature Cell
    Biology"), among the ``limit`` best-supported names."""
    keys = sorted(found.score, key=found.score.__getitem__, reverse=True)[:limit]
    for key in keys:
        if key not in found.score:
            continue
        short = max(found.forms[key], key=found.forms[key].__getitem__)
        for other in keys:
            if other != key and other in found.score and any(abbreviates(short, form) for form in found.forms[other]):
                found.score[other] += found.score.pop(key)
                for form, weight in found.forms.pop(key).items():
                    found.forms[other][form] = found.forms[other].get(form, 0.0) + weight
                found.first[other] = min(found.first[other], found.first.pop(key))
                break


def _spelt_out(page: PageLines, name: str) -> str | None:
    """The full form of an abbreviated journal name, when a line or a segment of one shows it."""
    for index in range(min(page.end, TITLE_WINDOW)):
        line = page.text[index]
        if not line or len(line) > 400:
            continue
        for segment in [line, *SEGMENT_SPLIT.split(line)]:
            full = journal_name(segment, strict=False)
            if full and abbreviates(name, full):
                return full
    return None


def journal_evidence(page: PageLines, title: str | None, abstract_lines: list[int], doi: str | None) -> _Candidates:
    """Journal candidates, each with the evidence for it:

    - the text after the title in the paper's own citation line ("Authors. Title. Journal. 2021;3:4"): 3;
    - a labelled value ("Journal:", "Source:", "Published in", "Revista", "Видання:", "来源", a BibTeX
      ``journal=``): 3;
    - a citation line or segment that starts with the name ("J Name. 2021;12(3):45", "Name volume 26"),
      PubMed's name line above ". 2021 Nov;19(11)" or its "Smith A et al. J Name. 2021 Nov.": 2;
    - the line (or text) just before an ISSN: 2;
    - a breadcrumb segment followed by a year or volume, an OJS issue line, "published in Name": 1.5;
    - a short title-cased line followed by a volume line (1.5, or 0.5 within three lines), under a "Journals"
      menu entry (1), repeated inside another line of the page (1), with a journal word in it (0.5, only with
      1 or more of other evidence);
    - a preprint server named on the page (1 a line, 2 at most; 1 more when the page says "preprint").

    Evidence far below the abstract counts half (reference lists, similar articles: :func:`_far_below_abstract`);
    lines that carry another DOI than the paper's (a published version, a correction) do not count."""
    found = _Candidates()
    window = min(page.end, TITLE_WINDOW)
    title_lines = _title_lines(page, title)
    own_doi = (doi or "").lower()
    far = _far_below_abstract(page, abstract_lines, title_lines, window)

    def usable(index: int) -> bool:
        if index < 0:
            return False
        line = page.text[index]
        if not line or len(line) > MAX_RULE_LINE_CHARS or page.kind[index] in ("furniture", "generated", "json"):
            return False
        other_doi = DOI_ANY.search(line)
        return not (other_doi and own_doi and own_doi not in line.lower())

    def add(text: str | None, weight: float, index: int, *, strict: bool = True) -> None:
        name = journal_name(text, strict=strict) if text else None
        if name and (not title or _journal_key(name) != _journal_key(title)):
            found.add(name, weight / 2 if index in far else weight, index)

    for index in title_lines:
        _, after = _around_title(page.text[index], title or "")
        after = _without_leading_names(after)
        head, rest = journal_head(re.sub(r"^\W*in:\s*", "", after, flags=re.IGNORECASE))
        if head and CITATION_TAIL.match(rest):
            name = journal_name(head)
            if name:
                found.add(name, 3.0, index)
    previous = -1  # the last non-blank line
    for index in range(window):
        if not usable(index):
            previous = index if page.text[index] else previous
            continue
        line = page.text[index]
        label = JOURNAL_LABEL.match(line)
        if label:
            value = label.group("value") or _next_line(page, index, window)
            if value:
                add(journal_head(value)[0], 3.0, index, strict=False)
        short = SHORT_CITATION.match(line)  # PubMed's "Ann Smith et al. Clin Test Oncol. 2023 Mar."
        if short:
            add(short.group("journal"), 2.0, index)
        for match in BIBTEX_FIELD.finditer(line[:MAX_RULE_LINE_CHARS]):
            if match.group("key").lower() == "journal":
                add(match.group("value"), 3.0, index, strict=False)
        if line[:1] in ".,;" and usable(previous) and CITATION_TAIL.match(line):  # PubMed: "Name" / ". 2021 Nov;"
            above = page.text[previous]
            logo = LOGO_LINK.search(above)  # PMC: "Name logoLink to Name" / ". 2023 Feb 14;11(2)"
            add(logo.group("value") if logo else above, 2.0, previous)
        segments = SEGMENT_SPLIT.split(line) if len(line) <= 400 else [line]
        for position, segment in enumerate(segments):
            add(citation_journal(segment), 2.0, index)
            following = segments[position + 1] if position + 1 < len(segments) else ""
            if len(segments) > 1 and (re.match(rf"^{_YEAR}\b", following) or VOLUME_LINE.match(following)):
                add(segment, 1.5, index)
        issn = ISSN_MENTION.search(line)
        if issn and not DOI_ANY.search(line):
            named = journal_name(journal_head(line[: issn.start()])[0])
            if named:  # "World Journal of Oncology, ISSN 1920-4531"
                add(named, 2.0, index)
            elif usable(previous) and index - previous <= 2:  # the name on the line above "Print version ISSN ..."
                add(page.text[previous], 2.0, previous)
        for pattern in (PUBLISHED_IN, OJS_ISSUE):
            published = pattern.search(line[:600])
            if published:
                add(journal_head(published.group("value"))[0], 1.5, index)
        previous = index
    _standalone_evidence(page, title, window, add)
    _preprint_evidence(page, window, found)
    return found


def _far_below_abstract(page: PageLines, abstract_lines: list[int], title_lines: list[int], window: int) -> set[int]:
    """Lines below the abstract that are neither just under it (a journal's citation line) nor near the title:
    reference lists and other papers' cards, whose journals count half."""
    if not abstract_lines:
        return set()
    far = set()
    seen = 0
    for index in range(abstract_lines[-1] + 1, window):
        seen += bool(page.text[index])
        if seen > 4 and not any(abs(index - at) <= 10 for at in title_lines):
            far.add(index)
    return far


def _standalone_evidence(page: PageLines, title: str | None, window: int, add: Any) -> None:
    """Short title-cased lines that are journal names by their neighbours (see :func:`journal_evidence`)."""
    haystack = "\n".join(page.text[index][:300].lower() for index in range(window))
    same_lines = Counter(page.text[index][:300].lower() for index in range(window))
    nonblank = [index for index in range(window) if page.text[index]]
    checked = 0
    for position, index in enumerate(nonblank):
        line = BULLET.sub("", page.text[index])
        if len(line) > 120 or page.kind[index] in ("furniture", "generated", "json", "prose", "section"):
            continue
        if any(mark in line for mark in "|·»:;"):
            continue
        name = journal_name(line)
        if not name or (title and _journal_key(name) == _journal_key(title)) or _line_names(name, frozenset()):
            continue
        checked += 1
        if checked > MAX_JOURNAL_CANDIDATES:
            break
        following = [page.text[j] for j in nonblank[position + 1 : position + 4]]
        score = 0.0
        if following and VOLUME_LINE.match(following[0]):
            score += 1.5
        elif any(VOLUME_LINE.match(line) for line in following):
            score += 0.5
        if position and JOURNAL_INDEX.match(BULLET.sub("", page.text[nonblank[position - 1]])):
            score += 1.0
        key = name.lower()
        if len(name.split()) >= 2 and len(name) >= 10 and haystack.count(key) > same_lines[key]:
            score += 1.0  # inside another line ("Search in Name", "Name volume 26", a breadcrumb)
        if score >= 1.0 and _JOURNAL_WORD.search(name):
            score += 0.5
        if score:
            add(name, score, index)


def _preprint_evidence(page: PageLines, window: int, found: _Candidates) -> None:
    counts: dict[str, int] = {}
    preprint = False
    for index in range(window):
        line = page.text[index][:MAX_RULE_LINE_CHARS]
        preprint = preprint or "preprint" in line.lower()
        for server in set(PREPRINT_SERVER.findall(line)):
            counts[server] = counts.get(server, 0) + 1
    for server, count in counts.items():
        found.add(server, min(count, 2) + (1.0 if preprint else 0.0), 0)


def _without_leading_names(text: str) -> str:
    """A citation's remainder after the title without the authors some styles put there ("Title. Smith A,
    Lee B, et al. Journal. 2021")."""
    text = text.lstrip(" .,:;")
    cut = text.lower().find("et al", 0, 400)
    if cut >= 0 and parse_person_list(text[:cut] + "et al."):
        return text[cut + 5 :].lstrip(" .,")
    stop = text.find(". ", 0, 400)
    if stop > 0 and parse_person_list(text[:stop]):
        return text[stop + 1 :]
    return text
