"""People's names as a copied page writes them: author lines and lists, one name alone, footnote marks.

The author list of a page (:mod:`.page_authors`), the journal rules (a name that is a person is no journal)
and the line model (an author line does not continue a paragraph) all need to know whether some text is a
list of names; this module answers that, and nothing about where on the page the names stand.
"""

from __future__ import annotations

import re
import unicodedata

from .page_patterns import _INSTITUTION_WORD, _MONTH_WORD, _STRONG_JOURNAL_WORD, MAX_RULE_LINE_CHARS, _glued_words

_ET_AL = re.compile(r"[,;]?\s*(?:et al\.?|and others|…|\.\.\.)\s*$", re.IGNORECASE)  # searched in the tail only
_ET_AL_TAIL = 64
_AUTHOR_PREFIX = re.compile(r"^(?:author links open overlay panel\s*|authors?\s*[:：]?\s+|by\s+)", re.IGNORECASE)
_NAME_PARTICLES = {"van", "von", "de", "der", "den", "da", "di", "du", "del", "della", "dos", "das", "le", "la",
                   "bin", "binti", "al", "el", "ter", "ten", "y", "e", "mac", "st"}  # fmt: skip
_NAME_TOKEN = re.compile(r"^(?:[^\W\d_][\w'’.\-]*+|[A-Z]\.?)$")
# Footnote numbers after a name ("Ruiz 1 2," → "Ruiz,"). Possessive: ``(?:\s*\d+)+`` could split a run of digits
# in exponentially many ways before failing (a name and 29 numbers took 45 s).
_AUTHOR_NUMBERS = re.compile(r"(?<=[^\W\d_])(?:\s*+\d++)++(?=\s*+(?:[,;]|$)|\s++(?:and|&)\s)")
_AUTHOR_SPLIT = re.compile(r"\s*+[,;]\s*+|\s++(?:and|&)\s++")
_FOOTNOTE_MARKS = frozenset("*†‡§¶#")


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
