"""Zotero RDF exports (File → Export Library… → "Zotero RDF"): RDF/XML in the bib:, dc:, dcterms:, foaf: and z:
vocabularies, read with rdflib.

Zotero writes each item as a node with a ``z:itemType``; the items read are those of bibliographic types (not
notes, attachments or annotations). Per item: ``dc:title``; ``dcterms:abstract``; authors from ``bib:authors``
(an ``rdf:Seq`` of ``foaf:Person`` with ``foaf:surname`` and ``foaf:givenName``, which older versions spell
``givenname``); the journal from the ``dc:title`` of the container the item ``dcterms:isPartOf`` (a
``bib:Journal``); ``dc:date`` for the year; the DOI from a ``dc:identifier`` "DOI 10.…", which Zotero puts on the
container, or a doi.org link; PMID, PMCID and DOI lines from Extra (``dc:description``); tags (``dc:subject``, a
literal or a ``z:AutomaticTag`` node's ``rdf:value``) as keywords; and the Zotero collections that hold the
item (``z:Collection`` nodes whose ``dcterms:hasPart`` lists it) as labels, with their parent path
("Reviews/Anoikis").

Zotero never writes a document type declaration, so a file holding one (``<!DOCTYPE`` or ``<!ENTITY``) is
refused before parsing: no entity can be expanded (billion laughs) or fetched. The file is read whole (an RDF
graph cannot be streamed: collections come after the items they hold), so it is limited to
:data:`MAX_RDF_BYTES`, and at most :data:`MAX_ITEMS` items are read.
"""

from __future__ import annotations

import logging
import re
import xml.sax
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.exceptions import Error as RdflibError
from rdflib.term import Node

from .detect import ZOTERO_NAMESPACE, decode, open_binary, read_at_most
from .fields import fields_from_mapping
from .identifiers import classify
from .records import MAX_LIST_ITEMS, RawRecord, Rejected

#: Largest RDF file read: it is parsed whole, into a graph some 30 times its size, at about 1 MB a second (rdflib
#: is pure Python). A larger library reads faster from zotero.sqlite or a CSL-JSON export.
MAX_RDF_BYTES = 32 * 1024 * 1024
MAX_ITEMS = 200_000
MAX_COLLECTION_DEPTH = 32
#: Levels of ``dcterms:isPartOf`` followed to find the journal (item → section → journal → series).
_CONTAINER_DEPTH = 3

Z = Namespace(ZOTERO_NAMESPACE)
BIB = Namespace("http://purl.org/net/biblio#")
DC = Namespace("http://purl.org/dc/elements/1.1/")
DCTERMS = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
_SKIPPED_TYPES = frozenset({"note", "attachment", "annotation"})
_NOT_JOURNALS = frozenset({BIB.Series, BIB.Part})
_DECLARATION = re.compile(r"<!(?:DOCTYPE|ENTITY)")
_MEMBER = re.compile(r"_([0-9]{1,9})")
_BASE = "file:///zotero-export.rdf"  # resolves Zotero's "#item_12" references; never fetched

logging.getLogger("rdflib").setLevel(logging.ERROR)  # a damaged file is reported as a rejection instead


def read_zotero_rdf(path: Path) -> Iterator[RawRecord | Rejected]:
    with open_binary(path) as handle:
        hint = "; export fewer items at a time, as CSL-JSON, or read the library file zotero.sqlite itself"
        data = read_at_most(handle, MAX_RDF_BYTES, "RDF file", hint)
    text = decode(data)  # UTF-8, or UTF-16 with its byte-order mark; rdflib reads the text whatever it declares
    del data
    if _DECLARATION.search(text):
        yield Rejected("RDF with a document type or entity declaration (Zotero writes none); not read")
        return
    graph = Graph()
    try:
        graph.parse(data=text, format="xml", publicID=_BASE)
    except (xml.sax.SAXException, RdflibError, ValueError, TypeError, AttributeError, IndexError, KeyError) as error:
        # SAXParseException for malformed XML; rdflib raises its own errors, or plain ones, for bad RDF
        yield Rejected(f"malformed RDF/XML ({str(error)[:200]})")
        return
    del text
    labels = _collection_labels(graph)
    count = 0
    for item, kind in graph.subject_objects(Z.itemType):
        if str(kind) in _SKIPPED_TYPES:
            continue
        count += 1
        if count > MAX_ITEMS:
            yield Rejected(f"more than {MAX_ITEMS:,} items in this RDF file; the first {MAX_ITEMS:,} were read")
            return
        yield RawRecord(fields_from_mapping(_record(graph, item, labels.get(item, []))), f"item {count}")
    if count == 0:
        yield Rejected("no bibliographic items in this RDF file (Zotero RDF items carry a z:itemType)")


def _record(graph: Graph, item: Node, labels: list[str]) -> dict[str, Any]:
    """One item's fields under the names :func:`~.fields.fields_from_mapping` knows."""
    containers = _containers(graph, item)
    journal = next(
        (title for node in containers if (title := _text(graph, node, DC.title)) and _journal(graph, node)), ""
    )
    identifiers = [value for node in [item, *containers] for value in graph.objects(node, DC.identifier)]
    return {
        "title": _text(graph, item, DC.title),
        "abstract": _text(graph, item, DCTERMS.abstract),
        "date": _text(graph, item, DC.date),
        "journal": journal,
        "doi": _doi(graph, identifiers),
        "extra": _text(graph, item, DC.description),
        "authors": _people(graph, graph.value(item, BIB.authors)),
        "keywords": _tags(graph, item),
        "labels": labels,
    }


def _text(graph: Graph, node: Node, predicate: URIRef) -> str:
    value = graph.value(node, predicate)
    return str(value) if isinstance(value, Literal) else ""


def _containers(graph: Graph, item: Node) -> list[Node]:
    """What the item is part of, nearest first: a section, its journal, the journal's series."""
    found: list[Node] = []
    current = [item]
    for _ in range(_CONTAINER_DEPTH):
        current = [part for node in current for part in graph.objects(node, DCTERMS.isPartOf) if part not in found]
        found.extend(current)
    return found


def _journal(graph: Graph, node: Node) -> bool:
    """A container that names the periodical or book (not a section or a series)."""
    return not any(kind in _NOT_JOURNALS for kind in graph.objects(node, RDF.type))


def _doi(graph: Graph, identifiers: list[Node]) -> str | None:
    """The DOI among ``dc:identifier`` values: "DOI 10.…" literals, or a link (``dcterms:URI``) to doi.org."""
    for value in identifiers:
        text = str(value) if isinstance(value, Literal) else _text(graph, value, RDF.value)
        if text.upper().startswith("DOI "):
            text = text[4:]
        found = classify(text.strip(), bare_numbers=False)
        if found is not None and found.kind == "doi":
            return found.value
    return None


def _members(graph: Graph, container: Node | None) -> list[Node]:
    """The members of an ``rdf:Seq`` in order (``rdf:_1``, ``rdf:_2``…), at most one more than a record takes."""
    if container is None:
        return []
    numbered = []
    for predicate, value in graph.predicate_objects(container):
        match = _MEMBER.fullmatch(str(predicate).removeprefix(str(RDF)))
        if match and str(predicate).startswith(str(RDF)):
            numbered.append((int(match.group(1)), value))
            if len(numbered) > MAX_LIST_ITEMS:
                break
    return [value for _, value in sorted(numbered, key=lambda pair: pair[0])]


def _people(graph: Graph, authors: Node | None) -> list[str]:
    """ "Given Surname" for each ``foaf:Person`` of the sequence (a name written as a literal is kept as is)."""
    names = []
    for person in _members(graph, authors):
        if isinstance(person, Literal):
            names.append(str(person))
            continue
        given = _text(graph, person, FOAF.givenName) or _text(graph, person, FOAF.givenname)
        surname = _text(graph, person, FOAF.surname) or _text(graph, person, FOAF.name)
        name = f"{given} {surname}".strip()
        if name:
            names.append(name)
    return names


def _tags(graph: Graph, item: Node) -> list[str]:
    """Manual tags (literal ``dc:subject``) and automatic ones (``z:AutomaticTag`` nodes), at most one more
    than a record takes; other subject nodes (a call number, ``dcterms:LCC``) are not tags."""
    tags = []
    for subject in graph.objects(item, DC.subject):
        if isinstance(subject, Literal):
            tags.append(str(subject))
        elif (subject, RDF.type, Z.AutomaticTag) in graph:
            tags.append(_text(graph, subject, RDF.value))
        if len(tags) > MAX_LIST_ITEMS:
            break
    return [tag for tag in tags if tag]


def _collection_labels(graph: Graph) -> dict[Node, list[str]]:
    """For each item, the paths of the collections holding it ("Reviews/Anoikis"), sorted."""
    collections = set(graph.subjects(RDF.type, Z.Collection))
    parent: dict[Node, Node] = {}
    for collection in collections:
        for part in graph.objects(collection, DCTERMS.hasPart):
            if part in collections:
                parent.setdefault(part, collection)
    labels: dict[Node, set[str]] = {}
    for collection in collections:
        path = _path(graph, collection, parent)
        for part in graph.objects(collection, DCTERMS.hasPart):
            held = labels.setdefault(part, set())
            if path and part not in collections and len(held) <= MAX_LIST_ITEMS:
                held.add(path)
    return {item: sorted(paths) for item, paths in labels.items()}


def _path(graph: Graph, collection: Node, parent: dict[Node, Node]) -> str:
    names: list[str] = []
    seen: set[Node] = set()
    current: Node | None = collection
    while current is not None and current not in seen and len(names) < MAX_COLLECTION_DEPTH:
        seen.add(current)
        names.append(_text(graph, current, DC.title))
        current = parent.get(current)
    return "/".join(reversed(names))
