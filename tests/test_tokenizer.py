"""The biomedical tokenizer keeps the symbols biologists search by."""

from recommender.tokenizer import bigrams, index_terms, segments, stem, tokenize


def test_gene_and_cytokine_symbols_stay_whole():
    tokens = tokenize("TRIM32 degrades CHEK2 to promote IL-6 secretion; CX3CL1 and TGF-β signalling")
    for symbol in ("trim32", "chek2", "il-6", "cx3cl1", "tgf-beta"):
        assert symbol in tokens


def test_slash_separates_pathway_members():
    assert {"il-6", "stat3", "jak2"} <= set(tokenize("the IL-6/STAT3 and JAK2/STAT3 pathways"))


def test_greek_letters_match_their_spelled_names():
    assert tokenize("TGF-β") == tokenize("TGF-beta")
    assert "alpha-sma" in tokenize("α-SMA positive fibroblasts")


def test_unicode_dashes_are_hyphens():
    assert tokenize("IL\u20116 and IL\u20136") == ["il-6", "il-6"]


def test_compounds_also_yield_word_parts_but_not_fragments():
    tokens = tokenize("cancer-associated fibroblasts and JAK-STAT3")
    assert {"cancer-associated", "cancer", "associated", "jak-stat3", "jak", "stat3"} <= set(tokens)
    assert "il" not in tokenize("IL-6")  # '6' is not a word, so IL-6 stays whole only


def test_stopwords_and_bare_numbers_are_dropped():
    assert tokenize("the 25 patients and a 3.5 ratio") == ["patients", "ratio"]


def test_cd_markers_lose_the_plus():
    assert "cd8" in tokenize("CD8+ T cells")


def test_bigrams_respect_punctuation():
    assert "anoikis resistance" in bigrams("promotes anoikis resistance in NSCLC")
    assert "fibroblasts cafs" not in bigrams("cancer-associated fibroblasts (CAFs)")
    assert "il-6 stat3" in bigrams("IL-6/STAT3 signalling")
    assert segments("a b (c d), e") == [["a", "b"], ["c", "d"], ["e"]]


def test_index_terms_hold_stemmed_words_and_phrases():
    terms = index_terms("Anoikis resistance and metastasis")
    assert set(terms) == {
        stem("Anoikis"),
        stem("resistance"),
        stem("metastasis"),
        f"{stem('Anoikis')} {stem('resistance')}",
    }
    assert index_terms("fibroblasts signalling") == index_terms("fibroblast signaling")


def test_stemming_keeps_symbols_and_acronyms():
    assert stem("IL-6") == "il-6" and stem("TRIM32") == "trim32" and stem("NSCLC") == "nsclc"
    assert stem("CAFs") == "caf" == stem("CAF") and stem("TAMs") == "tam"
    assert stem("AIDS") == "aids" != stem("aids")  # the disease is not the verb
    assert stem("tumours") == stem("tumour")
