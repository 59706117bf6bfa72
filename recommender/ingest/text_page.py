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
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..paper import clean_text, normalize_doi, normalize_pmid
from .fields import flip_name, latin_ratio, parse_year, strip_markup

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


# --- Journal and authors, chosen by evidence -------------------------------------------------------------------
#
# Like the title, the journal and the authors are chosen among candidates that each carry evidence, not read
# from a fixed position: a page names its journal in a masthead, a breadcrumb, a labelled field, citation
# lines and notices, and names its authors in a list beside the title, in a labelled field and in its own
# citation. Candidates without enough evidence give no answer: an empty field is better than a menu item.

#: Lines scanned for the paper's own citation (a line holding the title): a "Cite this article" block may
#: sit below the references.
MAX_CITATION_SCAN_LINES = 5000
#: Longest line searched for the title (a citation line holding it); longer lines are prose.
MAX_CITATION_LINE_CHARS = 3 * MAX_RULE_LINE_CHARS
#: Least evidence for a journal: one labelled value, one citation line, or two weaker signs together.
JOURNAL_MIN_SCORE = 1.5
#: Least evidence for an author list: a list beside the title, a labelled list, or the paper's citation.
AUTHORS_MIN_SCORE = 2.5
MAX_JOURNAL_CANDIDATES = 300
MAX_AUTHOR_CANDIDATES = 300
MAX_AUTHOR_RUN_LINES = 60
#: Names an abbreviated author is looked up among.
MAX_NAME_POOL = 1000

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
BIBTEX_FIELD = re.compile(r"\b(?P<key>journal|author)\s*+=\s*+[{\"](?P<value>[^{}\"]{2,2000}+)[}\"]", re.IGNORECASE)
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
#: Words of an institution's name: with no word of a journal's title beside them, the line is an affiliation.
_INSTITUTION_WORD = re.compile(
    r"\b(?:universit\w*|institut\w*|hospital\w*|department|departamento|center|centre|centro|college|school|"
    r"faculty|facultad|laborator\w*|clinic|klinik\w*|ministry|foundation|association|society|press|publishers?|"
    r"publications|publishing|verlag|editora|editorial)\b",
    re.IGNORECASE,
)
_STRONG_JOURNAL_WORD = re.compile(
    r"\b(?:journal|revista|revue|rivista|zeitschrift|tijdschrift|czasopismo|annals?|annales|anales|archives?|"
    r"bulletin|proceedings|acta|transactions|letters|reports|reviews?|gazette|record|журнал|вестник|вісник)\b",
    re.IGNORECASE,
)
#: A date label glued to its date ("Received04 Feb 2019").
_DATE_PREFIX = re.compile(r"^(?:received|accepted|revised|published|posted|epub|updated)(?=\d)", re.IGNORECASE)
#: Month names and their abbreviations, as whole words ("Nov" is one; "Novak" is not).
_MONTH_WORD = re.compile(
    r"^(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?$",
    re.IGNORECASE,
)


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


def _next_line(page: PageLines, index: int, stop: int) -> str | None:
    """The next non-blank line within two lines (a label's value on the line below it)."""
    for later in range(index + 1, min(index + 3, stop)):
        if page.text[later]:
            return page.text[later] if len(page.text[later]) <= MAX_RULE_LINE_CHARS else None
    return None


def _title_key(title: str) -> str:
    return " ".join(title.lower().rstrip(" .").split())


def _title_lines(page: PageLines, title: str | None) -> list[int]:
    """Lines that hold the title: the title itself, its copies, and the paper's own citation lines."""
    if not title or len(title) < 10:
        return []
    key = _title_key(title)
    found = []
    for index in range(min(len(page.text), MAX_CITATION_SCAN_LINES)):
        line = page.text[index]
        if len(key) <= len(line) <= MAX_CITATION_LINE_CHARS and key in line.lower():
            found.append(index)
            if len(found) >= 50:
                break
    return found


def _around_title(line: str, title: str) -> tuple[str, str]:
    """The text before and after the title in a line that holds it."""
    key = _title_key(title)
    lowered = line.lower()
    position = lowered.find(key)
    if position < 0 or len(lowered) != len(line):
        return "", ""
    return line[:position], line[position + len(key) :]


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


# --- Authors ---------------------------------------------------------------------------------------------------

#: Words that are never part of a person's name on a page: institutions, interface, topics.
_NOT_NAME_WORDS = frozenset(
    "university universidad universidade universität université università universitat institute instituto "
    "institut istituto department departamento dipartimento hospital hôpital hospitalario center centre centro "
    "college school faculty facultad laboratory laboratorio press journal journals research cancer oncology "
    "medicine medical science sciences health clinical clinic biology society foundation association publication "
    "publications publishing publisher online library article articles abstract review issue volume figures figure "
    "tables table pdf html full text download view share cite citation citations metrics references editor "
    "editors reviewed authors author affiliations affiliation information correspondence email home search open "
    "access treatment therapy loading page paper papers summary keywords topics section sections subjects "
    "published received accepted news release media contact credit image video comments similar related content "
    "details history type group division unit program programme national international ministry network services "
    "service team data results methods background conclusions introduction discussion supplementary materials "
    "funding copyright license licence rights reserved google scholar pubmed crossref orcid twitter facebook users "
    "readers mendeley dimensions altmetric e-books e-journals books products login register advertisement skip main "
    "menu cookies privacy terms conditions inc ltd gmbh llc corp show hide more less all info export print save "
    "alert alerts issues archive archives current submit submission guidelines policies report reports letters "
    "study studies trial analysis patients disease cell cells tumor tumour series topic translate subscribe "
    "statistics visits visitas views downloads icon logo link links".split()
)
_DEGREES = frozenset(
    "md phd msc mph bsc mbbs dphil rn frcp frcs dds ms ma bs facs mba drph pharmd mbchb frcpc facp mrcp dr prof "
    "professor mmed mbbch".split()
)
_TITLE_PREFIX = re.compile(r"^(?:dr|prof|professor|mr|mrs|ms)\.?\s++", re.IGNORECASE)
#: ORCID marks and links, URLs and bracketed footnote numbers inside an author line.
_NAME_NOISE = re.compile(
    r"orcid(?:\s*+icon)?(?:\s*+:\s*+)?(?:https?://)?(?:orcid\.org/)?[\dX\-]{0,19}|https?://\S++|orcid\.org/\S++"
    r"|\[\s*+[\d,\s]{1,12}\]|\(\s*+\d[\d,\s]{0,10}\)|\\r\\n|\\n",
    re.IGNORECASE,
)
_PERSON_SPLIT = re.compile(r"\s*+[,;，、]\s*+(?:(?:and|&|und)\s++)?|\s++(?:and|&|und)\s++|\s*+&\s*+")
_CJK_NAME = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]{2,4}$")
_LINE_MARKS = "*†‡§¶#"
#: A bullet or list number before a name on a line of its own ("• Ann Smith1,", "2. Bo Chen").
_LIST_PREFIX = re.compile(r"^(?:[•·▪◦*–-]|\d{1,3}[.)])\s++")
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


def is_person_name(part: str, common: frozenset[str] = frozenset()) -> bool:
    """A person's name as a page writes it: "Ann Smith", "S M Abdus Salam", "Okafor CN", "H.J. Penrose",
    "Ludwig van Beethoven", "王晓东"; not an institution, a menu entry or a topic ("Cancer Research"), nor words
    the page otherwise writes in lower case."""
    if _CJK_NAME.match(part):
        return True
    tokens = part.split()
    if not 1 <= len(tokens) <= 6 or _INSTITUTION_WORD.search(part) or _STRONG_JOURNAL_WORD.search(part):
        return False
    spelt = 0
    ordinary = 0
    for token in tokens:
        low = token.lower()
        if low in _NAME_PARTICLES:
            continue
        if not _NAME_TOKEN.match(token) or not token[0].isupper() or low.strip(".") in _NOT_NAME_WORDS:
            return False
        abbreviated = token.endswith(".") and sum(ch.isalpha() for ch in token) >= 3 and not token.isupper()
        if any(ch.isdigit() for ch in token) or _MONTH_WORD.match(low) or abbreviated:
            return False  # "Received04", "Feb", "Oncol.": dates and abbreviations, not names
        letters = sum(ch.isalpha() for ch in token)
        if letters >= 2 and not token.isupper():
            spelt += 1
            ordinary += low in common
    return spelt >= 1 and ordinary * 2 <= spelt and not (ordinary and spelt == 1 and len(tokens) == 1)


def parse_person_list(line: str, common: frozenset[str] = frozenset()) -> list[str] | None:
    """Authors from a line of names, or ``None`` when it is not one. Handles comma, semicolon, "and"/"&"
    separated lists; footnote numbers, letters and marks after names ("Ruiz1,2*", "Solera,b", "[1 ]");
    ORCID marks and degrees ("MD, PhD"); "et al."; "Last, First" pairs (turned round); PubMed's "Last FM";
    names glued twice by a copied page ("Marta GilMarta Gil1Haruto Nakamura...")."""
    if len(line) > MAX_RULE_LINE_CHARS:
        return None
    text = _NAME_NOISE.sub(" ", line)
    text = _AUTHOR_PREFIX.sub("", _LIST_PREFIX.sub("", text.strip()))
    head, tail = text[:-_ET_AL_TAIL], text[-_ET_AL_TAIL:]
    had_et_al = bool(_ET_AL.search(tail))
    text = (head + _ET_AL.sub("", tail)).strip(" ,;&_|")
    if not text:
        return None
    if _glued_words(text) and "," not in text:  # "Marta GilMarta Gil1Haruto ..." → one name per numbered piece
        text = re.sub(r"[\d*†‡§¶#]++", ", ", text)
    text = _AUTHOR_NUMBERS.sub("", text)
    parts: list[str] = []
    letters: set[str] = set()
    for raw in _PERSON_SPLIT.split(text)[:200]:
        part = _TITLE_PREFIX.sub("", _strip_marks(raw))
        if len(part) == 1 and part.islower():
            letters.add(part)  # a superscript affiliation letter ("Solera,b")
        elif part and part.lower().replace(".", "") not in _DEGREES:
            parts.append(_undoubled(part))
    if letters:
        last = max(letters)
        parts = [_without_letter_mark(part, last) for part in parts]
    if len(parts) < 2 and not had_et_al:
        return None
    lone = [" " not in part and not _CJK_NAME.match(part) for part in parts]
    if any(lone) and len(parts) % 2 == 0 and all(lone[::2]):
        # "Wang, Liming, Liu, Mei", "Okafor, M., Lindqvist, T.", "Barreto, Luiza M.": last name, first names
        parts = [f"{parts[i + 1]} {parts[i]}" for i in range(0, len(parts), 2)]
    elif any(lone):
        return None
    return parts if all(is_person_name(part, common) for part in parts) else None


def _strip_marks(part: str) -> str:
    """A name part without the footnote digits, marks and symbols around it ("1Ann Smith2,*", "Bo Chen ✉"). A
    loop, not a regex: see :func:`_strip_footnote_marks`."""
    start, end = 0, len(part)
    while start < end and _is_mark(part[start]):
        start += 1
    while end > start and _is_mark(part[end - 1]):
        end -= 1
    return part[start:end]


def _is_mark(char: str) -> bool:
    """A footnote digit or mark, a symbol ("✉"), a space or a list comma around a name."""
    return (
        char.isdecimal()
        or char.isspace()
        or char in _LINE_MARKS
        or char in ",;"
        or unicodedata.category(char)[0] == "S"
    )


def _undoubled(part: str) -> str:
    """ "Marta GilMarta Gil" → "Marta Gil" (a page that copies a name and its hidden duplicate together)."""
    half = len(part) // 2
    return part[:half] if len(part) % 2 == 0 and half >= 3 and part[:half] == part[half:] else part


def _without_letter_mark(part: str, last: str) -> str:
    """ "Marta Kowalczyka" → "Marta Kowalczyk" on a page whose footnotes are letters a..``last``."""
    if len(part) > 3 and part[-1] <= last and part[-1].islower() and part[-2].isalpha():
        return part[:-1]
    return part


def _line_names(line: str, common: frozenset[str]) -> list[str] | None:
    """Names on one line: a list, or one person alone ("• Ann Smith1,", "Lindahl, Signe [1 ]")."""
    names = parse_person_list(line, common)
    if names:
        return names
    text = _LIST_PREFIX.sub("", _NAME_NOISE.sub(" ", line).strip())
    text = _TITLE_PREFIX.sub("", _strip_marks(text.rstrip(" ,;&")).rstrip(" ,;&"))
    text = _strip_marks(re.sub(r"\s++(?:and|&)$", "", text))
    pieces = [piece.strip() for piece in text.split(",") if piece.strip().lower().replace(".", "") not in _DEGREES]
    text = ", ".join(pieces)  # "Ann Smith, MD" → "Ann Smith"
    if text.count(",") == 1:  # "Lindahl, Signe": one person, last name first
        last, first = (piece.strip() for piece in text.split(","))
        if " " not in last and is_person_name(last, common) and is_person_name(first, common):
            return [f"{first} {last}"]
        return None
    if " " in text and "," not in text and is_person_name(text, common):
        return [text]
    return None


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
    fields.year = _find_year(body, _citation_year(body))
    fields.doi = _find_doi(body, [line for line in page.text[page.end :] if len(line) <= MAX_RULE_LINE_CHARS])
    fields.journal = find_journal(page, fields.title, abstract_lines, fields.doi)
    pmid = next((m.group("pmid") for m in map(PMID_LINE.search, body) if m), None)
    fields.pmid = normalize_pmid(pmid)
    fields.authors = find_authors(page, fields.title, abstract_lines)
    fields.keywords = _find_keywords(page)
    fields.mesh_terms = _find_mesh(page)
    return fields
