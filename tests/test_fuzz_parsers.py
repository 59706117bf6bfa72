"""Property-based fuzzing of every input parser (hypothesis): no input crashes, hangs or breaks a paper.

Every reader is driven through the public entry points (``read_paths`` for files, ``read_records`` for JSON
given in memory) with arbitrary bytes and text, and with near-valid documents of each format: RIS, MEDLINE,
BibTeX, PubMed XML, Zotero RDF, CSV/TSV, JSON/JSONL, HTML and plain-text pages, identifier lists, raw or
gzip-compressed (intact, truncated or corrupted), in several encodings, and a Zotero library database with
damaged bytes. The JSON streamer of documents over the 20 MB cap and the identifier-list parser are driven
directly too. The properties:

* reading returns papers and rejections, or raises a :class:`~recommender.errors.RecommenderError`, and
  nothing else, within a time limit (a hang fails the test);
* every paper returned holds the invariants the store, the index and the API rely on (see
  :func:`check_paper`), and survives the store's JSON round trip;
* a paper written as JSON Lines is read back as itself;
* identifier normalisation (DOI, PMID, PMCID, ids, text) never raises and is idempotent, and a parsed
  identifier list holds only normalised identifiers, each once;
* a streamed JSON array gives what ``json.loads`` gives, however the read buffer cuts it;
* the tokenizer turns any text into string tokens and keeps gene symbols whole.

Runs are random (that is the point of fuzzing); ``--hypothesis-seed=N`` repeats one, and a failure prints
the falsifying example. A few thousand cases are generated per run (counted, and checked by the last test);
``FUZZ_SCALE=10`` runs ten times as many.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import gzip
import io
import json
import os
import re
import signal
import sqlite3
import string
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from recommender.errors import RecommenderError
from recommender.ingest import Rejected, json_stream, read_paths, read_records
from recommender.ingest.fields import SYNONYMS
from recommender.ingest.identifiers import parse_identifiers
from recommender.ingest.json_stream import JsonItemTooLarge, JsonStreamError, stream_items
from recommender.paper import (
    MAX_ID_LENGTH,
    Paper,
    assign_id,
    clean_text,
    content_id,
    normalize_doi,
    normalize_pmcid,
    normalize_pmid,
    title_key,
    utf8_safe,
)
from recommender.tokenizer import (
    STOPWORDS,
    bigrams,
    index_terms,
    segments,
    spellings,
    stem,
    surface_tokens,
    symbol_key,
    tokenize,
)

HANG_SECONDS = 10.0  # one small generated input taking this long is a hang, not a slow machine
MAX_YEAR = date.today().year + 1
#: ``FUZZ_SCALE=10`` multiplies every test's number of cases, for a longer hunt than the default run.
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
CASES: Counter[str] = Counter()  # generated cases run, per test (checked by the last test)
MIN_CASES = 3000


def fuzz(examples: int) -> settings:
    """Settings of one fuzz test: ``examples`` generated cases, no per-case deadline (shared CPU)."""
    return settings(
        max_examples=max(1, round(examples * SCALE)),
        deadline=None,
        database=None,  # no .hypothesis/ folder in the repository; a failure prints its example instead
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.filter_too_much,
        ],
    )


# ---------------------------------------------------------------------------------------------- harness
class ParserHang(AssertionError):
    """A parser ran longer than :data:`HANG_SECONDS` on one small input."""


@contextlib.contextmanager
def time_limit(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Fail (instead of hanging the run) when the body takes longer than ``seconds`` (Unix, main thread)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise ParserHang(f"still parsing after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the whole module (hypothesis re-runs a test body many times per function fixture)."""
    return tmp_path_factory.mktemp("fuzz")


def has_control(text: str) -> bool:
    return any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in text)


def check_paper(paper: Paper) -> None:
    """The invariants every reader's paper must hold, as the rest of the system relies on them."""
    assert isinstance(paper, Paper)
    # Identity (paper.assign_id): a non-empty, clean id the API can look up (paper.check_reference).
    assert isinstance(paper.id, str) and paper.id and paper.id == clean_text(paper.id)
    assert len(paper.id) <= MAX_ID_LENGTH and not has_control(paper.id), paper.id
    # Text fields are clean_text'd strings; the abstract is never empty (records.to_paper).
    assert isinstance(paper.abstract, str) and paper.abstract and paper.abstract == clean_text(paper.abstract)
    assert isinstance(paper.title, str) and paper.title == clean_text(paper.title)
    assert paper.journal is None or (isinstance(paper.journal, str) and paper.journal == clean_text(paper.journal))
    assert paper.journal != ""
    # Identifiers are already normalised (the store matches duplicates on them).
    assert paper.doi is None or (isinstance(paper.doi, str) and normalize_doi(paper.doi) == paper.doi)
    assert paper.pmid is None or (isinstance(paper.pmid, str) and normalize_pmid(paper.pmid) == paper.pmid)
    assert paper.pmcid is None or (isinstance(paper.pmcid, str) and normalize_pmcid(paper.pmcid) == paper.pmcid)
    # A plausible publication year (fields.parse_year), as an int (filters compare it with numbers).
    assert paper.year is None or (type(paper.year) is int and 1800 <= paper.year <= MAX_YEAR), paper.year
    for name in ("authors", "keywords", "mesh_terms", "labels"):
        values = getattr(paper, name)
        assert isinstance(values, list) and all(isinstance(value, str) for value in values), (name, values)
    assert isinstance(paper.source, str)
    # What the store and the snapshots do: JSON written as UTF-8 and read back equal; the text hashed.
    record = json.dumps(paper.to_dict(), ensure_ascii=False)
    record.encode("utf-8")
    assert Paper.from_dict(json.loads(record)) == paper
    assert len(paper.text_hash()) == 64
    assert isinstance(paper.text, str) and isinstance(paper.display_title, str)


def check_items(items: list[tuple[str, str | None, Paper | Rejected]], source: str) -> list[Paper]:
    papers = []
    for item_source, position, item in items:
        assert item_source == source
        assert position is None or isinstance(position, str)
        if isinstance(item, Rejected):
            assert isinstance(item.reason, str) and item.reason
        else:
            check_paper(item)
            assert item.source is not None and item.source.startswith(utf8_safe(source))
            papers.append(item)
    return papers


def ingest_path(path: Path, columns: dict[str, str] | None = None) -> list[Paper]:
    """Read one file through the public entry point; only the package's own errors may escape."""
    with time_limit():
        try:
            items = list(read_paths([path], columns))
        except RecommenderError:
            return []  # a clean failure
    return check_items(items, str(path))


def ingest_bytes(workdir: Path, data: bytes, suffix: str, columns: dict[str, str] | None = None) -> list[Paper]:
    path = workdir / f"input{suffix}"
    path.write_bytes(data)
    return ingest_path(path, columns)


# ------------------------------------------------------------------------------------------- strategies
# Awkward fragments that real files contain: markup, entities (valid, unknown, NUL, surrogate), LaTeX,
# delimiters, control and invisible characters, identifiers, numbers JSON cannot hold as an int.
ATOMS = [
    "cancer", "IL-6", "STAT3", "TGF-β", "p<0.05", "<i>italic</i>", "<sup>2</sup>", "</p>", "<script>x</script>",
    "&amp;", "&lt;b&gt;", "&#0;", "&#xD800;", "&#55296;", "&bogus;", "&#x1F600;", "{", "}", "{{", "}}", "\\", '"',
    "'", ",", ";", ":", "%", "#", "@", "$", "=", "[", "]", "(", ")", "<", ">", "&", "\t", "\r", "\n", "\r\n",
    "\u00a0", "\u2028", "\ufeff", "\u200b", "\x00", "\x0b", "\x1b", "\x1f", "\x7f", "\x85", "\ud800", "\udfff",
    "10.1000/xyz", "doi:10.1234/ABC.", "https://doi.org/10.5555/Q(1)", "PMID: 123", "0", "2019", "1799", "99999",
    "1e400", "NaN", "-Infinity", "Abstract", "Background:", "et al.", "and", "ü", "中文", "\U0001f600", "İ", "ß",
    "\u0301", "ﬁ", r'\"u', r"\textit{x}", r"\emph{", r"\\", "$x^2$", r"\char", r"\begin{itemize}",
]  # fmt: skip
atoms = st.sampled_from(ATOMS)
SEPARATORS = st.sampled_from([" ", "", " ", "\n"])
words = st.one_of(atoms, st.text(max_size=8), st.text(string.ascii_letters + string.digits, min_size=1, max_size=8))


def texts(max_parts: int = 8) -> st.SearchStrategy[str]:
    """Field text: words and awkward fragments, joined by spaces, nothing or newlines."""
    return st.builds(lambda parts, separator: separator.join(parts), st.lists(words, max_size=max_parts), SEPARATORS)


def one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


PROSE = (
    "Cancer-associated fibroblasts secrete IL-6, which activates STAT3 in tumour cells and drives invasion. "
    "Blocking IL-6 restores sensitivity to chemotherapy in co-cultures of pancreatic cancer cells."
)
prose = st.one_of(st.just(PROSE), st.builds(lambda a, b: f"{PROSE} {a} {b}", texts(), texts()))


@st.composite
def encoded(draw: st.DrawFn, documents: st.SearchStrategy[str]) -> bytes:
    """A document as the bytes of a file: UTF-8 (lone surrogates kept as invalid bytes), with a BOM, UTF-16
    or Windows-1252."""
    document = draw(documents)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    if encoding == "utf-8":
        return document.encode("utf-8", errors="surrogatepass")
    return document.encode(encoding, errors="replace")


class Pool:
    """A few values drawn once per document and handed out in turn.

    Drawing every field's text separately makes generation, not parsing, the cost of a case; a small pool per
    document keeps the variety across cases at a fraction of the draws.
    """

    def __init__(self, draw: st.DrawFn, values: st.SearchStrategy[str], size: int = 4) -> None:
        self.items = draw(st.lists(values, min_size=1, max_size=size))
        self.turn = draw(st.integers(0, size))

    def __call__(self) -> str:
        self.turn += 1
        return self.items[self.turn % len(self.items)]


# RIS -----------------------------------------------------------------------------------------------------
RIS_TAGS = ["AB", "TI", "AB", "TI", "TY", "T1", "N2", "AU", "A1", "PY", "Y1", "DA", "JO", "JF", "T2", "J2", "DO", "KW", "ID", "UR",
            "SP", "VL", "ER", "XX", "ty", "T", "TY1", "N1"]  # fmt: skip


@st.composite
def ris_documents(draw: st.DrawFn) -> str:
    value = Pool(draw, st.one_of(prose, texts(), st.sampled_from(["2020///", "2019/03/01", "10.1000/Abc."])))
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 3))):  # choices are listed well-formed first, and often
        start = draw(
            st.sampled_from(["TY  - JOUR", "TY  - JOUR", "TY  - ", "TY - JOUR", "TY  -", "", "TY  - JOUR  - x"])
        )
        if start:
            lines.append(start)
        for _ in range(draw(st.integers(0, 8))):
            tag = draw(st.sampled_from(RIS_TAGS))
            separator = draw(st.sampled_from(["  - ", "  - ", "  - ", " - ", "  -", "- ", "  -  \t", ""]))
            lines.append(f"{tag}{separator}{one_line(value())}")
            if draw(st.integers(0, 3)) == 0:
                lines.append(one_line(value()))  # a continuation or stray line
        if draw(st.integers(0, 3)):
            lines.append(draw(st.sampled_from(["ER  - ", "ER  - ", "ER  -", "ER - ", "ER  - junk"])))
        lines.extend([""] * draw(st.integers(0, 2)))
    return draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)


# MEDLINE -------------------------------------------------------------------------------------------------
MEDLINE_TAGS = ["AB", "TI", "AB", "PMID", "TT", "FAU", "AU", "DP", "DEP", "JT", "TA", "LID", "AID", "OT", "MH", "OWN",
                "STAT", "PT", "X", "ABCDE", "pmid"]  # fmt: skip


@st.composite
def medline_documents(draw: st.DrawFn) -> str:
    value = Pool(
        draw,
        st.one_of(
            prose,
            texts(),
            st.sampled_from(["10.1000/abc [doi]", "S0140 [pii]", "*Neoplasms/therapy", "*/x", "2019 Mar 5", "123"]),
        ),
    )
    records: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        lines = [f"PMID- {one_line(value())}"] if draw(st.booleans()) else []
        for _ in range(draw(st.integers(1, 8))):
            tag = draw(st.sampled_from(MEDLINE_TAGS))
            lines.append(f"{tag:<4}{draw(st.sampled_from(['- ', '- ', '-', ' - ', '-  ']))}{one_line(value())}")
            for _ in range(draw(st.integers(0, 2))):
                lines.append(draw(st.sampled_from(["      ", "     ", "\t", ""])) + one_line(value()))
        records.append("\n".join(lines))
    return draw(st.sampled_from(["\n\n", "\n", "\r\n\r\n"])).join(records)


# BibTeX --------------------------------------------------------------------------------------------------
BIB_FIELDS = ["abstract", "title", "abstract", "author", "journal", "journaltitle", "booktitle", "year", "date", "doi", "pmid",
              "keywords", "note", "Title", "ABSTRACT", "x y", ""]  # fmt: skip


def bib_value(draw: st.DrawFn, text: str, broken: bool) -> str:
    """A field value around ``text``: braced, quoted, bare, concatenated, nested, or LaTeX groups and
    environments nested hundreds of levels deep; when ``broken``, also unbalanced, and the text keeps its own
    braces and quotes."""
    forms = ["braces", "braces", "quotes", "bare", "concat", "nested", "deep", "environments"]
    form = draw(st.sampled_from([*forms, "unbalanced", "brackets"] if broken else forms))
    if not broken:
        text = text.replace("{", "(").replace("}", ")").replace('"', "'").replace("@", "at")
    depth = draw(st.integers(1, 600)) if form in ("deep", "environments", "brackets") else 0
    if form == "braces":
        return "{" + text + "}"
    if form == "quotes":
        return '"' + text + '"'
    if form == "bare":
        return draw(st.sampled_from(["2020", "jan", "MACRO", "", "1e5"]))
    if form == "concat":
        return '"' + text + '" # {' + text + "} # jan"
    if form == "nested":
        return "{{" + text + "} {\\'e}}"
    if form == "unbalanced":
        return draw(st.sampled_from(["{", "}", "{{", '"'])) + text
    if form == "environments":
        return "{" + "\\begin{itemize}" * depth + text + "\\end{itemize}" * depth + "}"
    if form == "brackets":
        return "{" + "\\item[" * depth + text + "}"
    closing = depth if not broken else draw(st.sampled_from([depth, depth - 1, 0]))
    return "{" + "{" * depth + "\\textit{x} " + text + "}" * closing + "}"


@st.composite
def bibtex_documents(draw: st.DrawFn) -> str:
    """Entries, one in four broken (odd delimiters, keys, separators, duplicate fields, unbalanced values)."""
    text = Pool(draw, st.one_of(prose, texts(), st.sampled_from(["Doe, John and {Smith}, A. and others", "2020"])))
    blocks: list[str] = []
    for number in range(draw(st.integers(1, 3))):
        broken = draw(st.integers(0, 3)) == 0
        kind = draw(st.sampled_from(["article", "Article", "book", "misc", "string", "comment", "preamble", "x"]))
        if broken:
            opener, closer = draw(st.sampled_from([("(", ")"), ("{", ""), ("{", "}}"), ("{", ")")]))
            key = draw(st.sampled_from(["key", "", "a b", "k,", "k{"]))
            names = draw(st.lists(st.sampled_from(BIB_FIELDS), min_size=1, max_size=6))
            separator = draw(st.sampled_from([", ", ",,", "\n", ",\n  "]))
        else:
            opener, closer, key, separator = "{", "}", f"key{number}", ",\n  "
            names = draw(st.lists(st.sampled_from(BIB_FIELDS), min_size=1, max_size=6, unique_by=str.lower))
        fields = [f"{name} = {bib_value(draw, text(), broken)}" for name in names]
        blocks.append(f"@{kind}{opener}{key},\n  {separator.join(fields)}\n{closer}")
        if draw(st.integers(0, 3)) == 0:
            blocks.append(text())  # text between entries
    return "\n\n".join(blocks)


# PubMed XML ----------------------------------------------------------------------------------------------
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_escape(text: str) -> str:
    """Text as valid XML character data: escaped, and without the characters XML 1.0 forbids."""
    return _NOT_XML.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def xml_texts(draw: st.DrawFn) -> str:
    """Element text: escaped, raw (may break the XML), with inline markup, entities or CDATA."""
    text = draw(st.one_of(prose, texts()))
    form = draw(st.sampled_from(["escaped", "escaped", "escaped", "raw", "inline", "entity", "cdata"]))
    if form == "escaped":
        return xml_escape(text)
    if form == "inline":
        math = '<mml:math xmlns:mml="http://www.w3.org/1998/Math/MathML"><mml:mi>x</mml:mi></mml:math>'
        return f"<i>{xml_escape(text)}</i> and H<sub>2</sub>O {math}"
    if form == "entity":
        return xml_escape(text) + draw(st.sampled_from(["&amp;", "&#x3B1;", "&#0;", "&unknown;", "&#xD800;", "&lol;"]))
    if form == "cdata":
        return f"<![CDATA[{text}]]>"
    return text


@st.composite
def pubmed_articles(draw: st.DrawFn) -> str:
    """One article (or book chapter) with each element present or not, texts taken in turn from a small pool."""
    flags = draw(st.integers(0, 2**30))
    present = draw(st.lists(st.integers(0, 3), min_size=24, max_size=24))
    pool = draw(st.lists(xml_texts(), min_size=1, max_size=5))
    counts = draw(st.tuples(st.integers(1, 3), *[st.integers(0, 3)] * 3))
    turn = iter(range(10**6))

    def text() -> str:
        return pool[next(turn) % len(pool)]

    def maybe(element: str) -> str:
        return element if present[next(turn) % 24] else ""  # present three times in four

    def tagged(tag: str, attributes: str = "") -> str:
        return maybe(f"<{tag}{attributes}>{text()}</{tag}>")

    labels = ["BACKGROUND", "UNLABELLED", "", "a&amp;b"]
    abstract = "".join(
        f'<AbstractText Label="{labels[index % 4]}">{text()}</AbstractText>' for index in range(counts[0])
    )
    authors = "".join(
        f"<Author>{tagged('LastName')}{tagged('ForeName')}{tagged('Initials')}{tagged('CollectiveName')}</Author>"
        for _ in range(counts[1])
    )
    year = ["2019", "1750", "99999", "2019 Dec-2020 Jan", "", "abc"][flags % 6]
    date_element = maybe(f"<PubDate><Year>{year}</Year></PubDate>") or maybe(
        f"<PubDate><MedlineDate>{year}</MedlineDate></PubDate>"
    )
    doi = maybe(f'<ELocationID EIdType="doi">{text()}</ELocationID>')
    keywords = "".join(f"<Keyword>{text()}</Keyword>" for _ in range(counts[2]))
    mesh = "".join(f"<MeshHeading><DescriptorName>{text()}</DescriptorName></MeshHeading>" for _ in range(counts[3]))
    pmid = str(flags) if flags & 1 else text()
    ids = maybe(f'<PubmedData><ArticleIdList><ArticleId IdType="doi">{text()}</ArticleId></ArticleIdList></PubmedData>')
    abstract_element = maybe(f"<Abstract>{abstract}</Abstract>")
    author_list = maybe(f"<AuthorList>{authors}</AuthorList>")
    if flags % 5 == 0:  # a book chapter
        return (
            f"<PubmedBookArticle><BookDocument><PMID>{pmid}</PMID>{tagged('ArticleTitle')}"
            f"<Book>{tagged('BookTitle')}{date_element}</Book>{abstract_element}{author_list}</BookDocument>"
            f"{ids}</PubmedBookArticle>"
        )
    journal = maybe(f"<Journal>{tagged('Title')}<JournalIssue>{date_element}</JournalIssue></Journal>")
    article = maybe(
        f"<Article>{journal}{tagged('ArticleTitle')}{tagged('VernacularTitle')}{abstract_element}{author_list}"
        f"{doi}</Article>"
    )
    citation = maybe(f"<MedlineCitation><PMID>{pmid}</PMID>{article}")
    keyword_list = maybe(f"<KeywordList>{keywords}</KeywordList>")
    mesh_list = maybe(f"<MeshHeadingList>{mesh}</MeshHeadingList>")
    end = "</MedlineCitation>" if citation else ""
    return f"<PubmedArticle>{citation}{keyword_list}{mesh_list}{end}{ids}</PubmedArticle>"


@st.composite
def pubmed_documents(draw: st.DrawFn) -> str:
    prolog = draw(
        st.sampled_from(
            [
                '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
                '1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n',
                '<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [<!ENTITY lol "lol"><!ENTITY ext SYSTEM "file:///etc/passwd">]>\n',
                "",
            ]
        )
    )
    articles = "".join(draw(st.lists(pubmed_articles(), min_size=1, max_size=3)))
    document = prolog + (f"<PubmedArticleSet>{articles}</PubmedArticleSet>" if draw(st.booleans()) else articles)
    if draw(st.integers(0, 4)) == 0:
        document = document[: draw(st.integers(1, len(document)))]  # truncated
    return document


# CSV / TSV -----------------------------------------------------------------------------------------------
COLUMNS = ["title", "Title", "abstract", "Abstract", "AB", "TI", "doi", "DOI", "pmid", "PMID", "year", "authors",
           "journal", "keywords", "id", "Summary", "x", "", "Abstract Text"]  # fmt: skip


# --column FIELD=NAME mappings, naming a column that exists or not
column_maps = st.none() | st.dictionaries(
    st.sampled_from(["abstract", "title", "id", "doi", "pmid", "year", "authors"]),
    st.one_of(st.sampled_from(COLUMNS), st.text(max_size=6)),
    max_size=2,
)


@st.composite
def table_documents(draw: st.DrawFn) -> str:
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    width = draw(st.integers(1, 6))
    header = [draw(st.one_of(st.sampled_from(COLUMNS), texts(2))) for _ in range(width)]
    value = Pool(draw, st.one_of(prose, texts(), st.sampled_from(["2019", "10.1000/x", "123"])))
    rows = [[value() for _ in range(draw(st.integers(0, width + 2)))] for _ in range(draw(st.integers(0, 5)))]
    if draw(st.booleans()):  # written properly
        buffer = io.StringIO()
        writer = csv.writer(
            buffer, delimiter=delimiter, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
        )
        writer.writerows([header, *rows])
        return buffer.getvalue()
    # written naively: delimiters, quotes and newlines inside values break the rows
    return "\n".join(delimiter.join(row) for row in [header, *rows])


# JSON / JSON Lines ---------------------------------------------------------------------------------------
JSON_KEYS = [
    *sorted({alias for aliases in SYNONYMS.values() for alias in aliases}),
    "papers", "records", "@type", "@graph", "name", "given", "family", "#text", "value", "Title", "AB", "mesh_terms",
]  # fmt: skip
json_keys = st.one_of(st.sampled_from(JSON_KEYS), st.text(max_size=8))
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), texts(), st.sampled_from([PROSE, "2019-03-01", "10.1/x"])
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(json_keys, children, max_size=5)),
    max_leaves=10,
)
json_records = st.dictionaries(json_keys, json_values, max_size=8).map(
    lambda record: record if "abstract" in record or not record else {**record, "abstract": PROSE}
)


@dataclasses.dataclass(frozen=True)
class Deep:
    """A record whose field nests lists or name-objects up to thousands of levels deep, with its JSON text
    (``json.dumps`` itself gives up at about a thousand levels)."""

    value: dict[str, Any]
    text: str


@st.composite
def deep_records(draw: st.DrawFn) -> Deep:
    depth = draw(st.integers(1, 3000))
    shape = draw(st.sampled_from(["list", "name", "mixed"]))
    key = draw(st.sampled_from(["journal", "keywords", "title", "id", "authors", "x"]))
    leaf = draw(texts())
    value: Any = leaf
    opening, closing = [], []
    for level in range(depth):
        if shape == "list" or (shape == "mixed" and level % 2):
            value, piece = [value], ("[", "]")
        else:
            value, piece = {"name": value}, ('{"name": ', "}")
        opening.append(piece[0])
        closing.append(piece[1])
    text = f'{{"abstract": "{PROSE}", "{key}": {"".join(reversed(opening))}{json.dumps(leaf)}{"".join(closing)}}}'
    return Deep({"abstract": PROSE, key: value}, text)


def has_deep(value: Any) -> bool:
    if isinstance(value, list):
        return any(has_deep(item) for item in value)
    if isinstance(value, dict):
        return any(has_deep(item) for item in value.values())
    return isinstance(value, Deep)


def to_json(value: Any, indent: int | None = None) -> str:
    """JSON text of generated values, deep records included."""
    if isinstance(value, Deep):
        return value.text
    if not has_deep(value):
        return json.dumps(value, indent=indent)
    if isinstance(value, list):
        return "[" + ", ".join(to_json(item) for item in value) + "]"
    return "{" + ", ".join(f"{json.dumps(key)}: {to_json(item)}" for key, item in value.items()) + "}"


def in_memory(value: Any) -> Any:
    """Generated values as a JSON parser would hand them over (deep records as objects)."""
    if isinstance(value, Deep):
        return value.value
    if isinstance(value, list):
        return [in_memory(item) for item in value]
    return value


@st.composite
def json_documents(draw: st.DrawFn) -> str:
    records = draw(st.lists(st.one_of(json_records, json_values, deep_records()), max_size=4))
    shape = draw(st.sampled_from(["lines", "lines", "list", "papers", "single"]))
    if shape == "lines":
        lines = [to_json(record) for record in records]
        if lines and draw(st.booleans()):
            index = draw(st.integers(0, len(lines) - 1))
            lines[index] = lines[index][: draw(st.integers(0, len(lines[index])))]  # a broken line
        return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))
    if shape == "list":
        return to_json(records, indent=draw(st.sampled_from([None, 1])))
    if shape == "papers":
        return to_json({"papers": records, "count": len(records)})
    return to_json(records[0] if records else {})


# HTML ----------------------------------------------------------------------------------------------------
META_NAMES = ["citation_title", "citation_abstract", "citation_doi", "citation_pmid", "citation_journal_title",
              "citation_publication_date", "citation_author", "citation_keywords", "dc.title", "dc.description",
              "dc.identifier", "dc.creator", "og:title", "description", "x"]  # fmt: skip


def attribute(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;")


@st.composite
def html_elements(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["meta", "title", "ldjson", "script", "abstract", "p", "raw", "comment", "unclosed"]))
    text = draw(st.one_of(prose, texts()))
    if kind == "meta":
        return f'<meta name="{draw(st.sampled_from(META_NAMES))}" content="{attribute(text)}">'
    if kind == "title":
        return f"<title>{text} | Journal</title>"
    if kind == "ldjson":
        record = draw(st.one_of(json_records, json_values, deep_records()))
        if isinstance(record, dict) and draw(st.booleans()):
            record = {**record, "@type": draw(st.sampled_from(["ScholarlyArticle", ["Article"], {"x": 1}]))}
        body = to_json(record) if draw(st.integers(0, 4)) else text
        return f'<script type="application/ld+json">{body}</script>'
    if kind == "script":
        return f"<script>{text}</script><style>p {{ {text} }}</style>"
    if kind == "abstract":
        tag = draw(st.sampled_from(["div", "section", "p"]))
        attributes = draw(
            st.sampled_from(['id="abstract"', 'class="Abstract abstract-text"', 'itemprop="description"'])
        )
        return f"<{tag} {attributes}><h2>Abstract</h2><p>{text}</p><p>{PROSE}</p></{tag}>"
    if kind == "p":
        return f"<{draw(st.sampled_from(['p', 'h1', 'li', 'span', 'div', 'br', 'math', 'svg']))}>{text}</p>"
    if kind == "comment":
        return f"<!-- {text} --><![CDATA[{text}]]>"
    if kind == "unclosed":
        return f"<div><p><b>{text}" + "<div>" * draw(st.integers(0, 300))
    return text


@st.composite
def html_documents(draw: st.DrawFn) -> str:
    head = "".join(draw(st.lists(html_elements(), max_size=4)))
    body = "".join(draw(st.lists(html_elements(), max_size=5)))
    if draw(st.booleans()):
        return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"
    return f"<div>{head}</div>\n<p>{body}</p>\n<h1>{draw(texts())}</h1>\n"  # a fragment of tagged lines


# Plain-text pages ----------------------------------------------------------------------------------------
PAGE_LINES = [
    "Abstract", "ABSTRACT", "Summary", "Abstract: " + PROSE, "Abstract" + PROSE, "Background: " + PROSE, "Methods",
    "Results:", "Conclusions", "Keywords: fibroblasts; IL-6; STAT3", "Keywords", "MeSH terms", "PMID: 12345678",
    "DOI: 10.1234/ABC.5", "https://doi.org/10.1016/S0140-6736(20)30183-5", "Smith J, Doe A, et al.",
    "Wang, Liming, Liu, Mei", "Nature. 2020 Jan;5(3):1-10.", "Smith et al. Cell Reports. 2019",
    "Cell Reports, 12 March 2019, 5", "Vol. 5, Issue 3, March 2020", "Published: 12 March 2021", "References",
    "Generated on 2024", "Cookie settings", "•  a bullet", "1. Introduction", "Share", "期刊介绍", "[Title in English].",
    "{\"title\": \"Embedded record\", \"abstract\": \"" + PROSE + "\"}", "A Title of the Paper Repeated Here",
]  # fmt: skip


@st.composite
def page_documents(draw: st.DrawFn) -> str:
    text = Pool(draw, st.one_of(prose, texts(6)))
    lines = [
        line or text() for line in draw(st.lists(st.sampled_from([*PAGE_LINES, "", "", ""]), min_size=1, max_size=14))
    ]
    return "\n".join(lines)


# Zotero RDF ----------------------------------------------------------------------------------------------
ZOTERO_RDF_ROOT = (
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns:z="http://www.zotero.org/namespaces/export#" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:bib="http://purl.org/net/biblio#" xmlns:foaf="http://xmlns.com/foaf/0.1/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/">'
)
ITEM_TYPES = ["journalArticle", "journalArticle", "book", "note", "attachment", "preprint", ""]


@st.composite
def zotero_rdf_items(draw: st.DrawFn) -> str:
    """One item as Zotero writes it, each part present or not, texts from a small pool (some breaking XML)."""
    text = Pool(draw, xml_texts())
    parts = [f"<z:itemType>{draw(st.sampled_from(ITEM_TYPES))}</z:itemType>"]
    if draw(st.booleans()):
        parts.append(
            f"<dcterms:isPartOf><bib:Journal><dc:title>{text()}</dc:title>"
            f"<dc:identifier>DOI {text()}</dc:identifier></bib:Journal></dcterms:isPartOf>"
        )
    people = "".join(
        f"<rdf:li><foaf:Person><foaf:surname>{text()}</foaf:surname><foaf:givenName>{text()}</foaf:givenName>"
        "</foaf:Person></rdf:li>"
        for _ in range(draw(st.integers(0, 3)))
    )
    if draw(st.booleans()):
        parts.append(f"<bib:authors><rdf:Seq>{people}</rdf:Seq></bib:authors>")
    for tag in draw(
        st.lists(
            st.sampled_from(["dc:title", "dcterms:abstract", "dc:date", "dc:description", "dc:subject"]), max_size=6
        )
    ):
        parts.append(f"<{tag}>{text()}</{tag}>")
    if draw(st.booleans()):
        parts.append(f"<dc:subject><z:AutomaticTag><rdf:value>{text()}</rdf:value></z:AutomaticTag></dc:subject>")
    about = draw(st.sampled_from(["#item_1", "#item_2", "http://example.org/a", "urn:isbn:1", ""]))
    element = draw(st.sampled_from(["bib:Article", "rdf:Description", "bib:Book", "z:Attachment"]))
    return f'<{element} rdf:about="{about}">{"".join(parts)}<dcterms:abstract>{PROSE}</dcterms:abstract></{element}>'


@st.composite
def zotero_rdf_documents(draw: st.DrawFn) -> str:
    items = "".join(draw(st.lists(zotero_rdf_items(), min_size=1, max_size=3)))
    collections = "".join(
        f'<z:Collection rdf:about="#collection_{number}"><dc:title>{draw(texts(3)).replace("<", "")}</dc:title>'
        f'<dcterms:hasPart rdf:resource="{draw(st.sampled_from(["#item_1", "#item_2", "#collection_1", "#collection_2"]))}"/>'
        "</z:Collection>"
        for number in range(draw(st.integers(0, 3)))
    )
    prolog = draw(
        st.sampled_from(
            ['<?xml version="1.0" encoding="UTF-8"?>\n', "", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>']
        )
    )
    document = f"{prolog}{ZOTERO_RDF_ROOT}{items}{collections}</rdf:RDF>"
    if draw(st.integers(0, 4)) == 0:
        document = document[: draw(st.integers(1, len(document)))]  # truncated
    return document


# Identifier lists ----------------------------------------------------------------------------------------
IDENTIFIER_ATOMS = [
    "39000001", "PMID: 38000002", "pmid:37000003", "PMC9000001", "PMCID: PMC9000002", "10.5555/JSO.2023.9",
    "doi:10.5555/x.1", "https://doi.org/10.5555/Q(1)", "https://pubmed.ncbi.nlm.nih.gov/36000004/",
    "https://pmc.ncbi.nlm.nih.gov/articles/PMC9000003/", "10.1002/(SICI)1097-4636(199706)35:4<464::AID-JBM6>3.0.CO;2-D",
    "PMID", "DOI:", "0", "1234567890", "PMC", "10.12/x", "anoikis", "(39000001)", '"10.5555/q.2".',
]  # fmt: skip
SEPARATORS_OF_IDS = ["\n", "\r\n", ", ", ",", ";", "; ", " ", "\t", "\n\n"]


@st.composite
def identifier_lists(draw: st.DrawFn) -> str:
    tokens = draw(st.lists(st.one_of(st.sampled_from(IDENTIFIER_ATOMS), words), max_size=30))
    return "".join(token + draw(st.sampled_from(SEPARATORS_OF_IDS)) for token in tokens)


ANY_DOCUMENT = st.one_of(
    zotero_rdf_documents(),
    identifier_lists(),
    ris_documents(),
    medline_documents(),
    bibtex_documents(),
    pubmed_documents(),
    table_documents(),
    json_documents(),
    html_documents(),
    page_documents(),
)
SUFFIXES = st.sampled_from(
    [".txt", ".csv", ".tsv", ".json", ".jsonl", ".xml", ".bib", ".ris", ".nbib", ".html", ".rdf", ".sqlite", ""]
)


def count(name: str) -> None:
    CASES[name] += 1


# ---------------------------------------------------------------------------------- any input, any format
@fuzz(1000)
@given(data=st.binary(max_size=3000), suffix=SUFFIXES)
@example(data=b"\x1f\x8b", suffix=".gz")
@example(data=b"%PDF-1.7\n", suffix=".txt")
@example(data=b"SQLite format 3\x00" + b"\x00" * 200, suffix=".sqlite")
def test_arbitrary_bytes_are_read_or_rejected(workdir: Path, data: bytes, suffix: str) -> None:
    count("bytes")
    ingest_bytes(workdir, data, suffix)


@fuzz(800)
@given(data=encoded(st.text(max_size=2000)), suffix=SUFFIXES)
@example(data=b"0\r;", suffix=".txt")  # a lone CR in a header-like first line
def test_arbitrary_text_is_read_or_rejected(workdir: Path, data: bytes, suffix: str) -> None:
    count("text")
    ingest_bytes(workdir, data, suffix)


@fuzz(200)
@given(data=encoded(ris_documents()), suffix=st.sampled_from([".ris", ".txt"]))
@example(data=b"TY  - JOUR\nAB  - x\nTI  - t\nER  - \nTY  - JOUR\norphan line\nAB  - y\nER  - \n", suffix=".ris")
def test_ris(workdir: Path, data: bytes, suffix: str) -> None:
    count("ris")
    ingest_bytes(workdir, data, suffix)


@fuzz(200)
@given(data=encoded(medline_documents()), suffix=st.sampled_from([".nbib", ".txt"]))
@example(data=b"PMID- 1\nAB  - x\n\n      orphan\nPMID- 2\nAB  - y\n", suffix=".nbib")
def test_medline(workdir: Path, data: bytes, suffix: str) -> None:
    count("medline")
    ingest_bytes(workdir, data, suffix)


@fuzz(150)
@given(data=encoded(bibtex_documents()))
@example(data=b"@article{k,\n  abstract = {" + b"{" * 1000 + b"\\'e x" + b"}" * 1000 + b"}\n}\n")
def test_bibtex(workdir: Path, data: bytes) -> None:
    count("bibtex")
    ingest_bytes(workdir, data, ".bib")


@fuzz(150)
@given(data=pubmed_documents().map(lambda text: text.encode("utf-8", errors="surrogatepass")))
def test_pubmed_xml(workdir: Path, data: bytes) -> None:
    count("pubmed_xml")
    ingest_bytes(workdir, data, ".xml")


@fuzz(150)
@given(data=encoded(table_documents()), suffix=st.sampled_from([".csv", ".tsv", ".txt"]), columns=column_maps)
@example(data="title,abs\x00tract\nt,a\x00b\n".encode("utf-16"), suffix=".csv", columns=None)  # NUL past the sniff
def test_csv_and_tsv(workdir: Path, data: bytes, suffix: str, columns: dict[str, str] | None) -> None:
    count("table")
    ingest_bytes(workdir, data, suffix, columns)


@fuzz(150)
@given(data=encoded(json_documents()), suffix=st.sampled_from([".jsonl", ".json", ".txt"]), columns=column_maps)
@example(data=b'{"abstract": "x"}\n{"abstract": "y", "year": NaN}\n', suffix=".jsonl", columns=None)
@example(data=b'{"abstract": "y", "year": -Infinity}', suffix=".json", columns=None)
@example(data=b'{"abstract": "x"}\n' + b"[" * 100_000 + b"\n", suffix=".jsonl", columns=None)
@example(data=b'{"abstract": "x", "n": ' + b"9" * 5000 + b"}\n" + b'{"abstract": "y"}', suffix=".jsonl", columns=None)
@example(data=b'{"abstract": "x"}\n{"abstract": "y\\ud800z", "id": "\\udfff"}\n', suffix=".jsonl", columns=None)
@example(
    data=b'{"abstract": "x", "id": "a\\u0000b"}\n{"abstract": "y", "doi": "10.1234/a\\u0001b"}',
    suffix=".txt",
    columns=None,
)
@example(data=b'{"abstract": "x", "id": "' + b"i" * 1001 + b'"}\n{"abstract": "y"}', suffix=".jsonl", columns=None)
@example(
    data=b'{"abstract": "x", "journal": ' + b'{"name": ' * 990 + b'"J"' + b"}" * 990 + b"}",
    suffix=".json",
    columns=None,
)
@example(data=b'{"abstract": "x", "keywords": ' + b"[" * 990 + b"]" * 990 + b"}", suffix=".json", columns=None)
@example(data=b'{"abstract": "x", "authors": true, "keywords": 5}\n{"abstract": "y"}', suffix=".jsonl", columns=None)
@example(data=b'{"abstract": "x", "doi": "10.1000/."}', suffix=".json", columns=None)
def test_json_and_jsonl(workdir: Path, data: bytes, suffix: str, columns: dict[str, str] | None) -> None:
    count("json")
    ingest_bytes(workdir, data, suffix, columns)


@fuzz(120)
@given(data=encoded(html_documents()), suffix=st.sampled_from([".html", ".txt"]))
@example(
    data=b'<html><head><script type="application/ld+json">'
    + b'{"@type": ' + b"[" * 990 + b"]" * 990 + b"}</script></head><body></body></html>",
    suffix=".html",
)  # fmt: skip
def test_html_pages(workdir: Path, data: bytes, suffix: str) -> None:
    count("html")
    ingest_bytes(workdir, data, suffix)


@fuzz(200)
@given(data=encoded(page_documents()))
def test_plain_text_pages(workdir: Path, data: bytes) -> None:
    count("page")
    ingest_bytes(workdir, data, ".txt")


@fuzz(150)
@given(data=encoded(zotero_rdf_documents()), suffix=st.sampled_from([".rdf", ".xml", ".txt"]))
def test_zotero_rdf(workdir: Path, data: bytes, suffix: str) -> None:
    count("zotero_rdf")
    ingest_bytes(workdir, data, suffix)


def zotero_library_bytes() -> bytes:
    """A small Zotero library database (the fixture of test_ingest_zotero_library), as bytes."""
    from test_ingest_zotero_library import sample_library

    with tempfile.TemporaryDirectory() as folder:
        return sample_library(Path(folder) / "zotero.sqlite").read_bytes()


ZOTERO_LIBRARY = zotero_library_bytes()


@fuzz(80)
@given(
    damage=st.lists(st.tuples(st.integers(0, len(ZOTERO_LIBRARY) - 1), st.integers(1, 255)), min_size=1, max_size=40),
    cut=st.none() | st.integers(0, len(ZOTERO_LIBRARY)),
)
def test_a_damaged_zotero_library(workdir: Path, damage: list[tuple[int, int]], cut: int | None) -> None:
    """Bytes of the database flipped (headers, schema, b-tree pages, records) or the file cut: read or refused."""
    count("zotero_sqlite")
    data = bytearray(ZOTERO_LIBRARY)
    for where, flip in damage:
        data[where] ^= flip
    ingest_bytes(workdir, bytes(data[:cut] if cut is not None else data), ".sqlite")


@fuzz(300)
@given(text=st.one_of(identifier_lists(), st.text(max_size=300), texts(20)))
@example(text="10.1234/" + ";1" * 1000)
def test_identifier_lists_give_normalised_identifiers_once(text: str) -> None:
    count("identifiers")
    with time_limit():
        identifiers = parse_identifiers(text)
    assert len(set(identifiers)) == len(identifiers)
    normalise = {"pmid": normalize_pmid, "pmcid": normalize_pmcid, "doi": normalize_doi}
    for identifier in identifiers:
        assert normalise[identifier.kind](identifier.value) == identifier.value


@fuzz(200)
@given(document=json_documents(), chunk=st.sampled_from([1, 2, 7, 64, 1024 * 1024]))
@example(document='[{"a": "\\ud83d\\ude00"}, -12.5e-3, true]', chunk=1)
@example(document="[0.0]", chunk=1)  # the buffer ended at "0.": the number was cut at its point
def test_a_streamed_json_array_gives_what_json_loads_gives(document: str, chunk: int) -> None:
    count("json_stream")
    try:
        whole: Any = json.loads(document)
    except (ValueError, RecursionError):
        whole = None
    previous = json_stream._CHUNK_CHARS
    json_stream._CHUNK_CHARS = chunk
    try:
        with time_limit():
            streamed = list(stream_items(io.StringIO(document), ("papers",), 100_000, 10_000_000))
    except (JsonStreamError, JsonItemTooLarge):
        streamed = None
    finally:
        json_stream._CHUNK_CHARS = previous
    if deep_nesting(whole):
        return  # near the decoder's recursion limit: either may give up first
    if isinstance(whole, list):  # compared as JSON text: NaN is not equal to itself
        assert streamed is not None and json.dumps(streamed) == json.dumps(whole)
    elif isinstance(whole, dict) and isinstance(whole.get("papers"), list):
        assert streamed is not None and json.dumps(streamed) == json.dumps(whole["papers"])


def deep_nesting(value: Any, depth: int = 0) -> bool:
    """Nested more than 500 levels deep (checked without recursing further than that)."""
    if depth > 500:
        return True
    if isinstance(value, list):
        return any(deep_nesting(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return any(deep_nesting(item, depth + 1) for item in value.values())
    return False


BIG_JSONL = "".join(json.dumps({"id": f"big-{i}", "abstract": f"{PROSE} {i}"}) + "\n" for i in range(600))


@fuzz(100)
@given(
    document=ANY_DOCUMENT,
    big=st.booleans(),
    damage=st.sampled_from(["none", "truncate", "flip"]),
    where=st.floats(0, 1),
    flip=st.integers(1, 255),
)
def test_gzip_compressed_intact_truncated_or_corrupted(
    workdir: Path, document: str, big: bool, damage: str, where: float, flip: int
) -> None:
    """Gzip is opened transparently: a damaged stream (even past the first 64 KiB sniffed) is a rejection."""
    count("gzip")
    data = gzip.compress(((BIG_JSONL if big else "") + document).encode("utf-8", errors="surrogatepass"))
    position = min(int(where * len(data)), len(data) - 1)
    if damage == "truncate":
        data = data[:position]
    elif damage == "flip":
        data = data[:position] + bytes([data[position] ^ flip]) + data[position + 1 :]
    ingest_bytes(workdir, data, ".gz")


def sqlite_bytes(script: str) -> bytes:
    """An SQLite database made by ``script``, as the bytes of its file."""
    connection = sqlite3.connect(":memory:")
    connection.executescript(script)
    data = connection.serialize()
    connection.close()
    return data


ZOTERO_ARTICLE = "<bib:Article><z:itemType>journalArticle</z:itemType><dc:title>{title}</dc:title>{inner}" + (
    f"<dcterms:abstract>{PROSE}</dcterms:abstract></bib:Article>"
)
LAUGHS = '<!ENTITY a "aaaaaaaaaa">' + "".join(f'<!ENTITY {chr(98 + i)} "{f"&{chr(97 + i)};" * 10}">' for i in range(9))


# What the fuzzing found, read as it should be now: (file suffix, content, expected items in order, each the
# paper's abstract or the start of the rejection's reason prefixed with "!").
REGRESSIONS = {
    "ris continuation line before any tag of its record": (
        ".ris",
        b"TY  - JOUR\nAB  - x\nTI  - t\nER  - \nTY  - JOUR\norphan line\nAB  - y\nER  - \n",
        ["x", "y"],
    ),
    "medline continuation line after a blank line": (
        ".nbib",
        b"PMID- 1\nAB  - x\n\n      orphan\nPMID- 2\nAB  - y\n",
        ["x", "y"],
    ),
    "lone carriage return in a header-like first line": (".txt", b"0\r;", ["!no abstract"]),
    "NaN and Infinity as a year": (
        ".jsonl",
        b'{"abstract": "x", "year": NaN}\n{"abstract": "y", "year": -Infinity}\n',
        ["x", "y"],
    ),
    "array nested 100,000 deep": (
        ".jsonl",
        b'{"abstract": "x"}\n' + b"[" * 100_000 + b"\n",
        ["x", "!unreadable JSON (nested too deeply)"],
    ),
    "integer of 5000 digits": (
        ".jsonl",
        b'{"abstract": "x", "n": ' + b"9" * 5000 + b'}\n{"abstract": "y"}\n',
        ["!unreadable JSON (Exceeds the limit", "y"],
    ),
    "name nested 500 deep": (
        ".jsonl",
        b'{"abstract": "x"}\n{"abstract": "y", "journal": ' + b'{"name": ' * 500 + b'"J"' + b"}" * 501 + b"\n",
        ["x", "!unreadable JSON (nested more than 64"],
    ),
    "lone surrogates": (
        ".jsonl",
        b'{"abstract": "x"}\n{"abstract": "y\\ud800z", "id": "\\udfff"}\n',
        ["x", "y\ufffdz"],
    ),
    "control character in an id": (
        ".jsonl",
        b'{"abstract": "x", "id": "a\\u0000b"}\n{"abstract": "y", "doi": "10.1234/a\\u0001b"}\n',
        ["!unusable id 'a\\x00b'", "y"],
    ),
    "id longer than the service accepts": (
        ".jsonl",
        b'{"abstract": "x", "id": "' + b"i" * (MAX_ID_LENGTH + 1) + b'"}\n{"abstract": "y"}\n',
        ["!unusable id", "y"],
    ),
    "boolean and number as list fields": (
        ".jsonl",
        b'{"abstract": "x", "authors": true, "keywords": 5}\n{"abstract": "y"}\n',
        ["x", "y"],
    ),
    "DOI with nothing after the slash": (".json", b'{"abstract": "x", "doi": "10.1000/."}', ["x"]),
    "LaTeX groups nested 1000 deep": (
        ".bib",
        b"@article{k,\n  abstract = {" + b"{" * 1000 + b"\\'e x" + b"}" * 1000 + b"},\n  title = {T}\n}\n",
        ["\\'e x"],
    ),
    "abstract sections nested 12,000 deep (quadratic before)": (
        ".html",
        b"<html><body>"
        + b"<section class=abstract>" * 12_000
        + PROSE.encode()
        + b"</section>" * 12_000
        + b"</body></html>",
        [PROSE],
    ),
    "JSON-LD type nested 990 deep": (
        ".html",
        b'<html><head><script type="application/ld+json">{"@type": '
        + b"[" * 990
        + b"]" * 990
        + b"}</script></head><body><p>"
        + PROSE.encode()
        + b"</p></body></html>",
        [PROSE],
    ),
    "an SQLite database that is not a Zotero library": (
        ".sqlite",
        sqlite_bytes("CREATE TABLE papers (abstract TEXT); INSERT INTO papers VALUES ('x');"),
        ["!an SQLite database that is not a Zotero library"],
    ),
    "a truncated Zotero library": (".sqlite", ZOTERO_LIBRARY[:8192], ["!an SQLite database that cannot be read"]),
    "an empty Zotero library": (
        ".sqlite",
        sqlite_bytes(
            "CREATE TABLE items (itemID INTEGER PRIMARY KEY, itemTypeID INT, key TEXT);"
            "CREATE TABLE itemTypes (itemTypeID INTEGER PRIMARY KEY, typeName TEXT);"
            "CREATE TABLE itemData (itemID INT, fieldID INT, valueID);"
            "CREATE TABLE itemDataValues (valueID INTEGER PRIMARY KEY, value);"
            "CREATE TABLE fields (fieldID INTEGER PRIMARY KEY, fieldName TEXT);"
            "CREATE TABLE creators (creatorID INTEGER PRIMARY KEY, firstName TEXT, lastName TEXT, fieldMode INT);"
            "CREATE TABLE itemCreators (itemID INT, creatorID INT, creatorTypeID INT, orderIndex INT);"
            "CREATE TABLE tags (tagID INTEGER PRIMARY KEY, name TEXT);"
            "CREATE TABLE itemTags (itemID INT, tagID INT, type INT);"
        ),
        ["!no bibliographic items in this Zotero library"],
    ),
    "malformed RDF": (
        ".rdf",
        (ZOTERO_RDF_ROOT + "<bib:Article><z:itemType>journalArticle</z:itemType><dc:title>T").encode(),
        ["!malformed RDF/XML"],
    ),
    "billion laughs RDF": (
        ".rdf",
        (
            f'<?xml version="1.0"?><!DOCTYPE rdf:RDF [{LAUGHS}]>'
            + ZOTERO_RDF_ROOT
            + ZOTERO_ARTICLE.format(title="&j;", inner="")
            + "</rdf:RDF>"
        ).encode(),
        ["!RDF with a document type or entity declaration"],
    ),
    "RDF nested 20,000 deep": (
        ".rdf",
        (
            ZOTERO_RDF_ROOT
            + ZOTERO_ARTICLE.format(
                title="T",
                inner="<dc:relation><rdf:Description>" * 20_000 + "</rdf:Description></dc:relation>" * 20_000,
            )
            + "</rdf:RDF>"
        ).encode(),
        [PROSE],
    ),
    "RDF title of 3 MB": (
        ".rdf",
        (ZOTERO_RDF_ROOT + ZOTERO_ARTICLE.format(title="t" * 3_000_000, inner="") + "</rdf:RDF>").encode(),
        ["!title too long: 3,000,000 characters"],
    ),
    "a list of identifiers": (
        ".txt",
        b"39000001\n10.5555/x.1\nPMC9000001\n",
        ["!a list of 3 identifiers, not papers"],
    ),
}


@pytest.mark.parametrize("name", list(REGRESSIONS))
def test_what_the_fuzzing_found_is_read_as_it_should_be(workdir: Path, name: str) -> None:
    suffix, data, expected = REGRESSIONS[name]
    path = workdir / f"regression{suffix}"
    path.write_bytes(data)
    with time_limit():
        items = [item for _, _, item in read_paths([path])]
    check_items([(str(path), None, item) for item in items], str(path))
    assert len(items) == len(expected), items
    for item, want in zip(items, expected, strict=True):
        if want.startswith("!"):
            assert isinstance(item, Rejected) and item.reason.startswith(want[1:]), item
        else:
            assert isinstance(item, Paper) and item.abstract == want, item
    papers = [item for item in items if isinstance(item, Paper)]
    if name == "lone surrogates":
        assert papers[1].id == "\ufffd"
    if name == "control character in an id":
        assert papers[0].doi == "10.1234/a" and papers[0].id == "doi:10.1234/a"
    if name == "NaN and Infinity as a year":
        assert [paper.year for paper in papers] == [None, None]
    if name == "DOI with nothing after the slash":
        assert papers[0].doi is None


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_gzip_damaged_after_the_sniffed_head_is_rejected_with_the_records_before(workdir: Path, damage: str) -> None:
    data = gzip.compress(BIG_JSONL.encode() * 2)
    data = data[: len(data) * 3 // 4] if damage == "truncate" else data[:700] + b"\x00" * 64 + data[764:]
    path = workdir / "damaged.jsonl.gz"
    path.write_bytes(data)
    items = list(read_paths([path]))
    assert isinstance(items[-1][2], Rejected) and items[-1][2].reason.startswith("cannot read file")


def test_file_names_that_are_not_utf8_do_not_break_the_store_record(workdir: Path) -> None:
    path = workdir / os.fsdecode(b"name-\xff.jsonl")  # undecodable bytes become lone surrogates
    path.write_text('{"abstract": "x"}\n{"abstract": "y"}\n', encoding="utf-8")
    assert [paper.abstract for paper in ingest_path(path)] == ["x", "y"]


def test_billion_laughs_xml_neither_expands_nor_hangs(workdir: Path) -> None:
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{f"&{chr(97 + i)};" * 10}">' for i in range(9)
    )
    document = (
        f'<?xml version="1.0"?><!DOCTYPE PubmedArticleSet [{entities}]><PubmedArticleSet><PubmedArticle>'
        "<MedlineCitation><PMID>1</PMID><Article><Abstract><AbstractText>&j;</AbstractText></Abstract></Article>"
        "</MedlineCitation></PubmedArticle></PubmedArticleSet>"
    )
    papers = ingest_bytes(workdir, document.encode(), ".xml")
    assert all(len(paper.abstract) < 10_000 for paper in papers)


# ------------------------------------------------------------------------------- records given in memory
@fuzz(150)
@given(
    records=st.one_of(
        st.lists(st.one_of(json_records, json_values, deep_records()), max_size=5).map(in_memory),
        st.dictionaries(st.sampled_from(["papers", "records", "x"]), st.lists(json_records, max_size=3), max_size=2),
        json_values,
    )
)
@example(records=[{"abstract": "x", "year": float("nan")}, {"abstract": "y", "year": float("inf")}])
@example(records=[{"abstract": "x\ud800", "title": "\udc80", "authors": ["\ud83d"]}])
def test_records_given_in_memory(records: Any) -> None:
    count("records")
    with time_limit():
        try:
            items = list(read_records(records, "request"))
        except RecommenderError:
            return
    check_items(items, "request")


def test_cyclic_records_in_memory_do_not_recurse_forever() -> None:
    record: dict[str, Any] = {"abstract": "x"}
    record["journal"] = record
    with time_limit():
        items = list(read_records([record], "request"))
    check_items(items, "request")


# --------------------------------------------------------------------------------------------- round trip
clean_texts = st.text(st.characters(blacklist_characters="<&", blacklist_categories=("Cs",)), max_size=60).map(
    clean_text
)
names = st.text(st.characters(blacklist_characters="<&", blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)
canonical_dois = st.builds(
    lambda registrant, suffix: normalize_doi(f"10.{registrant}/{suffix}"),
    st.integers(1000, 999_999_999),
    st.text(string.ascii_lowercase + string.digits + "-._;()/:", min_size=1, max_size=30),
).filter(bool)


@st.composite
def clean_papers(draw: st.DrawFn) -> Paper:
    """A paper as readers produce it: clean fields (no markup, which reading would remove)."""
    abstract = draw(clean_texts.filter(bool))
    title = draw(clean_texts)
    doi = draw(st.none() | canonical_dois)
    pmid = draw(st.none() | st.integers(1, 999_999_999).map(str))
    given_id = draw(st.none() | names.map(clean_text).filter(bool))
    items = st.lists(names.map(clean_text).filter(bool), max_size=3)
    return Paper(
        id=assign_id(given_id, doi, pmid, title, abstract),
        title=title,
        abstract=abstract,
        doi=doi,
        pmid=pmid,
        journal=draw(st.none() | names.map(clean_text).filter(bool)),
        year=draw(st.none() | st.integers(1800, MAX_YEAR)),
        authors=draw(items),
        keywords=draw(items),
        mesh_terms=draw(items),
        labels=draw(items),
    )


@fuzz(100)
@given(papers=st.lists(clean_papers(), min_size=1, max_size=3))
def test_papers_written_as_jsonl_are_read_back_unchanged(workdir: Path, papers: list[Paper]) -> None:
    count("round_trip")
    path = workdir / "round-trip.jsonl"
    lines = []
    for paper in papers:
        record = paper.to_dict()
        del record["source"]
        lines.append(json.dumps(record) + "\n")
    path.write_text("".join(lines), encoding="utf-8")
    read = ingest_path(path)
    assert [dataclasses.replace(paper, source=None) for paper in read] == papers


# ------------------------------------------------------------------------------- identifier normalisation
doi_like = st.builds(
    lambda prefix, registrant, suffix, tail: f"{prefix}10.{registrant}/{suffix}{tail}",
    st.sampled_from(["", "doi:", "DOI: ", "https://doi.org/", "http://dx.doi.org/", "see ", "(", "10.12/"]),
    st.integers(0, 10**10),
    st.text(max_size=20),
    st.sampled_from(["", ".", ").", "]", " Epub 2020", "\x00x"]),
)


@fuzz(400)
@given(value=st.one_of(st.none(), st.text(max_size=60), doi_like))
@example(value="10.1234/İ")
def test_doi_normalisation_is_idempotent_and_never_raises(value: str | None) -> None:
    count("doi")
    doi = normalize_doi(value)
    if doi is not None:
        assert isinstance(doi, str) and re.fullmatch(r"10\.\d{4,9}/\S+", doi)
        assert doi == clean_text(doi) and not has_control(doi)
        assert normalize_doi(doi) == doi
        assert normalize_doi(f"https://doi.org/{doi}.") == doi


@fuzz(300)
@given(doi=canonical_dois, prefix=st.sampled_from(["", "doi:", "DOI: ", "https://doi.org/", "http://dx.doi.org/"]))
def test_doi_prefixes_and_case_do_not_change_a_doi(doi: str, prefix: str) -> None:
    count("doi_forms")
    assert normalize_doi(f"{prefix}{doi.upper()}") == normalize_doi(doi.upper()) == doi.upper().lower()
    assert normalize_doi(f"{prefix}{doi},") == doi


@fuzz(400)
@given(value=st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(), st.text(max_size=30)))
def test_pmid_normalisation_is_idempotent_and_never_raises(value: object) -> None:
    count("pmid")
    pmid = normalize_pmid(value)
    if pmid is not None:
        assert isinstance(pmid, str) and re.fullmatch(r"\d{1,9}", pmid) and pmid.strip("0")
        assert normalize_pmid(pmid) == pmid
        assert normalize_pmid(f"PMID: {pmid}") == normalize_pmid(f"pubmed {pmid}") == pmid


@fuzz(400)
@given(
    given_id=st.none() | st.text(max_size=30),
    doi=st.none() | canonical_dois,
    pmid=st.none() | st.integers(1, 999_999_999).map(str),
    title=st.text(max_size=40),
    abstract=st.text(max_size=40),
)
def test_ids_are_clean_stable_and_follow_the_order(
    given_id: str | None, doi: str | None, pmid: str | None, title: str, abstract: str
) -> None:
    count("ids")
    paper_id = assign_id(given_id, doi, pmid, title, abstract)
    assert isinstance(paper_id, str) and paper_id and paper_id == clean_text(paper_id)
    assert paper_id == assign_id(given_id, doi, pmid, title, abstract)
    if given_id and clean_text(given_id):
        assert paper_id == clean_text(given_id)
    elif doi:
        assert paper_id == f"doi:{doi}"
    elif pmid:
        assert paper_id == f"pmid:{pmid}"
    else:
        assert re.fullmatch(r"h:[0-9a-f]{16}", paper_id)
        assert paper_id == content_id(f"  {title} ", "\n".join(abstract.split(" ")))


@fuzz(400)
@given(text=st.text(max_size=80))
@example(text="a\ud800b")
def test_clean_text_and_title_key_are_idempotent(text: str) -> None:
    count("clean_text")
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert cleaned == cleaned.strip() and "  " not in cleaned
    cleaned.encode("utf-8")  # stored text is always valid UTF-8 (no lone surrogates)
    key = title_key(text)
    assert re.fullmatch(r"[0-9a-z]*", key) and title_key(key) == key


# -------------------------------------------------------------------------------------------- tokenizer
@fuzz(400)
@given(text=st.one_of(st.text(max_size=200), texts(12), prose))
def test_tokenizer_turns_any_text_into_string_tokens(text: str) -> None:
    count("tokenizer")
    with time_limit():
        tokens = tokenize(text)
        assert all(isinstance(token, str) and len(token) >= 2 and " " not in token for token in tokens)
        assert not set(tokens) & STOPWORDS
        assert all(isinstance(token, str) and token for token in tokenize(text, stemmed=True, parts=False))
        assert all(isinstance(token, str) and token for token in surface_tokens(text))
        assert all(run and all(isinstance(word, str) for word in run) for run in segments(text))
        assert all(pair.count(" ") == 1 for pair in bigrams(text))
        assert all(isinstance(term, str) and term for term in index_terms(text))
        assert all(isinstance(key, str) and isinstance(form, str) for key, form in spellings(text).items())
        assert tokenize(text) == tokens  # deterministic


gene_symbols = st.builds(
    lambda letters, number, tail: f"{letters}{number}{tail}",
    st.text(string.ascii_uppercase, min_size=1, max_size=5),
    st.integers(0, 999),
    st.sampled_from(["", "A", "-1", "-AS1", "B2"]),
)
contexts = st.one_of(st.text(max_size=40), texts(6))


@fuzz(300)
@given(before=contexts, symbol=gene_symbols, other=gene_symbols, after=contexts)
def test_gene_symbols_stay_whole_in_any_context(before: str, symbol: str, other: str, after: str) -> None:
    count("gene_symbols")
    tokens = tokenize(f"{before} {symbol} {after}")
    assert symbol.lower() in tokens
    assert stem(symbol) == symbol_key(symbol) and stem(symbol) in index_terms(f"{before} {symbol} {after}")
    pathway = tokenize(f"{before} {symbol}/{other} {after}")
    assert symbol.lower() in pathway and other.lower() in pathway
    assert f"{symbol.lower()}-beta" in tokenize(f"{before} {symbol}-β {after}")
    assert symbol.lower() in tokenize(f"{before} {symbol}+ {after}")


# ------------------------------------------------------------------------------------------------ tally
FUZZ_TESTS: list[Callable[..., None]] = [
    test_arbitrary_bytes_are_read_or_rejected,
    test_arbitrary_text_is_read_or_rejected,
    test_ris,
    test_medline,
    test_bibtex,
    test_pubmed_xml,
    test_csv_and_tsv,
    test_json_and_jsonl,
    test_html_pages,
    test_plain_text_pages,
    test_zotero_rdf,
    test_a_damaged_zotero_library,
    test_identifier_lists_give_normalised_identifiers_once,
    test_a_streamed_json_array_gives_what_json_loads_gives,
    test_gzip_compressed_intact_truncated_or_corrupted,
    test_records_given_in_memory,
    test_papers_written_as_jsonl_are_read_back_unchanged,
    test_doi_normalisation_is_idempotent_and_never_raises,
    test_doi_prefixes_and_case_do_not_change_a_doi,
    test_pmid_normalisation_is_idempotent_and_never_raises,
    test_ids_are_clean_stable_and_follow_the_order,
    test_clean_text_and_title_key_are_idempotent,
    test_tokenizer_turns_any_text_into_string_tokens,
    test_gene_symbols_stay_whole_in_any_context,
]


def test_a_run_generates_thousands_of_cases() -> None:
    if len(CASES) < len(FUZZ_TESTS):
        pytest.skip("run together with all the fuzz tests above")
    assert sum(CASES.values()) >= MIN_CASES, CASES
