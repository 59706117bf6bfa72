"""Papers written out for reference managers: RIS, BibTeX, Zotero-style CSV, CSL-JSON and MEDLINE/nbib.

Every writer streams, one record at a time, so an export of any size holds one paper in memory. Each paper's
keywords, labels and any extra ``tags`` given for it (a theme's label, say) are written as keywords/tags:
those are what every reference manager keeps and lets a user filter on. MeSH terms go in MEDLINE's ``MH``
and, having no field of their own elsewhere, join the keywords in the other formats (as Zotero does when it
imports from PubMed).

Corpus text is hostile input. Every value is put on one line (newlines and control characters become
spaces), so no abstract can start a fake ``ER  - `` or ``PMID- `` tag in RIS or MEDLINE. BibTeX values have
LaTeX's special characters escaped, so no brace can close an entry early. CSV cells that a spreadsheet would
read as a formula get a leading ``'`` (:func:`csv_cell`).

Identifiers go where reference managers look for them: the PMID in RIS's AN, BibTeX's ``pmid``, CSL's
``PMID``, MEDLINE's ``PMID-`` and the CSV's Extra ("PMID: 123"); the PMCID in RIS's C2 ("PMCID: PMC456", as
Zotero writes it), BibTeX's ``pmcid``, CSL's ``PMCID``, MEDLINE's ``PMC -`` and a second Extra line.

Authors are stored "First Last"; each format gets its own form (:mod:`recommender.author_names`): RIS, MEDLINE and the
CSV as "Last, First", BibTeX as "Last, First and Last, First", CSL-JSON as ``{"family", "given"}``.
"""

from __future__ import annotations

import csv
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from rispy import RisWriter

from .author_names import Person, split_name
from .errors import InvalidInputError
from .fileio import atomic_writer
from .paper import Paper, clean_text

FORMATS = ("ris", "bibtex", "csv", "csl-json", "medline")

_MEDIA_TYPES = {
    "ris": "application/x-research-info-systems; charset=utf-8",
    "bibtex": "application/x-bibtex; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "csl-json": "application/vnd.citationstyles.csl+json",
    "medline": "application/nbib; charset=utf-8",
}
_EXTENSIONS = {"ris": ".ris", "bibtex": ".bib", "csv": ".csv", "csl-json": ".json", "medline": ".nbib"}
#: The format each known file extension means: the usual ones, ``.bibtex``, and ``.txt``, PubMed's name for
#: a MEDLINE file ("PubMed format"). A ``.txt`` file may hold any text, so a format given explicitly wins.
_BY_EXTENSION = {**{extension: fmt for fmt, extension in _EXTENSIONS.items()}, ".bibtex": "bibtex", ".txt": "medline"}
_ANY_TEXT = frozenset({".txt"})

#: Zotero's own CSV column names, so Zotero-aware tools (and our ingest) map them without options.
CSV_COLUMNS = (
    "Key", "Item Type", "Publication Year", "Author", "Title", "Publication Title", "DOI", "Url",
    "Abstract Note", "Extra", "Manual Tags",
)  # fmt: skip

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# LaTeX's special characters, each replaced by what typesets (and decodes) as the character itself.
_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
    "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}  # fmt: skip
_LATEX_SPECIAL = re.compile(r"[\\{}&%$#_~^]")
# Braces first: the escapes of "~" and "^" hold braces of their own.
_LATEX_REPLACEMENTS = [(character, _LATEX_SPECIALS[character]) for character in "{}&%$#_~^"]
# "--", "``", "''", "?`" and "!`" are ligatures in LaTeX (dashes, curly quotes, ¿ ¡); "{}" between keeps them apart.
_LIGATURE = re.compile(r"(?<=[-`'?!])(?=[-`'])")
_KEY_CHARS = re.compile(r"[^a-z0-9]+")
_AND = re.compile(r"\band\b", re.IGNORECASE)
_KEY_STOPWORDS = frozenset("a an the of on in and for to with from by at is are".split())


def media_type(fmt: str) -> str:
    """The HTTP Content-Type of an export in ``fmt``."""
    return _MEDIA_TYPES[_checked(fmt)]


def file_extension(fmt: str) -> str:
    """The usual file extension of ``fmt``, with its dot (``.ris``, ``.bib``, ``.nbib``): what importers expect."""
    return _EXTENSIONS[_checked(fmt)]


def _checked(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return fmt


def export_papers(
    papers: Iterable[Paper], fmt: str, out: TextIO, *, tags: Mapping[str, Sequence[str]] | None = None
) -> int:
    """Write ``papers`` to ``out`` in ``fmt`` (one of :data:`FORMATS`) and return how many were written.

    ``tags`` maps a paper id to extra tags (theme labels, say) written with its keywords. Open a CSV file with
    ``newline=""``: the csv module writes CRLF line ends itself.
    """
    writer = _WRITERS[_checked(fmt)]()
    count = 0
    for paper in papers:
        writer.write(_Record.of(paper, (tags or {}).get(paper.id, ())), out)
        count += 1
    writer.finish(out, count)
    return count


def _line(value: object) -> str:
    """``value`` as one line of text: a newline in a tagged format would start a tag of its own.

    Stored text is already clean, and ``isprintable`` is false for every line break, control character and
    lone surrogate, so only text holding one of those pays for the full clean-up.
    """
    text = value if isinstance(value, str) else "" if value is None else str(value)
    if text.isprintable():
        return text.strip()
    return " ".join(_CONTROL.sub(" ", clean_text(text)).split())


def _terms(*groups: Iterable[str]) -> list[str]:
    """The terms of all groups in order, cleaned, each once (compared without case)."""
    seen: set[str] = set()
    terms = []
    for group in groups:
        for term in group:
            text = _line(term)
            if text and text.lower() not in seen:
                seen.add(text.lower())
                terms.append(text)
    return terms


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ is several times slower
class _Record:
    """A paper's fields cleaned once, for whichever format is written."""

    id: str
    title: str
    abstract: str
    journal: str
    year: int | None
    doi: str
    pmid: str
    pmcid: str
    people: list[Person]
    keywords: list[str]  # keywords, labels and tags
    mesh_terms: list[str]
    all_terms: list[str]  # keywords, labels, tags and MeSH terms, for formats with no MeSH field

    @classmethod
    def of(cls, paper: Paper, tags: Sequence[str]) -> _Record:
        year = paper.year if isinstance(paper.year, int) and not isinstance(paper.year, bool) else None
        keywords = _terms(paper.keywords, paper.labels, [tags] if isinstance(tags, str) else tags)
        mesh_terms = _terms(paper.mesh_terms)
        known = {term.lower() for term in keywords} if mesh_terms else set()
        return cls(
            id=_line(paper.id),
            title=_line(paper.title),
            abstract=_line(paper.abstract),
            journal=_line(paper.journal),
            year=year,
            doi=_line(paper.doi),
            pmid=_line(paper.pmid),
            pmcid=_line(paper.pmcid),
            people=[split_name(name) for name in map(_line, paper.authors) if name],
            keywords=keywords,
            mesh_terms=mesh_terms,
            all_terms=keywords + [term for term in mesh_terms if term.lower() not in known] if mesh_terms else keywords,
        )

    @property
    def url(self) -> str:
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/" if self.pmid else ""


class _Writer:
    def write(self, record: _Record, out: TextIO) -> None:
        raise NotImplementedError

    def finish(self, out: TextIO, count: int) -> None:
        """Anything that closes the document (CSL-JSON's ``]``)."""


class _RisLines(RisWriter):
    def set_header(self, count: int) -> str:
        return ""  # rispy numbers records ("1.") by default; readers that sniff for "TY  - " first then fail


class _Ris(_Writer):
    """RIS through rispy. PMID goes in AN (accession number), as EndNote and PubMed-derived RIS put it."""

    def __init__(self) -> None:
        self._rispy = _RisLines()

    def write(self, record: _Record, out: TextIO) -> None:
        entry: dict[str, Any] = {"type_of_reference": "JOUR"}
        optional = {
            "title": record.title,
            "authors": [person.inverted for person in record.people],
            "secondary_title": record.journal,  # T2: Zotero's tag for a journal article's publication title
            "year": str(record.year) if record.year else "",
            "doi": record.doi,
            "accession_number": record.pmid,
            "custom2": f"PMCID: {record.pmcid}" if record.pmcid else "",  # C2, where Zotero puts the PMCID
            "abstract": record.abstract,
            "keywords": record.all_terms,
            "urls": [record.url] if record.url else [],
        }
        entry.update((key, value) for key, value in optional.items() if value)
        self._rispy.format_lines(out, [entry])
        out.write("\n")


def latex_escape(text: str) -> str:
    """``text`` safe inside a braced BibTeX value: specials escaped, ligatures split, Unicode kept as is.

    One ``str.replace`` per special character present (``str.translate`` to multi-character strings is ten
    times slower on non-ASCII text); the backslash waits behind a NUL so the braces of its escape stay unescaped.
    """
    if "\x00" in text:
        text = text.replace("\x00", "")
    if "\\" in text:
        text = text.replace("\\", "\x00")
    for character, escaped in _LATEX_REPLACEMENTS:
        if character in text:
            text = text.replace(character, escaped)
    if "\x00" in text:
        text = text.replace("\x00", _LATEX_SPECIALS["\\"])
    if "--" in text or "`" in text or "''" in text:
        text = _LIGATURE.sub("{}", text)
    return text


def _braced_if(text: str, character: str) -> str:
    return f"{{{text}}}" if character in text else text


def _ascii_word(text: str) -> str:
    return _KEY_CHARS.sub("", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower())


class _Bibtex(_Writer):
    """BibTeX written here, not by bibtexparser: its writer escapes nothing (an unbalanced brace in a title
    swallows the next field) and takes ~150 µs an entry. Keys are "familyYEARword", unique in the file."""

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._last: dict[str, int] = {}

    def _key(self, record: _Record) -> str:
        family = _ascii_word(record.people[0].family.split()[-1]) if record.people else ""
        words = (_ascii_word(word) for word in record.title.split())
        word = next((word for word in words if word and word not in _KEY_STOPWORDS), "")
        base = f"{family}{record.year or ''}{word}" or "paper"
        key, number = base, self._last.get(base, 1)
        while key in self._keys:  # counting on from the base's last number keeps 20,000 alike keys linear
            number += 1
            key = f"{base}-{number}"
        self._keys.add(key)
        self._last[base] = number
        return key

    @staticmethod
    def _author(person: Person) -> str:
        """ "Family, Given"; a one-part name (organisation, single token) in braces so BibTeX keeps it whole,
        as it does a part holding the word "and" (which would otherwise separate two names)."""
        if not person.given:
            return f"{{{latex_escape(person.family)}}}"
        parts = [f"{person.family} {person.suffix}" if person.suffix else person.family, person.given]
        escaped = [latex_escape(part) for part in parts]
        return ", ".join(f"{{{part}}}" if _AND.search(part) else part for part in escaped)

    def write(self, record: _Record, out: TextIO) -> None:
        doi = record.doi
        if _LATEX_SPECIAL.search(doi):  # doi is read verbatim by biblatex: escape only what could break the entry
            doi = re.sub(r"[\\{}]", lambda match: _LATEX_SPECIALS[match.group(0)], doi)
        fields = (
            ("author", " and ".join(self._author(person) for person in record.people)),
            ("title", latex_escape(record.title)),
            ("journal", latex_escape(record.journal)),
            ("year", str(record.year) if record.year else ""),
            ("doi", doi),
            ("pmid", latex_escape(record.pmid)),
            ("pmcid", latex_escape(record.pmcid)),
            ("abstract", latex_escape(record.abstract)),
            # biblatex splits keywords at commas outside braces, so a term holding a comma is braced
            ("keywords", ", ".join(_braced_if(latex_escape(term), ",") for term in record.all_terms)),
        )
        body = "".join(f"  {name} = {{{value}}},\n" for name, value in fields if value)
        out.write(f"@article{{{self._key(record)},\n{body}}}\n\n")


class _Csv(_Writer):
    """Zotero's CSV columns; authors "Last, First; Last, First", PMID and PMCID in Extra, tags "; "-joined.

    Starts with a byte-order mark, as Zotero's export does, so Excel reads the file as UTF-8.
    """

    def __init__(self) -> None:
        self._csv: Any = None

    def _start(self, out: TextIO) -> Any:
        out.write("\ufeff")
        self._csv = csv.writer(out)
        self._csv.writerow(CSV_COLUMNS)
        return self._csv

    def write(self, record: _Record, out: TextIO) -> None:
        rows = self._csv or self._start(out)
        row = (
            record.id,
            "journalArticle",
            str(record.year) if record.year else "",
            "; ".join(person.inverted for person in record.people),
            record.title,
            record.journal,
            record.doi,
            record.url,
            record.abstract,
            _extra(record),
            "; ".join(record.all_terms),
        )
        rows.writerow([csv_cell(cell) for cell in row])

    def finish(self, out: TextIO, count: int) -> None:
        if self._csv is None:  # no papers: still a file with its header
            self._start(out)


def _extra(record: _Record) -> str:
    """Zotero's Extra: one "Key: value" a line ("PMID: 123", "PMCID: PMC456")."""
    lines = [f"PMID: {record.pmid}" if record.pmid else "", f"PMCID: {record.pmcid}" if record.pmcid else ""]
    return "\n".join(line for line in lines if line)


class _CslJson(_Writer):
    """A CSL-JSON array (what Zotero, citeproc and pandoc read), written one item at a time."""

    def __init__(self) -> None:
        self._opened = False

    @staticmethod
    def _person(person: Person) -> dict[str, str]:
        if person.organisation or not person.given:
            return {"literal": person.family} if person.organisation else {"family": person.family}
        name = {"family": person.family, "given": person.given}
        if person.suffix:
            name["suffix"] = person.suffix
        return name

    def write(self, record: _Record, out: TextIO) -> None:
        item: dict[str, Any] = {"id": record.id, "type": "article-journal"}
        optional: dict[str, Any] = {
            "title": record.title,
            "author": [self._person(person) for person in record.people],
            "container-title": record.journal,
            "issued": {"date-parts": [[record.year]]} if record.year else None,
            "DOI": record.doi,
            "PMID": record.pmid,
            "PMCID": record.pmcid,
            "URL": record.url,
            "abstract": record.abstract,
            "keyword": "; ".join(record.all_terms),  # CSL has one keyword string; ";" keeps "a, b" one term
        }
        item.update((key, value) for key, value in optional.items() if value)
        out.write(",\n" if self._opened else "[\n")
        self._opened = True
        out.write(json.dumps(item, ensure_ascii=False))

    def finish(self, out: TextIO, count: int) -> None:
        out.write("\n]\n" if self._opened else "[]\n")


class _Medline(_Writer):
    """MEDLINE/nbib as PubMed writes it, without folding long lines: readers split a folded OT or FAU value
    into two. Keywords, labels and tags go in OT, MeSH terms in MH, the DOI in LID and AID."""

    def write(self, record: _Record, out: TextIO) -> None:
        lines = []
        if record.pmid:
            lines.append(f"PMID- {record.pmid}")
        if record.pmcid:
            lines.append(f"PMC - {record.pmcid}")
        if record.title:
            lines.append(f"TI  - {record.title}")
        if record.doi:
            lines.append(f"LID - {record.doi} [doi]")
        if record.abstract:
            lines.append(f"AB  - {record.abstract}")
        for person in record.people:
            lines.append(f"FAU - {person.inverted}")
            short = f"{person.family} {person.suffix}".strip() if person.suffix else person.family
            lines.append(f"AU  - {short} {person.initials}".rstrip())
        if record.journal:
            lines.append(f"JT  - {record.journal}")
        if record.year:
            lines.append(f"DP  - {record.year}")
        lines.extend(f"OT  - {term}" for term in record.keywords)
        lines.extend(f"MH  - {term}" for term in record.mesh_terms)
        if record.doi:
            lines.append(f"AID - {record.doi} [doi]")
        out.write("\n".join(lines) + "\n\n")


_WRITERS: dict[str, Callable[[], _Writer]] = {
    "ris": _Ris,
    "bibtex": _Bibtex,
    "csv": _Csv,
    "csl-json": _CslJson,
    "medline": _Medline,
}


#: Characters a spreadsheet treats as the start of a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not evaluate: text starting like a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_format(fmt: str | None, name: str | os.PathLike[str] | None) -> str:
    """The export format: as given, else from the file name's extension, else RIS (the CLI's default).

    The one rule for every exporter (``export -o``, ``--export``, ``Library.export``): an extension that
    names no format is refused rather than guessed (``--export list.xlsx`` writes nothing), and so is one
    that names another format than the one given (``--format ris -o refs.bib``)."""
    suffix = Path(name).suffix.lower() if isinstance(name, str | os.PathLike) else ""
    if fmt is not None:
        if fmt not in FORMATS:
            raise InvalidInputError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
        named = _BY_EXTENSION.get(suffix, fmt)
        if named != fmt and suffix not in _ANY_TEXT:
            raise InvalidInputError(
                f"the extension {suffix} means {named}, but the format given is {fmt}: change the file name "
                "or the format (or leave the format out: it follows the extension)"
            )
        return fmt
    if not suffix:
        return "ris"
    if suffix not in _BY_EXTENSION:
        raise InvalidInputError(
            f"cannot tell the export format from {suffix!r}: give the format (one of {', '.join(FORMATS)}) or "
            f"use one of the extensions {', '.join(_BY_EXTENSION)}"
        )
    return _BY_EXTENSION[suffix]


def write_export(path: Path, write: Callable[[TextIO], int]) -> int:
    """Run ``write`` into a temporary file beside ``path`` and move it into place: a reader never sees half
    an export, and a failed export leaves an earlier file of that name as it was."""
    with atomic_writer(path, newline="") as handle:  # newline="": CSV writes its own line ends
        return write(handle)
