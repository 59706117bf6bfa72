"""Relevance a biologist trusts: symbols never matched by their fragments, a calibrated strength that says
when a list turns weak, and explanations with the sentence that carries them (fake embedder)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import CORPUS, built_service, filler_papers

from recommender.errors import InvalidInputError
from recommender.retrieval import FEEDBACK_MIN_PAPERS, Filters, Retriever
from recommender.snippets import MAX_CHARS, best_snippet, sentences
from recommender.strength import CALIBRATIONS, RELATED, STRONG, at_least, level
from recommender.tokenizer import index_terms

PD_PAPERS = [
    {"id": "pdl1", "title": "PD-L1 on tumour cells limits immunotherapy",
     "abstract": "Tumour PD-L1 binds PD-1 on T cells. High PD-L1 predicts immunotherapy resistance in melanoma; "
                 "anti-PD-1 antibodies restore T cell killing.", "year": 2021, "journal": "J Test"},
    {"id": "pdl1b", "title": "Interferon induces PDL1 in lung cancer",
     "abstract": "Interferon-gamma induces PDL1 expression in lung cancer cells and resistance to "
                 "immunotherapy.", "year": 2022, "journal": "J Test"},
    {"id": "parkinson", "title": "DaTSCAN imaging in Parkinson disease",
     "abstract": "Patients with Parkinson disease (PD) underwent DaTSCAN imaging. PD severity correlated with "
                 "striatal uptake.", "year": 2019, "journal": "Neuro Test"},
    {"id": "dialysis", "title": "Peritoneal dialysis outcomes",
     "abstract": "Peritoneal dialysis (PD) patients had fewer infections. L1 vertebra density was measured in "
                 "PD patients.", "year": 2020, "journal": "Renal Test"},
]  # fmt: skip


@pytest.fixture()
def pd_service(tmp_path):
    return built_service(tmp_path / "indexes", tmp_path, CORPUS + PD_PAPERS + filler_papers())


def test_pd_l1_query_never_matches_a_paper_by_the_fragment_pd(pd_service):
    hits = pd_service.search("PD-L1 immunotherapy resistance", k=60)
    by_id = {hit.id: hit for hit in hits}
    assert [hit.id for hit in hits[:2]] == ["pdl1", "pdl1b"] or {hits[0].id, hits[1].id} == {"pdl1", "pdl1b"}
    for unrelated in ("parkinson", "dialysis"):
        if unrelated in by_id:
            assert by_id[unrelated].lexical == 0.0 and by_id[unrelated].shared_terms == []
    assert "PD-L1" in by_id["pdl1"].shared_terms and "PDL1" in by_id["pdl1b"].shared_terms  # the hit's own spelling


def test_the_lexical_query_of_pd_l1_shares_no_term_with_pd_papers():
    query = set(index_terms("PD-L1 immunotherapy resistance"))
    for paper in PD_PAPERS[2:]:
        assert not query & set(index_terms(paper["title"] + " " + paper["abstract"]))


def test_every_hybrid_hit_has_a_strength_and_weak_hits_come_last_in_their_order(pd_service):
    hits = pd_service.search("anoikis resistance", k=13)
    assert all(hit.match in {"strong", "related", "weak"} and 0 <= hit.strength <= 1 for hit in hits)
    assert hits[0].match in {"strong", "related"}  # papers about anoikis resistance
    assert any(hit.match == "weak" for hit in hits)  # hypoxia, PD-L1 and dialysis papers are not
    assert all(level(hit.strength) == hit.match for hit in hits)


def test_min_strength_cuts_the_list(pd_service):
    everything = pd_service.search("anoikis resistance", k=13)
    kept = pd_service.search("anoikis resistance", k=13, filters=Filters(min_strength="related"))
    assert [hit.id for hit in kept] == [hit.id for hit in everything if hit.match != "weak"]
    assert 0 < len(kept) < len(everything)


def test_min_strength_needs_both_score_parts_and_a_known_name(pd_service):
    with pytest.raises(InvalidInputError, match="hybrid"):
        pd_service.search("anoikis", mode="dense", filters=Filters(min_strength="strong"))
    with pytest.raises(InvalidInputError, match="unknown strength"):
        pd_service.search("anoikis", filters=Filters(min_strength="weakish"))


def test_a_hit_carries_the_sentence_with_its_shared_terms_marked(pd_service):
    hit = pd_service.related("c1", k=1)[0]
    snippet = hit.snippet
    assert snippet is not None and snippet["highlights"]
    marked = [snippet["text"][start:end] for start, end in snippet["highlights"]]
    assert any(word in {"IL-6", "STAT3", "fibroblasts", "Fibroblast", "CAF"} for word in marked), marked
    paper = next(record for record in CORPUS if record["id"] == hit.id)
    assert snippet["text"] in paper["title"] + " " + paper["abstract"]


def test_strength_grows_with_both_parts_and_names_follow_the_thresholds():
    for calibration in CALIBRATIONS.values():
        low = calibration.probability(0.0, 0.0)
        assert calibration.probability(3.0, 0.0) > low and calibration.probability(0.0, 0.8) > low
    assert level(STRONG) == "strong" and level(RELATED) == "related" and level(RELATED - 0.01) == "weak"
    assert at_least("strong", "related") and not at_least("weak", "related")


def test_the_snippet_is_the_sentence_with_most_shared_terms_and_is_bounded():
    text = "A title about nothing\nCells were grown. SERPINE1 confers anoikis resistance via TGF-β. PD-L1 was low."
    snippet = best_snippet(text, ["serpine1", "anoiki resist", "tgfb"])
    assert snippet is not None and snippet.text == "SERPINE1 confers anoikis resistance via TGF-β."
    assert [snippet.text[a:b] for a, b in snippet.highlights] == ["SERPINE1", "anoikis", "resistance", "TGF-β"]
    assert best_snippet(text, ["hypoxia"]) is None
    long = "word " * 2000 + "STAT3 is here " + "word " * 2000
    clipped = best_snippet(long, ["stat3"])
    assert clipped is not None and len(clipped.text) <= MAX_CHARS + 2
    assert [clipped.text[a:b] for a, b in clipped.highlights] == ["STAT3"]
    assert len(sentences("A. " * 100_000)) <= 20_000


def test_feedback_and_strength_need_a_corpus_of_fifty_papers(pd_service, tmp_path):
    snapshot = pd_service._current_snapshot()
    assert snapshot.size >= FEEDBACK_MIN_PAPERS and Retriever(snapshot)._feedback_applies(snapshot.size)
    small = built_service(tmp_path / "small", tmp_path, CORPUS)
    assert not Retriever(small._current_snapshot())._feedback_applies(len(CORPUS))
    assert all(hit.strength is None and hit.match is None for hit in small.search("anoikis resistance"))
    with pytest.raises(InvalidInputError, match="50 papers"):
        small.search("anoikis", filters=Filters(min_strength="related"))
    assert Retriever.reads_as_paper(" ".join(CORPUS[0]["abstract"] for _ in range(4)))
    assert not Retriever.reads_as_paper("anoikis resistance in lung cancer")


def test_http_hits_carry_strength_and_snippet_and_min_strength_is_validated(pd_service):
    from test_web import assert_error

    from recommender.web import create_app

    client = create_app(service=pd_service).test_client()
    hits = client.post("/search", json={"text": "anoikis resistance", "k": 13}).get_json()
    assert {"strength", "match", "snippet"} <= set(hits[0]) and hits[0]["snippet"]["highlights"]
    cut = client.post("/search", json={"text": "anoikis resistance", "k": 13, "filters": {"min_strength": "related"}})
    assert [hit["id"] for hit in cut.get_json()] == [hit["id"] for hit in hits if hit["match"] != "weak"]
    related = client.get("/papers/a1/related?min_strength=strong&k=5")
    assert related.status_code == 200 and all(hit["match"] == "strong" for hit in related.get_json())
    assert_error(client.get("/papers/a1/related?min_strength=weakish"), 400)
    assert_error(client.get("/papers/a1/related?min_strength=strong&mode=dense"), 400)


def test_holders_agrees_with_contains(pd_service):
    lexical = pd_service._current_snapshot().lexical
    rows = np.arange(lexical.n_docs)
    for term in ("anoiki", "pdl1", "stat3", "hypoxia", "no-such-term", "anoiki resist"):
        assert lexical.holders(term, rows).tolist() == [lexical.contains(term, int(row)) for row in rows]
