"""The reading of a hit for its explanation: which sentence, which spelling, and the query's spellings read
only as far as needed (the fast paths must give what reading everything gives)."""

from __future__ import annotations

import pytest

from recommender.snippets import Forms, Reading, Spellings, best_snippet
from recommender.tokenizer import spellings, stem

TEXTS = [
    "A general role for splicing enhancers in exon definition.\nSuboptimal 5' splice sites are activated.",
    "Therapy of skin lesions.\nInterleukin-1 drives the lesions. IL-1 and the epidermis: therapies compared.",
    "NF-κB and TGF-β in CAFs.\nCancer-associated fibroblasts secrete IL-6/STAT3 ligands; anti-PD-L1 therapy.",
    "Disabled patients. Disability scores rose. Probability of disability was low.",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_query_spellings_read_key_by_key_equal_the_whole_texts(text):
    whole = spellings(text)
    lazy = Spellings(text)
    for key in whole:
        assert lazy[key] == whole[key], key
    with pytest.raises(KeyError):
        lazy["no-such-key"]


def test_a_key_whose_stem_is_not_a_substring_of_its_word_still_gets_its_first_spelling():
    text = "A general role for splicing enhancers.\nThe splice sites were weak."
    assert stem("splicing") == "splice"
    assert Spellings(text)["splice"] == "splicing"
    assert Spellings("Interleukin-1 first. Then IL-1 again.")[stem("IL-1")] == "Interleukin-1"


KEYS = {stem(word) for word in ("splicing", "lesions", "IL-6", "STAT3", "PD-L1", "fibroblasts", "disability")}
SENTENCES = [sentence for text in TEXTS for sentence in text.replace(". ", ".\n").splitlines() if sentence]


@pytest.mark.parametrize("sentence", SENTENCES)
def test_a_keyed_reading_of_a_sentence_finds_what_a_full_reading_finds_for_those_keys(sentence):
    full, keyed = Reading(sentence), Reading(sentence, KEYS)
    assert {key: form for key, form in keyed.forms.items() if key in KEYS} == {
        key: form for key, form in full.forms.items() if key in KEYS
    }
    marked = {(a, b): found & KEYS for _, words in full.sentences for a, b, found in words if found & KEYS}
    assert {(a, b): found for _, words in keyed.sentences for a, b, found in words} == marked


def test_snippet_marks_compound_parts_and_symbols_as_written():
    text = "Title.\nCancer-associated fibroblasts secrete IL-6 and activate STAT3 in tumour cells."
    snippet = best_snippet(text, [stem("IL-6"), stem("STAT3"), "fibroblast"])
    assert snippet is not None
    assert [snippet.text[a:b] for a, b in snippet.highlights] == ["fibroblasts", "IL-6", "STAT3"]


def test_forms_prefer_the_hits_spelling_and_fall_back_to_the_querys():
    forms = Forms({"caf": "CAFs"}, {"caf": "CAF", "il6": "IL-6"})
    assert forms["caf"] == "CAFs" and forms.get("il6") == "IL-6" and forms.get("none", "x") == "x"
    assert "il6" in forms and "none" not in forms and set(forms) == {"caf", "il6"} and len(forms) == 2
    with pytest.raises(KeyError):
        forms["none"]
