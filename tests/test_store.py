"""The paper store: one record per paper, merged across sources, all-or-nothing writes."""

import pytest

from recommender.paper import Paper
from recommender.store import PaperStore


def test_upsert_outcomes(tmp_path):
    store = PaperStore(tmp_path)
    with store.transaction() as writer:
        assert writer.upsert(Paper(id="p1", title="T", abstract="A")).outcome == "added"
        assert writer.upsert(Paper(id="p1", title="T", abstract="A")).outcome == "unchanged"
        assert writer.upsert(Paper(id="p1", title="T", abstract="A", year=2020)).outcome == "updated"
    assert store.count() == 1
    assert store.get("p1").year == 2020


def test_same_paper_from_other_sources_is_merged_by_doi_pmid_or_title_and_year(tmp_path):
    store = PaperStore(tmp_path)
    title = "A sufficiently long title that identifies the paper"
    with store.transaction() as writer:
        writer.upsert(Paper(id="doi:10.1000/x", title=title, abstract="short", doi="10.1000/x", year=2020))
        by_doi = writer.upsert(Paper(id="local-7", abstract="a longer abstract", doi="10.1000/x", pmid="42"))
        by_pmid = writer.upsert(Paper(id="pmid:42", abstract="x", pmid="42", journal="J"))
        by_title = writer.upsert(Paper(id="h:1", title=title.upper(), abstract="y", year=2020, keywords=["k"]))
        other_year = writer.upsert(Paper(id="h:2", title=title, abstract="z", year=2021))
    assert [u.outcome for u in (by_doi, by_pmid, by_title)] == ["merged"] * 3
    assert {u.id for u in (by_doi, by_pmid, by_title)} == {"doi:10.1000/x"}
    assert other_year.outcome == "added"
    merged = store.get("doi:10.1000/x")
    assert (merged.abstract, merged.pmid, merged.journal, merged.keywords) == ("a longer abstract", "42", "J", ["k"])
    assert store.count() == 2


def test_resolve_by_bare_or_prefixed_doi_and_pmid(tmp_path):
    store = PaperStore(tmp_path)
    with store.transaction() as writer:
        writer.upsert(Paper(id="mine", abstract="a", doi="10.1000/abc", pmid="99"))
    for reference in ("mine", "10.1000/ABC", "doi:10.1000/abc", "https://doi.org/10.1000/abc", "99", "pmid:99"):
        assert store.resolve(reference).id == "mine"
    assert store.resolve("nothing") is None


def test_a_failed_transaction_leaves_the_store_unchanged(tmp_path):
    store = PaperStore(tmp_path)
    with store.transaction() as writer:
        writer.upsert(Paper(id="keep", abstract="a"))
    with pytest.raises(RuntimeError), store.transaction() as writer:
        writer.upsert(Paper(id="lost", abstract="b"))
        raise RuntimeError("crash mid-ingest")
    assert [paper.id for paper in store.papers()] == ["keep"]


def test_papers_come_back_in_insertion_order(tmp_path):
    store = PaperStore(tmp_path)
    with store.transaction() as writer:
        for name in ("z", "a", "m"):
            writer.upsert(Paper(id=name, abstract=name))
    assert [paper.id for paper in store.papers()] == ["z", "a", "m"]
