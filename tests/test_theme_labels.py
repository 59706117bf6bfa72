"""The label rule: coverage and lift, names not verbs or fragments, one idea once, consistent case."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import jsonl, write
from scipy import sparse

from recommender.themes import labels
from recommender.themes.labels import (
    MIN_COVERAGE,
    MIN_LIFT,
    abbreviation_pairs,
    explains,
    longest_phrase,
    phrase_runs,
    reads_as_name,
    term_shares,
    theme_terms,
)
from recommender.tokenizer import index_terms


@pytest.mark.parametrize(
    "term",
    ["anoikis resistance", "IL-6", "STAT3 signalling", "CAFs", "glycolysis", "cancer-associated fibroblasts",
     "breast cancer", "epithelial-mesenchymal transition", "quality of life", "p53"],
)  # fmt: skip
def test_names_read_as_names(term):
    assert reads_as_name(term)


@pytest.mark.parametrize(
    "term",
    ["queried", "reversed", "enhance local", "receiving tamoxifen", "receiving AIs", "expressed", "follow",
     "significantly", "patients", "results", "advanced", "induced", "cells", "a b c d"],
)  # fmt: skip
def test_verbs_fragments_and_boilerplate_do_not(term):
    assert not reads_as_name(term)


def test_shares_and_lift():
    presence = sparse.csr_matrix(np.array([[1, 1], [1, 0], [0, 1], [0, 1]]))
    inside, outside, lift = term_shares(presence, np.array([0, 0, 1, 1]), 2)
    assert inside[0].tolist() == [1.0, 0.5] and outside[0].tolist() == [0.0, 1.0]
    assert lift[0][0] == np.inf and lift[0][1] == 0.5


def corpus_terms(texts):
    vocabulary = sorted({term for text in texts for term in index_terms(text)})
    column = {term: i for i, term in enumerate(vocabulary)}
    rows = [(r, column[t]) for r, text in enumerate(texts) for t in set(index_terms(text))]
    presence = sparse.csr_matrix(
        (np.ones(len(rows)), tuple(zip(*rows, strict=True))), shape=(len(texts), len(vocabulary))
    )
    return presence, vocabulary


ANOIKIS = [
    "Anoikis resistance lets detached tumour cells survive; we queried anoikis resistance in gastric cancer.",
    "Detached cells escape anoikis. Anoikis resistance depends on TRIM32 in lung cancer.",
    "SERPINE1 drives anoikis resistance and metastasis of gastric cancer.",
]
CAF = [
    "Cancer-associated fibroblasts (CAFs) secrete IL-6 and activate STAT3 signalling in lung cancer.",
    "CAFs promote metastasis; cancer-associated fibroblasts secrete IL-6, activating STAT3.",
    "IL-6 from CAFs drives STAT3 signalling and brain metastasis of breast cancer.",
]
OTHER = [f"Asthma in children {i}: inhaled steroids and wheezing in a cohort of schoolchildren." for i in range(6)]


def test_labels_follow_the_rule_and_name_each_group():
    texts = ANOIKIS + CAF + OTHER
    labels = np.array([0] * 3 + [1] * 3 + [2] * 6)
    presence, vocabulary = corpus_terms(texts)
    groups = [[texts[i] for i in np.flatnonzero(labels == t)] for t in range(3)]
    found = theme_terms(presence, vocabulary, labels, 3, groups, n_terms=6)
    assert [tier for _, tier in found] == ["strict"] * 3
    terms = [shown for shown, _ in found]
    assert terms[0][0] == "anoikis resistance"
    assert "queried" not in terms[0] and "anoikis" not in terms[0]  # a verb; a word inside a chosen phrase
    assert "IL-6" in terms[1] and any("STAT3" in term for term in terms[1])
    caf_names = [t for t in terms[1] if t in ("CAFs", "cancer-associated fibroblasts", "fibroblasts")]
    assert len(caf_names) == 1  # an abbreviation and its long form are one idea
    assert "cancer" not in terms[0] + terms[1]  # used by both groups: no lift
    inside, _, lift = term_shares(presence, labels, 3)
    column = {term: i for i, term in enumerate(vocabulary)}
    for theme, shown in enumerate(terms):
        for term in shown:
            keys = [k for k in index_terms(term) if k in column]
            assert any(inside[theme][column[k]] >= MIN_COVERAGE and lift[theme][column[k]] >= MIN_LIFT for k in keys)


def test_terms_are_shown_in_consistent_case():
    texts = ["Anoikis Resistance in Lung Cancer cells with STAT3.", "anoikis resistance and STAT3 in cells.", *OTHER]
    labels = np.array([0, 0] + [1] * 6)
    presence, vocabulary = corpus_terms(texts)
    terms = [shown for shown, _ in theme_terms(presence, vocabulary, labels, 2, [texts[:2], texts[2:]])]
    assert "anoikis resistance" in terms[0] and "STAT3" in " ".join(terms[0])
    assert all(term == term.lower() or any(ch.isdigit() or ch.isupper() for ch in term[1:]) for term in terms[0])


def test_a_broad_theme_is_labelled_by_the_broad_tier_and_says_so():
    words = "apple birch cedar daisy ember fjord grove heron iris juniper kelp lotus".split()
    broad = [f"{word} orchard surgery" if i < 3 else word for i, word in enumerate(words)]
    other = [f"Asthma and wheezing in {word}." for word in words]
    texts = broad + other
    labels = np.array([0] * 12 + [1] * 12)
    presence, vocabulary = corpus_terms(texts)
    (terms, tier), _ = theme_terms(presence, vocabulary, labels, 2, [broad, other])
    assert tier == "broad" and any("surgery" in term for term in terms)  # 25% of the theme: the broad tier
    inside, _, _ = term_shares(presence, labels, 2)
    column = vocabulary.index("surgeri")
    assert 0.2 <= inside[0][column] < MIN_COVERAGE


def test_abbreviations_are_found_in_the_texts():
    pairs = dict(abbreviation_pairs(CAF))
    assert "caf" in pairs and "fibroblast" in pairs["caf"]


def test_a_term_is_shown_as_the_phrase_it_sits_in():
    texts = [f"Quality of life improved ({i}); quality of life scores." for i in range(4)] + [
        f"Vascular endothelial growth factor {i} drives angiogenesis." for i in range(4)
    ]
    index = phrase_runs(texts)
    assert longest_phrase("life", index) == "quality of life"
    assert longest_phrase("endothelial growth", index) == "vascular endothelial growth factor"
    assert longest_phrase("asthma", index) == "asthma"


def test_why_related_terms_follow_the_same_rule():
    assert explains("anoikis resistance", document_frequency=3, n_documents=100)
    assert not explains("cancer", document_frequency=60, n_documents=100)  # a third or more of the corpus
    assert not explains("queried", document_frequency=2, n_documents=100)


def test_related_papers_explain_themselves_with_names_in_consistent_case(make_service, tmp_path):
    records = [
        {"id": "a1", "title": "Anoikis Resistance in Gastric Cancer", "abstract": "Anoikis Resistance expressed by detached cells; we queried SERPINE1."},
        {"id": "a2", "title": "anoikis resistance and SERPINE1", "abstract": "Detached cells expressed SERPINE1 and resist anoikis; we queried lung cancer."},
        *[{"id": f"o{i}", "title": f"Asthma study {i}", "abstract": "Inhaled steroids expressed as doses; we queried lung cancer registries in children."} for i in range(8)],
    ]  # fmt: skip
    service = make_service()
    service.ingest([write(tmp_path / "c.jsonl", jsonl(records))])
    service.build()
    terms = service.related("a1", 1)[0].shared_terms
    assert "anoikis resistance" in terms and "SERPINE1" in terms  # the pair's own words, case made consistent
    assert not {"expressed", "queried", "Anoikis Resistance", "lung cancer", "cancer"} & set(terms)


@pytest.mark.parametrize(
    "word",
    [
        "cancer",
        "tumor",
        "expressed",
        "advanced",
        "follow",
        "criteria",
        "rates",
        "can",
        "may",
        "all",
        "resistance",
        "anoikis",
        "Tumor",
        "the",
        "quickly",
        "zygotes",
        "aachen",
    ],
)
def test_parts_of_speech_are_lemminflects(word):
    """The bisection lookup in the lexicon's lines gives what lemminflect itself gives (its lexicon and its
    overrides; a modal counts as AUX), so reading the file directly changes no label."""
    from lemminflect import getAllLemmas

    expected = {"AUX" if tag == "MODAL" else tag for tag in getAllLemmas(word.lower())}
    assert labels._parts_of_speech(word) == expected


def test_the_lexicon_is_sorted_by_word():
    """The lookup bisects the shipped lexicon: it relies on the lines being sorted by word."""
    lines, _ = labels._lexicon()
    words = [labels._lexicon_word(line) for line in lines]
    assert len(words) > 50_000 and words == sorted(words)
