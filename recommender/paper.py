"""The normalised paper record and the rules that give every paper a stable identity.

Whatever format a paper arrives in, it becomes a :class:`Paper`. Its id is chosen in a fixed order (given
id, else DOI, else PMID, else a hash of its text) so the same paper re-ingested from the same kind of source
gets the same id and does not duplicate.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidInputError

# A DOI ends at whitespace or a control character (neither is allowed in one).
_DOI = re.compile(r"10\.[0-9]{4,9}/[^\s\x00-\x1f\x7f-\x9f]+")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_PMID = re.compile(r"^[0-9]{1,9}$")  # ASCII digits only: \d would take Arabic-Indic "١٢٣" too
_PMCID = re.compile(r"(?:pmcid\s*:?\s*)?(?:pmc)?\s*([0-9]{1,9})", re.IGNORECASE)
_SURROGATE = re.compile("[\ud800-\udfff]")
# The paper-id rule, in one place: check_reference (every lookup), usable_id (every id stored) and
# PAPER_ID_PATTERN (the API's request schemas and /openapi.json) all follow it.
#: Longest paper id accepted: a longer reference is refused, so a longer id could never be looked up.
MAX_ID_LENGTH = 1000
#: Characters no paper id holds: C0 and C1 controls and DEL (an id is shown, typed and put in URLs).
_ID_CONTROLS = r"\x00-\x1f\x7f-\x9f"
_CONTROL = re.compile(f"[{_ID_CONTROLS}]")
#: The rule as a regular expression, for request schemas: no control characters (the length is separate).
PAPER_ID_PATTERN = f"^[^{_ID_CONTROLS}]+$"


def clean_text(text: str | None) -> str:
    """Unicode-normalise (NFC) and collapse whitespace: the canonical form of every stored text field.

    Lone surrogates become U+FFFD (see :func:`utf8_safe`), so stored text is always valid UTF-8.
    """
    if not text:
        return ""
    text = str(text)
    if text.isascii():
        return " ".join(text.split())
    text = utf8_safe(text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


def utf8_safe(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD.

    JSON escapes (``"\\ud800"``) and undecodable file names produce them; text holding one cannot be encoded
    as UTF-8, so it could be neither hashed into an id nor written to the store.
    """
    return _SURROGATE.sub("\ufffd", text)


def normalize_doi(value: str | None) -> str | None:
    """Lower-case a DOI and drop any URL or ``doi:`` prefix and trailing punctuation.

    DOIs are case-insensitive by definition, so lower-casing makes them safe to compare across sources.
    """
    if not value:
        return None
    text = _DOI_PREFIX.sub("", clean_text(value))
    match = _DOI.search(text)
    if not match:
        return None
    doi = strip_trailing_punctuation(match.group(0))
    if not _DOI.fullmatch(doi):  # only punctuation followed the slash ("10.1000/.")
        return None
    return doi.lower()


def strip_trailing_punctuation(doi: str) -> str:
    """Drop sentence punctuation glued to a DOI, keeping a closing bracket that the DOI itself opened."""
    end, opened, closed = len(doi), doi.count("("), doi.count(")")  # counted once: the loop stays linear
    while end and doi[end - 1] in ".,;:'\"]}>)":
        if doi[end - 1] == ")":
            if opened >= closed:
                break
            closed -= 1
        end -= 1
    return doi[:end]


def check_reference(reference: object) -> str:
    """A paper id, DOI or PMID as callers may give it, stripped: 1-1,000 characters, no control characters
    (the rule every lookup shares: the façade's, the export's and a collection's)."""
    if not isinstance(reference, str) or not reference.strip() or len(reference) > MAX_ID_LENGTH:
        raise InvalidInputError(f"a paper id must be a non-empty string of at most {MAX_ID_LENGTH} characters")
    if _CONTROL.search(reference.strip()):
        raise InvalidInputError("a paper id must not contain control characters")
    return reference.strip()


def usable_id(paper_id: str) -> bool:
    """Whether a paper may be stored under ``paper_id``: an id :func:`check_reference` accepts as it is, so
    the paper can be looked up by it again."""
    return 0 < len(paper_id) <= MAX_ID_LENGTH and not _CONTROL.search(paper_id)


def normalize_pmid(value: object) -> str | None:
    if value is None:
        return None
    text = clean_text(str(value))
    text = re.sub(r"^(?:pmid|pubmed)\s*:?\s*", "", text, flags=re.IGNORECASE)
    return text if _PMID.match(text) and text.strip("0") else None


def normalize_pmcid(value: object) -> str | None:
    """ "PMC1234567" from "PMC1234567", "pmc1234567", "PMCID: PMC1234567" or a bare number; else ``None``."""
    if value is None:
        return None
    match = _PMCID.fullmatch(clean_text(str(value)))
    return f"PMC{int(match.group(1))}" if match and match.group(1).strip("0") else None


def title_key(title: str | None) -> str:
    """Title reduced to lower-case letters and digits, for matching the same paper across sources."""
    text = unicodedata.normalize("NFKD", title or "").lower()
    return re.sub(r"[^0-9a-z]+", "", text)


@dataclass
class Paper:
    """One paper, in the normalised form every reader produces and every later stage consumes."""

    id: str
    title: str = ""
    abstract: str = ""
    doi: str | None = None
    pmid: str | None = None
    journal: str | None = None
    year: int | None = None
    authors: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    source: str | None = None
    #: PubMed Central id ("PMC1234567") when a source gives one: the result card links to the free full text.
    pmcid: str | None = None

    @property
    def text(self) -> str:
        """Title and abstract as one passage: what gets embedded and lexically indexed."""
        return join_title_abstract(self.title, self.abstract)

    @property
    def display_title(self) -> str:
        """The title, or for an untitled paper the opening words of its abstract."""
        if self.title:
            return self.title
        words = self.abstract.split()
        return " ".join(words[:14]) + (" …" if len(words) > 14 else "")

    def text_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """A plain copy (lists copied too); ``dataclasses.asdict`` is ten times slower on 100,000 papers."""
        return {name: list(value) if isinstance(value, list) else value for name, value in vars(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Paper:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


def join_title_abstract(title: str, abstract: str, separator: str | None = None) -> str:
    """ "Title. Abstract" (no doubled full stop), or "Title<separator>Abstract"; the abstract alone if untitled."""
    title = title.strip()
    if not title:
        return abstract
    if separator is None:
        separator = " " if title[-1] in ".?!" else ". "
    return f"{title}{separator}{abstract}"


def content_id(title: str, abstract: str) -> str:
    """Id for a paper with no identifier: a hash of its normalised title and abstract."""
    basis = f"{clean_text(title).lower()}\n{clean_text(abstract).lower()}"
    return "h:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]


def assign_id(given: str | None, doi: str | None, pmid: str | None, title: str, abstract: str) -> str:
    """Stable id: given id, else ``doi:...``, else ``pmid:...``, else a content hash."""
    if given and clean_text(given):
        return clean_text(given)
    if doi:
        return f"doi:{doi}"
    if pmid:
        return f"pmid:{pmid}"
    return content_id(title, abstract)


def merge_papers(existing: Paper, new: Paper) -> Paper:
    """Combine two records of the same paper, keeping what each source knew.

    The existing id stays (ids are stable); empty fields are filled from the new record; the longer abstract
    wins (sources often truncate); list fields are unioned in order.
    """
    merged = Paper(id=existing.id)
    for name in ("title", "doi", "pmid", "pmcid", "journal", "year", "source"):
        setattr(merged, name, getattr(existing, name) or getattr(new, name))
    merged.abstract = existing.abstract if len(existing.abstract) >= len(new.abstract) else new.abstract
    merged.authors = _union_people(existing.authors, new.authors)
    for name in ("keywords", "mesh_terms", "labels"):
        setattr(merged, name, _union(getattr(existing, name), getattr(new, name)))
    return merged


def author_key(name: str) -> tuple[str, str]:
    """(family name, first initial), lower-case: one person however a source writes them ("Bofang Wang",
    "Wang B", "Wang, Bofang", "B. Wang")."""
    last, comma, first = name.partition(",")
    if comma and first.strip():
        name = f"{first} {last}"
    tokens = [token for token in name.replace(".", " ").split() if token]
    if not tokens:
        return ("", "")
    if len(tokens) >= 2 and tokens[-1].isupper() and len(tokens[-1]) <= 3:  # "Wang B", "Smith JR": initials last
        return (" ".join(tokens[:-1]).lower(), tokens[-1][0].lower())
    return (tokens[-1].lower(), tokens[0][0].lower() if len(tokens) > 1 else "")


def _union_people(first: list[str], second: list[str]) -> list[str]:
    """Authors of both records in order, one entry per person, in the fuller spelling."""
    merged = list(first)
    where = {author_key(name): i for i, name in enumerate(merged)}
    for name in second:
        key = author_key(name)
        if key in where:
            if len(name) > len(merged[where[key]]):
                merged[where[key]] = name
        else:
            where[key] = len(merged)
            merged.append(name)
    return merged


def _union(first: list[str], second: list[str]) -> list[str]:
    seen = {item.lower() for item in first}
    return list(first) + [item for item in second if item.lower() not in seen]
