"""The façade with a fake embedder: ingest, build, related, search, themes, and every refusal."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import CORPUS, TOPIC, jsonl, write

from recommender.errors import (
    IndexMismatchError,
    IndexNotBuiltError,
    InvalidInputError,
    NotFoundError,
    NothingIngestedError,
    StaleIndexError,
)


def test_ingest_reports_every_paper_and_rejection(make_service, tmp_path):
    good = write(tmp_path / "good.jsonl", jsonl(CORPUS[:2]))
    bad = write(tmp_path / "bad.jsonl", '{"title": "no abstract"}\nnot json\n')
    report = make_service().ingest([good, bad, tmp_path / "missing.txt"])
    assert (report.read, report.added, report.total) == (2, 2, 2)
    assert [(p["id"], p["source"]) for p in report.papers] == [("a1", str(good)), ("a2", str(good))]
    assert [(r["source"], r["position"]) for r in report.rejected] == [
        (str(bad), "line 1"),
        (str(bad), "line 2"),
        (str(tmp_path / "missing.txt"), None),
    ]


def test_reingesting_does_not_duplicate(make_service, tmp_path):
    path = write(tmp_path / "c.jsonl", jsonl(CORPUS))
    service = make_service()
    service.ingest([path])
    again = service.ingest([path])
    assert (again.added, again.unchanged, again.total) == (0, len(CORPUS), len(CORPUS))


def test_nothing_usable_raises_and_leaves_store_and_index_untouched(built, tmp_path):
    before = (built.store.count(), built.versions.current_id())
    empty = write(tmp_path / "empty.txt", "")
    binary = write(tmp_path / "x.bin", b"\x00\x01\x02" * 100)
    with pytest.raises(NothingIngestedError) as caught:
        built.ingest([empty, binary])
    assert [r["reason"] for r in caught.value.details["rejected"]] == ["empty file", "binary file (not text)"]
    assert (built.store.count(), built.versions.current_id()) == before
    assert len(built.related("a1", 3)) == 3


def test_related_excludes_the_paper_and_prefers_its_topic(built):
    for paper_id, topic in TOPIC.items():
        hits = built.related(paper_id, 2)
        assert paper_id not in [hit.id for hit in hits]
        assert all(TOPIC[hit.id] == topic for hit in hits), (paper_id, [h.id for h in hits])


def test_related_explains_itself(built):
    [hit, *_] = built.related("c1", 1)
    assert "IL-6" in hit.shared_terms or "STAT3" in hit.shared_terms
    assert hit.dense != 0 and hit.lexical > 0


def test_related_returns_k_sorted_results_in_every_mode(built):
    for mode in ("hybrid", "dense", "lexical"):
        hits = built.related("h1", 5, mode=mode)
        scores = [hit.score for hit in hits]
        assert scores == sorted(scores, reverse=True)
        assert len(hits) == 5 or mode == "lexical"


def test_search_by_text_finds_the_topic(built):
    hits = built.search("IL-6 STAT3 signalling from cancer-associated fibroblasts", 3)
    assert {TOPIC[hit.id] for hit in hits} == {"c"}
    assert built.search("hypoxia HIF-1alpha", 1, mode="lexical")[0].id in {"h1", "h2", "h3"}


def test_lookups_by_id_doi_and_unknown(built):
    assert built.show("a1").title.startswith("Anoikis")
    with pytest.raises(NotFoundError):
        built.show("nope")
    with pytest.raises(NotFoundError):
        built.related("nope")


@pytest.mark.parametrize("k", [0, -1, 1001, "3", 2.5, True])
def test_bad_k_is_refused(built, k):
    with pytest.raises(InvalidInputError):
        built.related("a1", k)


def test_bad_text_and_mode_are_refused(built):
    for text in ("", "   ", None, "x" * 20001):
        with pytest.raises(InvalidInputError):
            built.search(text)
    with pytest.raises(InvalidInputError):
        built.search("anoikis", mode="magic")


def test_unbuilt_and_empty_indexes_say_what_to_do(make_service, tmp_path):
    service = make_service("fresh")
    with pytest.raises(IndexNotBuiltError, match="is empty"):
        service.search("anything")
    service.ingest([write(tmp_path / "c.jsonl", jsonl(CORPUS[:3]))])
    with pytest.raises(IndexNotBuiltError, match="run `recommender build`"):
        service.related("a1")
    with pytest.raises(IndexNotBuiltError, match="no papers"):
        make_service("other").build()


def test_paper_ingested_after_build_is_stale_until_rebuilt(built, tmp_path):
    built.ingest(
        [write(tmp_path / "new.jsonl", jsonl([{"id": "n1", "title": "Anoikis", "abstract": "anoikis again"}]))]
    )
    with pytest.raises(StaleIndexError):
        built.related("n1")
    built.build()
    assert built.related("n1", 1)[0].id in {"a1", "a2", "a3"}


def test_configured_model_must_match_the_index(built, make_service):
    with pytest.raises(IndexMismatchError, match="built with model"):
        make_service(model="some/other-model").related("a1")
    assert make_service(model="all-MiniLM-L6-v2").related("a1", 1)  # an alias of the bundled model


def test_themes_group_the_topics_and_name_them(built):
    report = built.themes(3)
    groups = [{TOPIC[paper] for paper in theme.papers} for theme in report.themes]
    assert sorted(len(group) for group in groups) == [1, 1, 1]
    labels = " ".join(theme.label.lower() for theme in report.themes)
    assert "anoikis" in labels and "hypoxia" in labels and ("il-6" in labels or "stat3" in labels or "caf" in labels)
    assert built.themes(3) is report  # cached per version and k


def test_themes_k_bounds(built):
    with pytest.raises(InvalidInputError):
        built.themes(0)
    with pytest.raises(InvalidInputError):
        built.themes(len(CORPUS) + 1)


def test_build_publishes_a_new_version_and_keeps_the_previous(built):
    first = built.versions.current_id()
    manifest = built.build()
    assert built.versions.current_id() == manifest.build_id != first
    assert first in built.versions.build_ids()
    assert manifest.count == len(CORPUS) and manifest.dimension == 256
    assert np.isclose(np.linalg.norm(np.load(built.versions.current_path() / "embeddings.npy"), axis=1), 1).all()
