"""The BM25 index: what a query's scores and a term's statistics are, before and after a save and load."""

from __future__ import annotations

import logging
from collections import Counter

import bm25s
import numpy as np
import pytest

from recommender.lexical_index import LexicalIndex

DOCUMENTS = [
    ["anoikis", "resistance", "anoikis", "il-6"],
    [],  # an empty document: bm25s gets a placeholder, no term of it is counted
    ["stat3", "il-6", "fibroblast", "fibroblast"],
    ["anoikis", "detachment", "stat3"],
    ["glycolysis"],
]


@pytest.fixture(params=["built", "loaded"])
def index(request, tmp_path):
    built = LexicalIndex.build(DOCUMENTS)
    if request.param == "built":
        return built
    built.save(tmp_path / "lexical")
    return LexicalIndex.load(tmp_path / "lexical", n_docs=len(DOCUMENTS))


def test_document_frequencies_count_the_documents_holding_a_term(index):
    counts = Counter(token for tokens in DOCUMENTS for token in set(tokens))
    for token, count in counts.items():
        assert index.document_frequency(token) == count
    assert index.document_frequency("") == 0  # the empty document's placeholder is no term
    assert index.document_frequency("unknown") == 0
    assert index.idf("anoikis") < index.idf("glycolysis") < index.idf("unknown")


def test_scores_are_bm25s_scores(index):
    model = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    model.index([tokens or [""] for tokens in DOCUMENTS], show_progress=False)
    for query in (["anoikis"], ["il-6", "stat3"], ["anoikis", "anoikis"], ["unknown", "glycolysis"]):
        expected = model.get_scores(query)
        np.testing.assert_allclose(index.scores(query), expected, rtol=1e-6)


def test_holders_and_upper_bound(index):
    rows = np.arange(len(DOCUMENTS))
    assert index.holders("stat3", rows).tolist() == [False, False, True, True, False]
    assert index.contains("anoikis", 0) and not index.contains("anoikis", 2)
    assert not index.holders("unknown", rows).any()
    assert index.scores(["anoikis", "il-6"]).max() <= index.upper_bound(["anoikis", "il-6"])
    assert index.upper_bound(["unknown"]) == 0.0


def test_the_sorted_vocabulary_finds_every_term_as_the_dict_did(tmp_path):
    """A loaded index looks terms up by bisection in its memory-mapped sorted vocabulary: every term of a
    varied vocabulary (symbols, phrases, non-ASCII, prefixes of each other) maps to bm25s's own column."""
    words = ["il-6", "il-6r", "il", "stat3", "tgf-β", "tgfb", "anoikis resistance", "anoikis", "ζ", "a", "zz", "é"]
    documents = [words[i:] + words[: i % 3] for i in range(len(words))]
    built = LexicalIndex.build(documents)
    built.save(tmp_path / "lexical")
    loaded = LexicalIndex.load(tmp_path / "lexical", n_docs=len(documents))
    assert loaded.vocabulary() == built.vocabulary()
    for word in [*words, "unknown", "il-", "", "zzz", "\u0000"]:
        assert loaded.document_frequency(word) == built.document_frequency(word)
        np.testing.assert_array_equal(loaded.scores([word]), built.scores([word]))


def test_an_index_saved_before_the_sorted_vocabulary_still_loads(tmp_path):
    built = LexicalIndex.build(DOCUMENTS)
    built.save(tmp_path / "lexical")
    for name in ("vocab.sorted.txt", "vocab.sorted.npy"):
        (tmp_path / "lexical" / name).unlink()
    loaded = LexicalIndex.load(tmp_path / "lexical", n_docs=len(DOCUMENTS))
    np.testing.assert_array_equal(loaded.scores(["anoikis", "stat3"]), built.scores(["anoikis", "stat3"]))


def test_a_build_logs_no_bm25s_debug_line(caplog):
    """Found by a README check: every build printed "DEBUG bm25s: Building index from tokens" without -v, as
    bm25s sets its logger to DEBUG when it is first imported (lazily, after this package set it to WARNING)."""
    logging.getLogger("bm25s").setLevel(logging.DEBUG)  # as bm25s's first import leaves it
    caplog.set_level(logging.DEBUG)
    LexicalIndex.build([["anoikis", "resistance"], ["hypoxia", "glycolysis"]])
    assert [record.getMessage() for record in caplog.records if record.name.startswith("bm25s")] == []
