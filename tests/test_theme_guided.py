"""Named themes: fit from words and meaning, founding members, weak fits never forced."""

from __future__ import annotations

import numpy as np

from recommender.themes import SeedThemes, ThemeModel
from recommender.themes.guided import FIT_CORE, core_members, dense_evidence, seed_fit, word_coverage
from recommender.themes.views import lexical_view
from recommender.tokenizer import index_terms

TEXTS = [
    "Anoikis resistance lets detached gastric cancer cells survive and metastasise.",
    "SERPINE1 drives anoikis resistance of detached tumour cells.",
    "Cancer-associated fibroblasts secrete IL-6 and activate STAT3 signalling.",
    "IL-6 from CAFs drives STAT3 signalling and metastasis.",
    "Insulin resistance in obese adolescents.",
    "Insulin resistance and type 2 diabetes in adults.",
    "Asthma control with inhaled steroids.",
    "Wheezing and asthma in schoolchildren.",
]


def vectors_for(groups, dim=12, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.eye(dim)[: max(groups) + 1] * 3
    points = np.array([centres[g] + rng.normal(scale=0.4, size=dim) for g in groups], dtype=np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def names(vectors, *named):
    return SeedThemes(tuple(named), vectors, tuple(tuple(index_terms(name)) for name in named))


def test_word_coverage_weights_terms_by_idf():
    view = lexical_view([index_terms(t) for t in TEXTS])
    coverage = word_coverage(view, [index_terms("anoikis resistance")], len(TEXTS))[:, 0]
    assert coverage[0] == coverage[1] == 1.0
    assert 0 < coverage[4] < 0.5  # "resistance" alone: the common word of the name
    assert coverage[6] == 0.0


def test_dense_evidence_is_relative_to_the_corpus():
    embeddings = vectors_for([0, 0, 1, 1, 2, 2, 3, 3])
    evidence = dense_evidence(embeddings, embeddings[[0]])
    assert evidence[0, 0] >= 0.5 and evidence[1, 0] > evidence[6, 0]
    assert ((evidence >= 0) & (evidence <= 1)).all()


def test_papers_that_fit_a_name_found_its_theme_and_weak_fits_do_not():
    groups = [0, 0, 1, 1, 2, 2, 3, 3]
    embeddings = vectors_for(groups)
    view = lexical_view([index_terms(t) for t in TEXTS])
    seeds = names(embeddings[[0, 2]], "anoikis resistance", "CAF IL-6 STAT3 signalling")
    fit = seed_fit(embeddings, view, seeds)
    core = core_members(fit)
    assert core[:4].tolist() == [0, 0, 1, 1]
    assert (core[4:] == -1).all() and fit[4, 0] < FIT_CORE  # insulin resistance shares a word, not the idea


def test_named_themes_come_first_named_as_given():
    groups = [0, 0, 1, 1, 2, 2, 3, 3]
    embeddings = vectors_for(groups)
    seeds = names(embeddings[[0, 2]], "anoikis resistance", "CAF IL-6 STAT3 signalling")
    model = ThemeModel(n_themes=4).fit(embeddings, TEXTS, seeds=seeds)
    assert [theme.label for theme in model.themes_[:2]] == ["anoikis resistance", "CAF IL-6 STAT3 signalling"]
    assert [theme.seed for theme in model.themes_] == ["anoikis resistance", "CAF IL-6 STAT3 signalling", None, None]
    assert sorted(model.themes_[0].rows) == [0, 1] and sorted(model.themes_[1].rows) == [2, 3]
    rest = sorted(sorted(theme.rows) for theme in model.themes_[2:])
    assert rest == [[4, 5], [6, 7]]  # discovered as usual


def test_a_name_no_paper_fits_gives_an_empty_theme():
    embeddings = vectors_for([0, 0, 1, 1, 2, 2, 3, 3])
    rng = np.random.default_rng(5)
    elsewhere = rng.normal(size=(1, embeddings.shape[1])).astype(np.float32)
    seeds = names(elsewhere / np.linalg.norm(elsewhere), "zebrafish fin regeneration")
    model = ThemeModel().fit(embeddings, TEXTS, seeds=seeds)
    assert model.themes_[0].label == "zebrafish fin regeneration" and model.themes_[0].rows == []
    assert sum(len(theme.rows) for theme in model.themes_) + len(model.unassigned_) == len(TEXTS)
