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
from .fields import latin_ratio, parse_year, strip_markup

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
    r"this is a preview of subscription content",
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
    r"^(?:palabras clave|palavras-chave|mots[- ]cl[ée]s|schlüsselwörter|schlagwörter|parole chiave|trefwoorden|"
    r"słowa kluczowe|ключові слова|ключевые слова|từ khóa|关键词|關鍵詞|キーワード|키워드)\b",
    r"^(?:core tip|strengths and limitations of this study|key points|highlights)\s*[:：]?",
    r"^(?:citation|cite this article|how to cite|editor|edited by|reviewed by|received|accepted|published|"
    r"copyright|data availability|funding|competing interests|academic editor|article information|"
    r"about this article|article metrics|themen|topics)\s*[:：]",
    r"^(?:figures?|fig\.?|table)\s+\d+\b",
    r"^(?:figures? - uploaded by|content may be subject to copyright|discover the world|citations? \(\d+\))",
    r"^(?:pubmed disclaimer|full text links|comments?\s*\(\d+\)|conflict of interest|competing interests?|"
    r"figures?|tables?|mesh terms|substances|grant support|funding|acknowledg(?:e)?ments?|"
    r"author contributions?|declarations?|ethics|abbreviations|supplementary|copyright|related resources|"
    r"graphical abstract|highlights|cited by|similar articles|publication types)\b",
    r"^(?:1\.?\s*)?introduction\W*$",
)
# Lines after which nothing belongs to the paper any more (reference lists, journal blurbs).
DOCUMENT_END = _rx(
    r"^(?:references?|list of references|bibliography|literature cited|works cited|similar articles|cited by|"
    r"related articles|recommended articles|citing articles|more like this)\s*[:：]?$",
    r"^(?:referencias|referências|références|literatur|literaturverzeichnis|bibliografia|riferimenti|"
    r"список літератури|список литературы|литература|tài liệu tham khảo|các bài báo tương tự|参考文献|"
    r"相似文献|参考資料|참고문헌)\s*(?:bibliográficas)?\s*[:：]?$",
    r"^期刊介绍",
    r"^(?:about (?:the|this) journal|journal (?:introduction|description|overview|information))\W*$",
)
# A marker after which the next block is machine-generated text about the paper, not the paper.
GENERATED = _rx(
    rf"^generated\b.{{0,40}}{_YEAR}$",
    r"^(?:ai[- ]generated|summary generated|generated summary|tl;?dr)\b",
    r"^(?:key (?:points|findings|takeaways)|plain language summary|ai summary|in brief)\W*$",
)
#: "Abstract" in the interface languages researchers meet (English first; Spanish/Portuguese, French, German,
#: Italian, Dutch, Polish, Ukrainian, Russian, Vietnamese, Chinese, Japanese, Korean).
ABSTRACT_WORDS = (
    r"abstract|summary|a b s t r a c t|resumen|resumo|résumé|zusammenfassung|kurzfassung|riassunto|sommario|"
    r"samenvatting|streszczenie|анотація|аннотация|реферат|tóm tắt|摘要|要旨|抄録|초록|original abstract"
)
#: A site's "read more" at the end of a shortened abstract (searched in the last 200 characters only).
TRAILING_MORE = re.compile(
    r"\s*(?:…|\.\.\.)?\s*(?:continue reading|read more|show more|see more|\(more\)|\[more\]|expand)\s*$", re.IGNORECASE
)
ABSTRACT_HEADING = re.compile(rf"^(?:#{{1,6}}\s*)?(?:{ABSTRACT_WORDS})\s*[:.：]?$", re.IGNORECASE)
ABSTRACT_INLINE = re.compile(r"^(?i:abstract)(?:\s*[:.\-–—]\s*|\s?(?=[A-Z]))(?P<rest>.{40,})$")
SECTION_LABEL = re.compile(
    r"^(?P<label>(?:background|introduction|objectives?|aims?(?: and scope)?|purpose|context|importance|"
    r"rationale|hypothesis|methods?|methodology|materials? and methods|design|setting|participants|patients|"
    r"interventions?|measurements|main outcome measures?|outcomes?|results?|findings|conclusions?|"
    r"interpretation|significance|implications|limitations|trial registration|registration|evidence|"
    r"study selection|data sources|data extraction|data synthesis|case presentation|case report|discussion|"
    r"summary|problem|approach|observations?|key results|what is known|what is new|"
    r"introducción|objetivos?|métodos|material y métodos|materiales y métodos|resultados|conclusiones|"
    r"introdução|conclusões|objectifs?|méthodes|résultats|hintergrund|methoden|ergebnisse|"
    r"schlussfolgerungen?|fragestellung|目的|方法|结果|結果|结论|結論|背景)"
    r"(?:\s+(?:and|&)\s+[a-z]+)?)\s*(?:[:.]\s*(?P<rest>.*)|$)",
    re.IGNORECASE,
)
#: A structured-abstract label glued to the end of the previous sentence ("...by 45%.Conclusion").
GLUED_LABEL = re.compile(
    r"(?<=[.!?])\s{0,1}(Background|Objectives?|Methods|Results|Conclusions?|Interpretation|Findings|"
    r"Free full text|Full text links|Read more|View article|Show more)(?=[A-Z:\s]|$)"
)
#: A structured-abstract label with no colon before its text ("Objectives To examine", "Design Cohort study",
#: "Main outcome measures Overall survival"), recognised only inside an abstract being collected.
BARE_LABEL = re.compile(
    r"^(?P<label>Background|Objectives?|Aims?|Purpose|Design|Setting|Participants|Interventions?|Methods|"
    r"Main outcome measures?|Primary and secondary outcome measures|Results|Conclusions?|Interpretation|"
    r"Trial registration(?: number)?)\s{1,2}(?P<rest>[A-Z0-9].{10,})$"
)
#: A structured-abstract label glued to the start of its text ("ObjectiveTo investigate", "MethodsCAFs were",
#: "3021 Background:" of a meeting abstract, Chinese labels "方法分离").
LEADING_LABEL = re.compile(
    r"^(?:\d{1,5}\s+(?=(?:Background|Purpose|Objectives?)\s*:))?"
    r"(?:(Background|Objectives?|Methods|Results|Conclusions?)(?=[A-Z][a-z])|(目的|方法|结果|結果|结论|結論)(?=[^\s:：]))"
    r"|^\d{1,5}\s+(?=(?:Background|Purpose|Objectives?)\s*:)"
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
#: Lines whose DOI is another paper's (a correction notice, a comment, the article it replies to).
DOI_ELSEWHERE = re.compile(
    r"\b(?:correction|erratum|corrigendum|retraction|retracted|comment on|reply to|update to)\b", re.I
)
DOI_LINE = re.compile(r"^doi\b\s*:?\s*(?:https?://(?:dx\.)?doi\.org/)?10\.", re.IGNORECASE)
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
#: Longest paragraph hard-wrapped lines are joined into.
MAX_REFLOW_CHARS = 20000
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
    for label, rest in zip(parts[1::2], parts[2::2], strict=True):
        out.extend([label, rest.strip()] if rest.strip() else [label])
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


_ENGLISH = frozenset("the of and in to a with for by on is are from as at an that this was were which".split())
_OTHER_FUNCTION_WORDS = frozenset(
    "de la el en y del los las con por para una un que se le les des et du dans sur der die das und mit von zu "
    "den ein eine im beim bei zur zum für über auf da do dos das em para com uma não il di e per che".split()
)


_FUNCTION_WORD = re.compile(r"(?<![\w\-.])[^\W\d_]+(?![\w\-.])")


def is_english(text: str) -> bool:
    """Mostly Latin letters, and more English function words than Spanish/Portuguese/French/German/Italian
    (a short title with none of either counts as English)."""
    return language(text) == "en"


def is_foreign(text: str) -> bool:
    """Another script, or more function words of another European language than of English."""
    return language(text) == "other"


def language(text: str) -> str:
    if latin_ratio(text) < 0.8:
        return "other"
    # Lower-case words standing alone: "IL" of "IL-6" or "e" of "e.g." is no Italian.
    words = [word for word in _FUNCTION_WORD.findall(text[:3000]) if word.islower()]
    english = sum(word in _ENGLISH for word in words)
    other = sum(word in _OTHER_FUNCTION_WORDS for word in words)
    return "en" if english > other or english == other == 0 else "other" if other > english else "unknown"


def _find_title(page: PageLines, abstract_lines: list[int], abstract: str | None) -> str | None:
    """The title, chosen among the page's lines by evidence (:func:`title_score`), not by position; ``None``
    when no line is convincing (:data:`TITLE_MIN_SCORE`): an empty title is better than stored furniture. A
    translated title beside an English one that is nearly as convincing gives way to the English one."""
    labelled = _labelled_title(page)
    if labelled:
        return labelled
    scored = title_candidates(page, abstract_lines, abstract)
    if not scored or scored[0][0] < TITLE_MIN_SCORE:
        return None
    best = scored[0]
    if is_foreign(best[2]):
        english = [item for item in scored if is_english(item[2]) and item[0] >= max(1.0, best[0] - 2.0)]
        if english:
            best = english[0]
    return best[2]


def title_candidates(page: PageLines, abstract_lines: list[int], abstract: str | None) -> list[tuple[float, int, str]]:
    """Every line that could be the title, with its :func:`title_score`, best first. Titles sit near the top
    of a page: only its first :data:`TITLE_WINDOW` lines are candidates (their copies anywhere count)."""
    regions = [used for _, used in heading_abstracts(page, minimum=0)]
    used = set(abstract_lines).union(*regions) if regions else set(abstract_lines)
    window = min(page.end, TITLE_WINDOW)
    lines = [(index, page.text[index]) for index in range(page.end) if index not in used and page.text[index]]
    anchors = _anchor_lines(page, used, window + 4)
    furniture = {index for index in range(window) if page.kind[index] in ("furniture", "generated", "json")}
    vocabulary = _content_words(" ".join([abstract or "", *(text for text, _ in heading_abstracts(page))]))
    latin_abstract = latin_ratio(abstract or "") >= 0.8
    haystack = "\n".join(line.lower() for _, line in lines)
    start = abstract_lines[0] if abstract_lines else page.end
    candidates = [
        (index, candidate)
        for index, line in lines
        if index < window and index not in furniture and (candidate := _title_candidate(line)) is not None
    ][:MAX_TITLE_CANDIDATES]
    texts = [candidate for _, candidate in candidates]
    scored = []
    for index, candidate in candidates:
        score = title_score(candidate, index, haystack, anchors, vocabulary, start, latin_abstract)
        if any(other != candidate and other.startswith(candidate.rstrip(" .…")) for other in texts):
            score -= 2.0  # a shortened copy of a longer candidate (a breadcrumb or a card)
        scored.append((score, index, candidate))
    return sorted(scored, key=lambda item: (-item[0], item[1]))


#: Lines considered for the title: the page's first lines (a title sits near the top; this bounds the work).
TITLE_WINDOW = 1000
MAX_TITLE_CANDIDATES = 300
#: The least evidence a line needs to be taken as the title.
TITLE_MIN_SCORE = 2.0
#: Interface words that label a line as the title ("Title: ...").
TITLE_LABEL = re.compile(
    r"^(?:title|article title|paper title|título|titulo|titre|titel|titolo|назва|название|tiêu đề|标题|題名|タイトル)"
    r"\s*[:：]\s*(?P<title>.{10,400})$",
    re.IGNORECASE,
)
#: Furniture in many interfaces that a title scorer must never take (editors, dates, counters, app prompts,
#: markdown section headings of summaries, notices); lines matching are not candidates at all.
TITLE_FURNITURE = _rx(
    r"^#{2,6}\s",
    r"^(?:editors?|edited by|reviewed by|reviewers?|academic editor|handling editor|guest editor)\b",
    r"^(?:submission )?(?:received|accepted|revised|published|posted|epub|first published)\b",
    r"^(?:publisher|publication history|article history|copyright|license|licence|rights)\b",
    r"\b(?:downloads?|views?|citations?|altmetric|readers|mentions)\s*[:(]?\s*\d",
    r"^total (?:pdf )?(?:downloads|views)",
    r"this article has been (?:updated|corrected|retracted)",
    r"\blog ?in\b|\bsign ?in\b|\bsign up\b|\bregister\b|\bsubscribe\b",
    r"\b(?:save|cite|share|export|download|print|email)\b.{0,20}\b(?:article|citation|pdf|this)\b",
    r"^(?:cite|share|save|download|export|print|email|pdf|html|full text|abstract|summary)\b\W*(?:\||$)",
    r"^(?:search by citation|view/save citation|how to cite|about this article|article metrics|open access)\b",
    r"^(?:видання|видавець|автори|анотація|ключові слова|журнал|издание|авторы|tác giả|tạp chí|出版|作者|期刊)"
    r"\s*[:：]?",
    r"^(?:volltext|zitationen|autoren|jahr|themen)\b",
    r"научная статья на тему|текст научной работы|аннотация научной статьи|^тема\b|надоели баннеры",
    r"^(?:corresponding author|correspondence)\b|\*corresponding",
    r"^(?:indexed in|this website|we use cookies|stay updated|paper summary|key findings|key takeaways)\b",
    r"^(?:research (?:paper|article)s?|original (?:research|article)|review article|mini review)\W*$",
    r"^(?:\d{1,3}[.)]?\s*)?(?:department|faculty|school|institute|laborator(?:y|ies)|center|centre|university|"
    r"hospital|division|unit)\b",
    r"\bbanners?\b|\bnewsletter\b|\bcookie",
)
TITLE_LABEL_ALONE = re.compile(
    r"^(?:title|article title|paper title|título|titre|titel|titolo|назва|название|标题)\s*[:：]?$", re.IGNORECASE
)
_TITLE_LABEL_VALUE = re.compile(r"^[^:：]{1,30}[:：]\s")
#: Words of a sentence about a paper rather than its title (summaries, press releases, teasers).
_SENTENCE_WORDS = re.compile(
    r"\b(?:could|would|might|may|will|we|our|this (?:study|research|work|paper)|these findings|researchers|"
    r"suggests?|shows?|found that)\b",
    re.IGNORECASE,
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_WORD = re.compile(r"[^\W\d_]{4,}")


def _labelled_title(page: PageLines) -> str | None:
    """A title the page labels as one: "Title: ..." on one line, or a "Title" line followed by the title."""
    for index in range(page.end):
        line = page.text[index]
        if len(line) > MAX_RULE_LINE_CHARS:
            continue
        match = TITLE_LABEL.match(line)
        if match:
            return match.group("title").strip()
        if TITLE_LABEL_ALONE.match(line):
            following = next((page.text[j] for j in range(index + 1, min(index + 3, page.end)) if page.text[j]), "")
            if following and _title_candidate(following):
                return following.strip()
    return None


def _title_candidate(line: str) -> str | None:
    """The line as a possible title (a leading "# " or bullet removed), or ``None`` when it cannot be one."""
    if len(line) > 400:
        return None
    text = re.sub(r"^(?:#\s+|[•·▪◦*–-]\s+)", "", line).strip()
    if TITLE_FURNITURE.search(text) or FURNITURE.search(text) or ABSTRACT_HEADING.match(text):
        return None
    cjk = len(_CJK.findall(text))
    if not (is_title_like(text) or 8 <= cjk <= 120) or _is_metadata_line(text) or SECTION_LABEL.match(text):
        return None
    if text.count(";") >= 2 or text.count("#") >= 2 or text.count(" / ") >= 2:  # keyword lists and tags
        return None
    if _TITLE_LABEL_VALUE.match(text) or "@" in text or "http" in text.lower() or "www." in text.lower():
        return None
    if any(mark in text for mark in "{}=|") or sum(ch.isdigit() for ch in text) > len(text) / 4:
        return None
    if ABSTRACT_INLINE.match(text) or _glued_words(text):
        return None
    return text.rstrip(" ·")


def _glued_words(text: str) -> bool:
    """Run-together interface text or names ("AbstractFull TextInfo/History", "Marta GilMarta Gil1Haruto")."""
    return len(re.findall(r"[a-z][A-Z][a-z]", text)) >= 2


def _content_words(text: str) -> set[str]:
    return {word.lower()[:6] for word in _WORD.findall(text[:5000])}


def _anchor_lines(page: PageLines, skip: set[int], limit: int) -> list[int]:
    """Lines (of the first ``limit``) that sit next to a title on real pages: authors, DOI, citation and
    journal/date lines."""
    anchors = []
    for index in range(min(page.end, limit)):
        line = page.text[index]
        if index in skip or not line or len(line) > MAX_RULE_LINE_CHARS:
            continue
        if DOI_LABELLED.search(line) or DOI_ANY.search(line) or parse_author_line(line) or _is_metadata_line(line):
            anchors.append(index)
    return anchors


def title_score(
    line: str,
    index: int,
    haystack: str,
    anchors: list[int],
    vocabulary: set[str],
    abstract_start: int,
    latin_abstract: bool,
) -> float:
    """Evidence that a line is the page's title (``haystack``: the page's other lines, lower-cased, joined):
    repeated on the page (in a breadcrumb or a citation line: +2); sharing the abstract's words (+3 × the share
    of its words the abstracts use, scaled down for lines under 8 words: tags and teasers are short); near an
    author, DOI or citation line (+1); above the abstract (+0.5); a title's length (+0.5 for 6-35 words);
    English (+1: a translated title beside the English one gives way); another script beside a Latin abstract
    (-1); a sentence about the paper rather than a name ("could", "we", "this study suggests") or over 220
    characters (-1.5)."""
    score = 0.0
    key = line.lower().rstrip(" .")
    if len(key) >= 20 and haystack.count(key) >= 2:
        score += 2.0
    words = _content_words(line)
    size = len(line.split()) if not _CJK.search(line) else len(_CJK.findall(line)) / 2
    if words and vocabulary:
        score += 3.0 * len(words & vocabulary) / len(words) * min(1.0, size / 8)
    if any(abs(anchor - index) <= 3 for anchor in anchors):
        score += 1.0
    if index < abstract_start:
        score += 0.5
    if 6 <= size <= 35:
        score += 0.5
    if latin_abstract and latin_ratio(line) < 0.8:
        score -= 1.0
    if is_english(line):
        score += 1.0  # a translated title beside the English one: the English one is kept
    if _SENTENCE_WORDS.search(line) or len(line) > 220:
        score -= 1.5
    return score


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


def _looks_like_journal(line: str) -> bool:
    """A short title-cased name with no sentence in it ("Cell Reports", "J Clin Invest")."""
    words = line.split()
    if len(line) > MAX_RULE_LINE_CHARS or not 1 <= len(words) <= 10 or SENTENCE_END.search(line):
        return False
    if not line[:1].isupper():
        return False
    return not _is_metadata_line(line)


def _find_doi(lines: list[str], after: list[str] = ()) -> str | None:
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
    fields.title = _find_title(page, abstract_lines, abstract)
    if fields.title and abstract:
        fields.abstract = _without_title(abstract, fields.title)
    citation = _citation_fields(body)
    fields.journal = citation.get("journal")
    fields.year = _find_year(body, citation.get("year"))
    fields.doi = _find_doi(body, [line for line in page.text[page.end :] if len(line) <= MAX_RULE_LINE_CHARS])
    pmid = next((m.group("pmid") for m in map(PMID_LINE.search, body) if m), None)
    fields.pmid = normalize_pmid(pmid)
    fields.authors = _find_authors(page, skip)
    if not fields.authors and citation.get("first_author"):
        fields.authors = [citation["first_author"]]
    fields.keywords = _find_keywords(page)
    fields.mesh_terms = _find_mesh(page)
    return fields
