"""The biomedical tokenizer keeps the symbols biologists search by."""

import pytest

from recommender.tokenizer import bigrams, index_terms, segments, stem, tokenize


def test_gene_and_cytokine_symbols_stay_whole():
    tokens = tokenize("TRIM32 degrades CHEK2 to promote IL-6 secretion; CX3CL1 and TGF-β signalling", stemmed=True)
    for symbol in ("trim32", "chek2", "il6", "cx3cl1", "tgfb"):
        assert symbol in tokens
    assert not {"il", "tgf", "beta"} & set(tokens)


def test_slash_separates_pathway_members():
    assert {"il-6", "stat3", "jak2"} <= set(tokenize("the IL-6/STAT3 and JAK2/STAT3 pathways"))


def test_greek_letters_match_their_spelled_names():
    assert tokenize("TGF-β") == tokenize("TGF-beta")
    assert "asma" in tokenize("α-SMA positive fibroblasts", stemmed=True)


def test_unicode_dashes_are_hyphens():
    assert tokenize("IL\u20116 and IL\u20136") == ["il-6", "il-6"]


def test_compounds_also_yield_word_parts_but_not_fragments():
    tokens = tokenize("cancer-associated fibroblasts and JAK-STAT3")
    assert {"cancer-associated", "cancer", "associated", "jak-stat3", "jak", "stat3"} <= set(tokens)
    assert tokenize("IL-6") == ["il-6"]  # '6' is not a word, so IL-6 stays whole only


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
    assert stem("IL-6") == "il6" and stem("TRIM32") == "trim32" and stem("NSCLC") == "nsclc"
    assert stem("CAFs") == "caf" == stem("CAF") and stem("TAMs") == "tam"
    assert stem("AIDS") == "aids" != stem("aids")  # the disease is not the verb
    assert stem("tumours") == stem("tumour")


# Real symbol forms as abstracts write them, each with the index words it must give (stemmed keys), and no
# others: a symbol's fragments (pd, l1, tgf, k48) are never terms of their own.
SYMBOL_FORMS = [
    ("PD-L1", {"pdl1"}),
    ("PDL1", {"pdl1"}),
    ("PD-1", {"pd1"}),
    ("anti-PD-1", {"pd1"}),
    ("anti-PD-L1", {"pdl1"}),
    ("PD-1/PD-L1", {"pd1", "pdl1"}),
    ("anti-CTLA-4", {"ctla4"}),
    ("CTLA4", {"ctla4"}),
    ("pro-IL-1β", {"il1b"}),
    ("IL-6", {"il6"}),
    ("IL6", {"il6"}),
    ("interleukin-6", {"il6"}),
    ("interleukin 6", {"il6"}),
    ("Interleukin-6", {"il6"}),
    ("IL-6R", {"il6r"}),
    ("IL-6/STAT3", {"il6", "stat3"}),
    ("IL-6/JAK2/STAT3", {"il6", "jak2", "stat3"}),
    ("IL-4/13", {"il4", "il13"}),
    ("IL-1α/β", {"il1a", "il1b"}),
    ("IL-1beta", {"il1b"}),
    ("IFN-γ", {"ifng"}),
    ("IFNγ", {"ifng"}),
    ("interferon-gamma", {"ifng"}),
    ("TNF-α", {"tnfa"}),
    ("TNFα", {"tnfa"}),
    ("TNF-alpha", {"tnfa"}),
    ("TGF-β", {"tgfb"}),
    ("TGF-beta", {"tgfb"}),
    ("TGFβ", {"tgfb"}),
    ("TGFB", {"tgfb"}),
    ("TGF-β1", {"tgfb1"}),
    ("TGFB1", {"tgfb1"}),
    ("NF-κB", {"nfkb"}),
    ("NF-kB", {"nfkb"}),
    ("NF-kappaB", {"nfkb"}),
    ("NFκB", {"nfkb"}),
    ("HIF-1α", {"hif1a"}),
    ("HIF1A", {"hif1a"}),
    ("α-SMA", {"asma"}),
    ("BRCA1/2", {"brca1", "brca2"}),
    ("ERK1/2", {"erk1", "erk2"}),
    ("CDK4/6", {"cdk4", "cdk6"}),
    ("SMAD2/3", {"smad2", "smad3"}),
    ("MMP-2/-9", {"mmp2", "mmp9"}),
    ("MMP-2/9", {"mmp2", "mmp9"}),
    ("miR-200a/b/c", {"mir200a", "mir200b", "mir200c"}),
    ("miR-199a-5p/3p", {"mir199a5p", "mir199a3p"}),
    ("miR-21", {"mir21"}),
    ("TLR7\u20139", {"tlr7", "tlr8", "tlr9"}),
    ("CXCL1\u20133", {"cxcl1", "cxcl2", "cxcl3"}),
    ("NKX2-5", {"nkx25"}),
    ("NKX2-1", {"nkx21"}),
    ("MT1-MMP", {"mt1mmp", "mt1", "mmp"}),  # two symbols joined: both parts are names in their own right
    ("JAK-STAT3", {"jakstat3", "jak", "stat3"}),
    ("PI3K/AKT/mTOR", {"pi3k", "akt", "mtor"}),
    ("PI3K-AKT-mTOR", {"pi3kaktmtor", "pi3k", "akt", "mtor"}),
    ("BRAF-V600E", {"brafv600e", "braf", "v600e"}),
    ("EGFR-TKIs", {"egfrtki", "egfr", "tki"}),
    ("STAT3-dependent", {"stat3dependent", "stat3", "depend"}),
    ("IL-6-mediated", {"il6mediated", "il6", "mediat"}),
    ("PD-L1-positive", {"pdl1positive", "pdl1", "posit"}),
    ("p53-dependent", {"p53dependent", "p53", "depend"}),
    ("K48-linked", {"k48linked", "link"}),
    ("K63-linked", {"k63linked", "link"}),
    ("SARS-CoV-2", {"sarscov2"}),
    ("COVID-19", {"covid19"}),
    ("Ki-67", {"ki67"}),
    ("Bcl-2", {"bcl2"}),
    ("BCL2", {"bcl2"}),
    ("Bcl-xL", {"bclxl"}),
    ("LC3-II", {"lc3ii"}),
    ("CD8+", {"cd8"}),
    ("CD44+/CD24-", {"cd44", "cd24"}),
    ("CAFs", {"caf"}),
    ("TAMs", {"tam"}),
    ("H3K27me3", {"h3k27me3"}),
    ("5-FU", {"5fu"}),
    ("TP53", {"tp53"}),
    ("c-Myc", {"c-myc", "myc"}),
    ("E-cadherin", {"e-cadherin", "cadherin"}),
    ("T-cell", {"t-cell", "cell"}),
    ("phase 1/2", {"phase"}),
    ("and/or", set()),
]


@pytest.mark.parametrize(("form", "expected"), SYMBOL_FORMS, ids=[form for form, _ in SYMBOL_FORMS])
def test_symbol_forms_give_the_terms_a_biologist_means(form, expected):
    assert set(tokenize(form, stemmed=True)) == expected


def test_the_table_covers_sixty_real_forms():
    assert len(SYMBOL_FORMS) >= 60


def test_a_symbol_query_shares_no_fragment_with_unrelated_abbreviations():
    query = set(index_terms("PD-L1 immunotherapy resistance"))
    parkinson = set(index_terms("Parkinson disease (PD) patients underwent DaTSCAN imaging"))
    dialysis = set(index_terms("Peritoneal dialysis (PD) and L1 vertebra bone density"))
    assert not query & parkinson and not query & dialysis


def test_family_expansion_is_linear_on_hostile_input():
    import time

    text = "BRCA1" + "/2" * 50_000 + " " + "a-" * 50_000 + "TLR7\u20139 " * 10_000 + "A" * 100_000 + "1\u20132"
    started = time.perf_counter()
    tokens = tokenize(text)
    assert time.perf_counter() - started < 5 and len(tokens) > 50_000
