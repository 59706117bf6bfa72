"""The title of a copied page, chosen among its lines by evidence rather than by position.

Candidate lines near the top of the page are scored (:func:`title_score`): repeated on the page, sharing the
abstract's words, next to author, DOI or citation lines, English. The lines that hold the chosen title (the
title itself and the paper's own citation lines, :func:`_title_lines`) are where the journal and author
rules look next.
"""

from __future__ import annotations

import re

from .abstract_bounds import heading_abstracts
from .fields import latin_ratio
from .page_fields import _is_metadata_line
from .page_language import is_english, is_foreign
from .page_lines import PageLines, sentence_count
from .page_patterns import (
    _CJK,
    _WORD,
    ABSTRACT_HEADING,
    ABSTRACT_INLINE,
    DOI_ANY,
    DOI_LABELLED,
    FURNITURE,
    MAX_RULE_LINE_CHARS,
    SECTION_LABEL,
    _glued_words,
    _rx,
)
from .person_names import parse_author_line

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
#: Lines scanned for the paper's own citation (a line holding the title): a "Cite this article" block may
#: sit below the references.
MAX_CITATION_SCAN_LINES = 5000
#: Longest line searched for the title (a citation line holding it); longer lines are prose.
MAX_CITATION_LINE_CHARS = 3 * MAX_RULE_LINE_CHARS


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


def is_title_like(line: str) -> bool:
    words = line.split()
    if not 3 <= len(words) <= 60 or len(line) > 400 or line.endswith(":"):
        return False
    if sentence_count(line.rstrip(".?! ")) > 1 or line[0] in "{[<(":
        return False
    return any(ch.isalpha() for ch in line)


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
