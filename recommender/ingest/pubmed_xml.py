"""PubMed/MEDLINE XML: E-utilities ``efetch`` output and the annual baseline ``PubmedArticleSet`` files.

Read with lxml's ``iterparse``, one ``PubmedArticle`` (or ``PubmedBookArticle``) at a time and cleared
afterwards, so a baseline file of 30,000 articles (or a 100,000-record export) streams in constant memory.
External DTDs and entities are never loaded. A truncated or malformed file yields every article before the
damage and then one rejection saying where the XML broke.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from ..paper import clean_text, normalize_doi, normalize_pmcid, normalize_pmid
from .detect import open_binary
from .fields import parse_year
from .records import RawRecord, Rejected

ARTICLE_TAGS = ("PubmedArticle", "PubmedBookArticle")


def _text(element: etree._Element | None) -> str:
    """All text inside an element, inline markup (<i>, <sup>, MathML) flattened."""
    if element is None:
        return ""
    return clean_text("".join(element.itertext()))


def _english_title(title: str) -> str:
    """PubMed brackets titles translated into English: "[Title in English]." → "Title in English."."""
    match = re.fullmatch(r"\[(.+)\]\.?", title)
    return f"{match.group(1).rstrip('.')}." if match else title


def _abstract(container: etree._Element) -> str:
    """Abstract paragraphs joined; structured sections keep their labels ("BACKGROUND: ...")."""
    parts = []
    for node in container.findall("Abstract/AbstractText"):
        text = _text(node)
        if not text:
            continue
        label = node.get("Label")
        parts.append(f"{label}: {text}" if label and label.upper() != "UNLABELLED" else text)
    return " ".join(parts)


def _authors(container: etree._Element) -> list[str]:
    names = []
    for author in container.findall("AuthorList/Author"):
        collective = _text(author.find("CollectiveName"))
        if collective:
            names.append(collective)
            continue
        first = _text(author.find("ForeName")) or _text(author.find("Initials"))
        last = _text(author.find("LastName"))
        if last:
            names.append(f"{first} {last}".strip())
    return names


def _year(*dates: etree._Element | None) -> int | None:
    for date in dates:
        if date is None:
            continue
        year = parse_year(_text(date.find("Year")) or _text(date.find("MedlineDate")))
        if year:
            return year
    return None


# The article's own identifiers: PubmedData's list, not the ArticleIdLists of the papers it cites (ReferenceList).
_OWN_IDS = ("PubmedData/ArticleIdList/ArticleId", "PubmedBookData/ArticleIdList/ArticleId")


def _doi(article: etree._Element) -> str | None:
    paths = (*(f"{path}[@IdType='doi']" for path in _OWN_IDS), ".//ELocationID[@EIdType='doi']")
    for path in paths:
        for node in article.iterfind(path):
            doi = normalize_doi(_text(node))
            if doi:
                return doi
    return None


def _pmcid(article: etree._Element) -> str | None:
    """The PMCID (``<ArticleId IdType="pmc">PMC1234567</ArticleId>``): the free full text in PubMed Central."""
    for path in _OWN_IDS:
        for node in article.iterfind(f"{path}[@IdType='pmc']"):
            pmcid = normalize_pmcid(_text(node))
            if pmcid:
                return pmcid
    return None


def article_fields(element: etree._Element) -> dict[str, Any]:
    """Normalised fields of one ``PubmedArticle`` or ``PubmedBookArticle`` element."""
    citation = element.find("MedlineCitation")
    if citation is not None:  # journal article
        article = citation.find("Article")
        article = article if article is not None else etree.Element("Article")
        journal = article.find("Journal")
        fields: dict[str, Any] = {
            "pmid": normalize_pmid(_text(citation.find("PMID"))),
            "title": _english_title(_text(article.find("ArticleTitle")) or _text(article.find("VernacularTitle"))),
            "abstract": _abstract(article),
            "journal": _text(journal.find("Title")) if journal is not None else "",
            "year": _year(
                journal.find("JournalIssue/PubDate") if journal is not None else None, article.find("ArticleDate")
            ),
            "authors": _authors(article),
            "keywords": [_text(k) for k in citation.iterfind("KeywordList/Keyword") if _text(k)],
            "mesh_terms": [_text(d) for d in citation.iterfind("MeshHeadingList/MeshHeading/DescriptorName")],
        }
        if not fields["journal"]:
            fields["journal"] = _text(citation.find("MedlineJournalInfo/MedlineTA"))
    else:  # book or book chapter
        book = element.find("BookDocument")
        book = book if book is not None else etree.Element("BookDocument")
        fields = {
            "pmid": normalize_pmid(_text(book.find("PMID"))),
            "title": _text(book.find("ArticleTitle")) or _text(book.find("Book/BookTitle")),
            "abstract": _abstract(book),
            "journal": _text(book.find("Book/BookTitle")),
            "year": _year(book.find("Book/PubDate"), book.find("ContributionDate")),
            "authors": _authors(book),
            "keywords": [_text(k) for k in book.iterfind("KeywordList/Keyword") if _text(k)],
            "mesh_terms": [],
        }
    fields["doi"] = _doi(element)
    fields["pmcid"] = _pmcid(element)
    return {key: value for key, value in fields.items() if value not in (None, "", [])}


def read_pubmed_xml(path: Path) -> Iterator[RawRecord | Rejected]:
    count = 0
    with open_binary(path) as handle:
        parser = etree.iterparse(
            handle,
            events=("end",),
            tag=ARTICLE_TAGS,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=True,
        )
        try:
            for _, element in parser:
                count += 1
                fields = article_fields(element)
                position = f"record {count}" + (f" (PMID {fields['pmid']})" if fields.get("pmid") else "")
                yield RawRecord(fields, position)
                _release(element)
        except etree.XMLSyntaxError as error:
            line = error.position[0] if error.position else "?"
            yield Rejected(f"truncated or malformed XML at line {line} ({error.msg}); {count} records read before it")
            return
    if count == 0:
        yield Rejected("no PubmedArticle records in this XML file")


def _release(element: etree._Element) -> None:
    """Free the element and the already-processed siblings before it (constant memory on huge files)."""
    element.clear(keep_tail=True)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]
