"""Ranking (recommender.retrieval) on a tiny hand-made snapshot: each mode, exclusions and filters, the
candidate pool, text queries, paper queries and the configuration's checks. Plain 8-d vectors, no model."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from recommender.paper import Paper
from recommender.retrieval import (
    ABSTRACT_TERMS,
    PAPER_WEIGHT_CLINICAL,
    PAPER_WEIGHT_MOLECULAR,
    STRENGTH_MIN_PAPERS,
    Filters,
    RetrievalConfig,
    Retriever,
)
from recommender.snapshot import BuildInputs, Snapshot, write_snapshot
from recommender.strength import level
from recommender.tokenizer import index_terms

# Three topics of two papers each; row i of VECTORS is paper i.
PAPERS = [
    Paper(id="a1", title="Anoikis resistance in detached lung cancer cells",
          abstract="Detached cells resist anoikis through ERK signalling. Anoikis resistance drives metastasis.",
          journal="J Test", year=2020),
    Paper(id="a2", title="BIM loss and anoikis resistance",
          abstract="Breast cancer cells degrade BIM and resist anoikis after detachment.",
          journal="Oncology Test", year=2021),
    Paper(id="h1", title="Hypoxia stabilises HIF-1alpha",
          abstract="Under hypoxia HIF-1alpha induces glycolysis genes in glioblastoma. Hypoxia shapes metabolism.",
          journal="J Test", year=2018),
    Paper(id="h2", title="Hypoxia and angiogenesis", abstract="Hypoxia drives VEGF and angiogenesis in renal cancer.",
          journal="j test", year=2019),
    Paper(id="c1", title="Fibroblasts secrete IL-6",
          abstract="Cancer-associated fibroblasts secrete IL-6 which activates STAT3."),  # no year, no journal
    Paper(id="c2", title="STAT3 signalling in fibroblasts",
          abstract="Fibroblast IL-6 activates STAT3 and chemoresistance.", journal="Cell", year=2023),
]  # fmt: skip
ANOIKIS, HYPOXIA, CAF = (0, 1), (2, 3), (4, 5)


def unit(*values: float) -> np.ndarray:
    vector = np.zeros(8, dtype=np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


VECTORS = np.stack(
    [unit(1), unit(1, 0.3), unit(0, 0, 1), unit(0, 0, 1, 0.3), unit(0, 0, 0, 0, 1), unit(0, 0, 0, 0, 1, 0.3)]
)


def make_snapshot(folder: Path, papers: list[Paper], vectors: np.ndarray) -> Snapshot:
    folder.mkdir(parents=True, exist_ok=True)
    inputs = BuildInputs("m", None, index_kind="flat")
    write_snapshot(folder, build_id=folder.name, papers=papers, embeddings=vectors, inputs=inputs)
    return Snapshot.load(folder)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    return make_snapshot(tmp_path_factory.mktemp("retrieval") / "v1", PAPERS, VECTORS)


def rank(snapshot: Snapshot, mode: str, vector, tokens, k: int = 10, **kwargs):
    config = RetrievalConfig(mode=mode, candidates=kwargs.pop("candidates", 100))
    return Retriever(snapshot, config).rank(vector, tokens, k, **kwargs)


def rows(hits) -> list[int]:
    return [hit.row for hit in hits]


# ------------------------------------------------------------------------------------------- modes
def test_dense_mode_ranks_by_cosine_alone(snapshot):
    hits = rank(snapshot, "dense", VECTORS[2], ["anoiki"], k=3)
    assert rows(hits) == [2, 3, 0]  # the hypoxia papers first, whatever the tokens say
    assert [hit.score for hit in hits] == pytest.approx([float(VECTORS[row] @ VECTORS[2]) for row in rows(hits)])
    assert all(hit.score == hit.dense and hit.lexical == 0.0 for hit in hits)


def test_lexical_mode_returns_only_papers_holding_a_query_term(snapshot):
    hits = rank(snapshot, "lexical", None, ["hypoxia"])
    assert sorted(rows(hits)) == list(HYPOXIA)
    assert all(hit.lexical > 0 and hit.score == hit.lexical for hit in hits)
    assert rank(snapshot, "lexical", None, ["no-such-term"]) == []


def test_hybrid_ranks_a_paper_both_signals_find_first_and_keeps_what_only_one_finds(snapshot):
    hits = rank(snapshot, "hybrid", VECTORS[2], ["hypoxia", "anoiki"])
    assert set(rows(hits[:2])) == set(HYPOXIA)  # found by both signals
    assert set(ANOIKIS) <= set(rows(hits))  # found by the words only
    assert all(hit.dense > 0 and hit.lexical > 0 for hit in hits[:2])


def test_results_are_sorted_best_first_in_every_mode(snapshot):
    for mode in ("dense", "lexical", "hybrid"):
        hits = rank(snapshot, mode, VECTORS[4], ["il6", "stat3", "hypoxia"])
        assert hits, mode
        scores = [hit.score for hit in hits]
        assert scores == sorted(scores, reverse=True), mode


def test_a_query_without_a_vector_finds_nothing_by_meaning(snapshot):
    assert rank(snapshot, "dense", None, ["hypoxia"]) == []
    assert sorted(rows(rank(snapshot, "hybrid", None, ["hypoxia"]))) == list(HYPOXIA)


# ------------------------------------------------------------------------------------ exclude, allowed, k
def test_excluded_rows_never_come_back_and_k_results_still_do(snapshot):
    for mode in ("dense", "hybrid"):
        hits = rank(snapshot, mode, VECTORS[0], ["anoiki"], k=2, exclude={0, 1}, candidates=2)
        assert len(hits) == 2 and not {0, 1} & set(rows(hits)), mode
    assert rank(snapshot, "lexical", None, ["anoiki"], exclude={0}) == rank(snapshot, "lexical", None, ["anoiki"])[1:]


def test_only_allowed_rows_are_returned(snapshot):
    allowed = np.zeros(snapshot.size, dtype=bool)
    allowed[list(CAF)] = True
    for mode in ("dense", "lexical", "hybrid"):
        hits = rank(snapshot, mode, VECTORS[0], ["anoiki", "il6"], allowed=allowed, candidates=1)
        assert set(rows(hits)) <= set(CAF) and hits, mode
    hits = rank(snapshot, "dense", VECTORS[4], [], allowed=allowed, exclude={4})
    assert rows(hits) == [5] and allowed[4]  # the caller's mask is not changed by the exclusion


def test_k_larger_than_the_corpus_returns_every_permitted_paper_once(snapshot):
    hits = rank(snapshot, "dense", VECTORS[0], [], k=100)
    assert sorted(rows(hits)) == list(range(snapshot.size))
    assert len(rank(snapshot, "hybrid", VECTORS[0], ["anoiki"], k=100, exclude={0})) == snapshot.size - 1


def test_nothing_to_rank_gives_an_empty_list(snapshot):
    assert rank(snapshot, "hybrid", VECTORS[0], ["anoiki"], k=0) == []
    assert rank(snapshot, "hybrid", VECTORS[0], ["anoiki"], exclude=range(snapshot.size)) == []
    assert rank(snapshot, "hybrid", VECTORS[0], ["anoiki"], allowed=np.zeros(snapshot.size, dtype=bool)) == []
    empty = SimpleNamespace(size=0)  # a corpus of no papers (write_snapshot needs at least one)
    assert Retriever(empty).rank(VECTORS[0], ["anoiki"], 5) == []  # type: ignore[arg-type]


def test_negative_tokens_push_their_papers_down(snapshot):
    plain = {hit.row: hit.lexical for hit in rank(snapshot, "lexical", None, ["cancer"])}
    pushed = {hit.row: hit.lexical for hit in rank(snapshot, "lexical", None, ["cancer"], negative_tokens=["bim"])}
    assert pushed.get(1, 0.0) < plain[1]  # a2 holds BIM
    assert all(pushed[row] == pytest.approx(plain[row]) for row in pushed if row != 1)


# ----------------------------------------------------------------------------------- explanations
def test_hits_name_the_shared_terms_as_the_paper_writes_them_with_a_snippet(snapshot):
    text = "IL-6 and STAT3 in fibroblasts"
    tokens, _ = Retriever(snapshot).text_query(text)
    hits = rank(snapshot, "lexical", None, tokens, query_text=text)
    assert sorted(rows(hits)) == list(CAF)
    for hit in hits:
        assert {"IL-6", "STAT3"} <= set(hit.shared_terms)
        assert hit.snippet is not None and hit.snippet.text in PAPERS[hit.row].text
        assert "STAT3" in [hit.snippet.text[start:end] for start, end in hit.snippet.highlights]


def test_strength_is_given_only_for_hybrid_hits_in_a_corpus_of_fifty_papers(snapshot, tmp_path):
    assert all(hit.strength is None for hit in rank(snapshot, "hybrid", VECTORS[0], ["anoiki"]))
    rng = np.random.default_rng(0)
    topics = ["anoikis resistance", "hypoxia glycolysis", "fibroblast STAT3", "sleep apnoea", "coral reefs"]
    papers = [
        Paper(id=f"p{i}", title=f"Study {i} of {topics[i % 5]}", abstract=f"We studied {topics[i % 5]} in cohort {i}.")
        for i in range(STRENGTH_MIN_PAPERS)
    ]
    vectors = rng.normal(size=(len(papers), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    big = make_snapshot(tmp_path / "big", papers, vectors)
    hits = rank(big, "hybrid", vectors[0], ["anoiki", "resist"], k=5)
    assert hits and all(0.0 <= hit.strength <= 1.0 and hit.level == level(hit.strength) for hit in hits)
    assert all(hit.strength is None for hit in rank(big, "dense", vectors[0], ["anoiki"], k=5))
    assert all(hit.strength is None for hit in rank(big, "hybrid", None, ["anoiki"], k=5))


# ------------------------------------------------------------------------------------- text queries
def test_a_text_query_counts_each_term_once(snapshot):
    text = "hypoxia, hypoxia and again hypoxia in glioblastoma"
    tokens, as_paper = Retriever(snapshot).text_query(text)
    assert not as_paper
    assert index_terms(text).count("hypoxia") == 3 and tokens.count("hypoxia") == 1
    assert len(tokens) == len(set(tokens)) and set(tokens) == set(index_terms(text))
    assert Retriever(snapshot).text_query_tokens(text) == tokens


def test_a_pasted_abstract_becomes_its_key_terms_and_reads_as_a_paper(snapshot):
    abstract = " ".join(paper.text for paper in PAPERS)
    assert len(index_terms(abstract)) > ABSTRACT_TERMS
    tokens, as_paper = Retriever(snapshot).text_query(abstract)
    assert as_paper and Retriever.reads_as_paper(abstract)
    assert tokens == snapshot.lexical.key_terms(index_terms(abstract))
    assert 0 < len(tokens) < len(set(index_terms(abstract)))
    assert not Retriever.reads_as_paper("anoikis resistance in lung cancer")


# ------------------------------------------------------------------------------------ paper queries
def test_a_paper_as_a_query_is_its_key_terms_with_phrases_counted_twice(snapshot):
    tokens = Retriever(snapshot).paper_query_tokens(0)
    key_terms = snapshot.key_terms[0]
    assert set(tokens) == set(key_terms)
    for term in key_terms:
        assert tokens.count(term) == (2 if " " in term else 1) * key_terms.count(term)
    hits = Retriever(snapshot).rank(VECTORS[0], tokens, 2, exclude={0}, paper_query=True)
    assert hits[0].row == 1 and 0 not in rows(hits)


def test_examples_query_moves_towards_positives_and_penalises_the_negatives_own_terms(snapshot):
    retriever = Retriever(snapshot)
    vector, tokens, penalised = retriever.examples_query([0, 1], [2])
    assert np.linalg.norm(vector) == pytest.approx(1.0)
    assert float(vector @ VECTORS[0]) > 0.8 and float(vector @ VECTORS[2]) < 0
    assert "anoiki" in tokens and "hypoxia" in penalised
    positives = {term for row in (0, 1) for term in snapshot.key_terms[row]}
    assert not positives & set(penalised)
    plain_vector, plain_tokens, nothing = retriever.examples_query([0, 1], [])
    assert nothing == [] and plain_tokens == tokens
    plain = retriever.rank(plain_vector, plain_tokens, 4, exclude={0, 1}, examples=True)
    away = retriever.rank(vector, tokens, 4, exclude={0, 1}, negative_tokens=penalised, examples=True)
    assert rows(plain)[0] == 3 and rows(away).index(3) > 0  # h2 shares "cancer", but h1 was a negative example
    assert {hit.row: hit.lexical for hit in away}[2] < 0


def test_the_paper_weight_follows_how_molecular_the_corpus_is(snapshot, tmp_path):
    """Moved from test_relevance.py, on hand-made snapshots: a clinical corpus leans on meaning, a molecular
    one (gene symbols) on shared words; a configured weight wins."""
    clinical = [
        Paper(id=f"k{i}", title=f"Hip fracture surgery in older adults {i}",
              abstract="Postoperative delirium after hip fracture surgery delayed mobility recovery in older adults.")
        for i in range(3)
    ]  # fmt: skip
    clinical_snapshot = make_snapshot(tmp_path / "clinical", clinical, VECTORS[:3])
    assert Retriever(clinical_snapshot).paper_weight() == pytest.approx(PAPER_WEIGHT_CLINICAL)
    assert Retriever(snapshot).paper_weight() == pytest.approx(PAPER_WEIGHT_MOLECULAR)  # IL-6, STAT3, HIF-1alpha
    assert Retriever(snapshot, RetrievalConfig(paper_weight=0.3)).paper_weight() == 0.3


# ------------------------------------------------------------------------------------------ filters
def test_filters_that_filter_nothing_give_no_mask(snapshot):
    assert Filters().mask(snapshot) is None
    assert Filters(exclude=("a1",), min_strength="strong").mask(snapshot) is None  # applied elsewhere
    assert not Filters().active and Filters(year_max=2000).active


def test_a_year_filter_keeps_the_range_and_drops_papers_without_a_year(snapshot):
    assert Filters(year_min=2019, year_max=2021).mask(snapshot).tolist() == [True, True, False, True, False, False]
    assert Filters(year_min=2021).mask(snapshot).tolist() == [False, True, False, False, False, True]
    assert not Filters(year_max=2100).mask(snapshot)[4]  # c1 has no year


def test_a_journal_filter_ignores_case(snapshot):
    assert Filters(journals=("J TEST",)).mask(snapshot).tolist() == [True, False, True, True, False, False]
    assert Filters(journals=("cell", "oncology test")).mask(snapshot).tolist() == [
        False,
        True,
        False,
        False,
        False,
        True,
    ]
    assert not Filters(journals=("Nowhere",)).mask(snapshot).any()


def test_filters_combine_and_a_theme_filter_needs_theme_assignments(snapshot):
    themes = np.array([0, 0, 1, 1, 2, 2])
    mask = Filters(themes=(1, 2), year_min=2019).mask(snapshot, themes)
    assert mask.tolist() == [False, False, False, True, False, True]
    with pytest.raises(ValueError, match="theme"):
        Filters(themes=(1,)).mask(snapshot)


# ------------------------------------------------------------------------------------ configuration
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "semantic"}, "unknown retrieval mode 'semantic'"),
        ({"fusion": "magic"}, "unknown fusion method 'magic'"),
        ({"paper_fusion": "magic"}, "unknown fusion method"),
        ({"text_weight": 1.5}, "between 0 and 1"),
        ({"paper_weight": -0.1}, "between 0 and 1"),
        ({"candidates": 0}, "at least one"),
        ({"feedback": 51}, "feedback"),
        ({"text_feedback": -1}, "feedback"),
    ],
)
def test_a_bad_configuration_is_refused_with_what_is_wrong(options, message):
    with pytest.raises(ValueError, match=message):
        RetrievalConfig(**options)


def test_the_default_configuration_is_valid_hybrid():
    config = RetrievalConfig()
    assert config.mode == "hybrid" and config.paper_weight is None
    for mode in ("hybrid", "dense", "lexical"):
        assert RetrievalConfig(mode=mode).mode == mode
