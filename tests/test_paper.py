"""Identity rules of the normalised record: stable ids, DOI/PMID normalisation, merging."""

import pytest
from pydantic import TypeAdapter, ValidationError

from recommender.errors import InvalidInputError
from recommender.paper import (
    MAX_ID_LENGTH,
    Paper,
    assign_id,
    check_reference,
    content_id,
    merge_papers,
    normalize_doi,
    normalize_pmid,
    usable_id,
)
from recommender.web.schemas import PaperId


def test_doi_is_lower_cased_and_stripped_of_prefixes_and_punctuation():
    assert normalize_doi("https://doi.org/10.1186/S40164-025-00713-9.") == "10.1186/s40164-025-00713-9"
    assert normalize_doi("doi: 10.1002/smll.202500136. Epub 2025") == "10.1002/smll.202500136"
    assert normalize_doi("10.1016/S0140-6736(20)30183-5") == "10.1016/s0140-6736(20)30183-5"
    assert normalize_doi("(see 10.1000/xyz123)") == "10.1000/xyz123"
    assert normalize_doi("not a doi") is None


def test_pmid_accepts_digits_only():
    assert normalize_pmid("PMID: 12345678") == "12345678"
    assert normalize_pmid(31415) == "31415"
    assert normalize_pmid("12ab") is None
    assert normalize_pmid("0") is None


def test_id_order_is_given_then_doi_then_pmid_then_content_hash():
    assert assign_id("my-1", "10.1/x", "5", "t", "a") == "my-1"
    assert assign_id(None, "10.1/x", "5", "t", "a") == "doi:10.1/x"
    assert assign_id("", None, "5", "t", "a") == "pmid:5"
    assert assign_id(None, None, None, "Title", "Abstract") == content_id("Title", "Abstract")


def test_content_id_ignores_case_and_spacing():
    assert content_id("A  Title", "Some\nabstract") == content_id("a title", "some abstract")
    assert content_id("A title", "one") != content_id("A title", "two")


def test_text_joins_title_and_abstract():
    assert Paper(id="x", title="A title", abstract="Body.").text == "A title. Body."
    assert Paper(id="x", title="Ends here.", abstract="Body.").text == "Ends here. Body."
    assert Paper(id="x", abstract="Only body.").text == "Only body."


def test_merge_keeps_id_fills_gaps_and_unions_lists():
    old = Paper(id="doi:10.1/x", title="T", abstract="short", doi="10.1/x", authors=["A B"], keywords=["k1"])
    new = Paper(
        id="pmid:9",
        title="T2",
        abstract="a much longer abstract",
        pmid="9",
        journal="J",
        year=2020,
        authors=["A B", "C D"],
        keywords=["K1", "k2"],
    )
    merged = merge_papers(old, new)
    assert merged.id == "doi:10.1/x"
    assert (merged.title, merged.pmid, merged.journal, merged.year) == ("T", "9", "J", 2020)
    assert merged.abstract == "a much longer abstract"
    assert merged.authors == ["A B", "C D"]
    assert merged.keywords == ["k1", "k2"]


def test_one_paper_id_rule_for_lookups_stored_ids_and_the_api_schema():
    """check_reference, usable_id and the API's PaperId schema agree on every sample (one rule, in paper.py)."""
    schema = TypeAdapter(PaperId)
    samples = ["doi:10.1/x", "pmid:5", "h:ab12", "x" * MAX_ID_LENGTH, "x" * (MAX_ID_LENGTH + 1), "a\x00b", "a\x1fb"]
    samples += ["a\x7fb", "a\x85b", "a\x9fb", "café", "a b", ""]
    for sample in samples:
        try:
            looked_up = check_reference(sample) == sample
        except InvalidInputError:
            looked_up = False
        try:
            schema.validate_python(sample)
            in_schema = True
        except ValidationError:
            in_schema = False
        assert looked_up == usable_id(sample) == in_schema, repr(sample)
    with pytest.raises(InvalidInputError):
        check_reference("a\x85b")  # a C1 control: refused at lookup as at ingest (it was only refused at ingest)
