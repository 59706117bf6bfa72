"""Collections: named reading lists kept in the paper store, through the façade, the CLI and HTTP."""

from __future__ import annotations

import io
import json

import pytest
import rispy
from click.testing import CliRunner
from helpers import CORPUS, built_service, fake_factory, jsonl, write

from recommender.cli import main
from recommender.collection import MAX_COLLECTION_PAPERS
from recommender.errors import ConflictError, InvalidInputError, NotFoundError, TooLargeError
from recommender.web import create_app

TOKEN = "collection-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


# ------------------------------------------------------------------------------------------- façade
def test_a_collection_keeps_papers_in_order_resolved_by_id_doi_or_pmid(make_service, tmp_path):
    service = make_service()
    records = [dict(CORPUS[0], doi="10.5555/a1.2020", pmid="30000001"), *CORPUS[1:]]
    service.ingest([write(tmp_path / "corpus.jsonl", jsonl(records))])
    change = service.collections.add("Anoikis review", ["c1", "10.5555/a1.2020", "PMID: 30000001", "nope"])
    assert change.changed == ["c1", "a1"]  # the DOI and the PMID name the same paper: added once
    assert change.not_found == ["nope"]
    assert service.collections.add("anoikis REVIEW", ["a1", "a2"]).changed == ["a2"]  # names ignore case
    found = service.collections.get("Anoikis review")
    assert [paper.id for paper in found.papers] == ["c1", "a1", "a2"]
    assert found.info.name == "Anoikis review" and found.info.size == 3
    assert service.collections.remove("anoikis review", ["c1", "h1"]).changed == ["c1"]
    assert [info.name for info in service.collections.infos()] == ["Anoikis review"]


def test_collection_rules_give_clear_errors(make_service, tmp_path):
    service = make_service()
    service.ingest([write(tmp_path / "corpus.jsonl", jsonl(CORPUS))])
    service.collections.create("reading list")
    with pytest.raises(ConflictError, match="already exists"):
        service.collections.create("Reading List")
    for bad in ("", "   ", "a/b", "tab\there", "x" * 101, "2ü\x0b", "\x1fname"):  # control chars at an end too
        with pytest.raises(InvalidInputError):
            service.collections.create(bad)
    with pytest.raises(NotFoundError, match="no collection"):
        service.collections.get("missing")
    with pytest.raises(InvalidInputError, match="no PMID, DOI"):
        service.collections.add_listed("reading list", "nothing that names a paper")
    with pytest.raises(TooLargeError):
        service.collections.add("reading list", ["a1"] * (MAX_COLLECTION_PAPERS + 1))


def test_a_failed_add_leaves_the_collection_as_it_was(make_service, tmp_path, monkeypatch):
    service = make_service()
    service.ingest([write(tmp_path / "corpus.jsonl", jsonl(CORPUS))])
    service.collections.add("kept", ["a1"])
    monkeypatch.setattr("recommender.collection.MAX_COLLECTION_PAPERS", 2)
    with pytest.raises(TooLargeError):
        service.collections.add("kept", ["a2", "a3"])
    assert service.collections.paper_ids("kept") == ["a1"]


def test_collections_survive_rebuilds_rollbacks_and_deleted_papers(make_service, tmp_path):
    service = make_service()
    service.ingest([write(tmp_path / "corpus.jsonl", jsonl(CORPUS))])
    service.build()
    service.collections.add("hypoxia", ["h1", "h2"])
    service.ingest([write(tmp_path / "more.jsonl", jsonl([dict(CORPUS[0], id="a9", title="Another anoikis paper")]))])
    service.build()
    service.rollback()
    service.delete("h2")
    fresh = make_service()  # another process: everything read back from disk
    found = fresh.collections.get("hypoxia")
    assert [paper.id for paper in found.papers] == ["h1"] and found.missing == ["h2"]
    assert fresh.collections.remove("hypoxia", ["h2"]).changed == ["h2"]  # a missing paper can be removed


def test_pasted_lists_and_pubmed_pages_name_stored_papers(make_service, tmp_path):
    service = make_service()
    records = [dict(record, pmid=str(31000000 + i)) for i, record in enumerate(CORPUS)]
    records[3]["doi"] = "10.5555/caf.2019.1"
    service.ingest([write(tmp_path / "corpus.jsonl", jsonl(records))])
    pasted = (
        "PMID: 31000000\n31000001, https://pubmed.ncbi.nlm.nih.gov/31000002/ ; https://doi.org/10.5555/CAF.2019.1\n99"
    )
    change = service.collections.add_listed("list", pasted)
    assert change.changed == ["a1", "a2", "a3", "c1"] and change.not_found == ["99"]
    page = (
        '<html><head><title>anoikis - Search Results - PubMed</title></head><body><div class="search-results-chunk">'
        '<article class="full-docsum"><a class="docsum-title" data-article-id="31000006">HIF</a>'
        '<span class="docsum-pmid">31000006</span></article>'
        '<article class="full-docsum"><a class="docsum-title" data-article-id="31000008">Lactate</a>'
        '<span class="docsum-pmid">31000008</span></article></div></body></html>'
    )
    assert service.collections.add_listed("page", page).changed == ["h1", "h3"]


def test_recommend_from_a_collection_uses_its_papers_as_examples(built):
    built.collections.add("anoikis", ["a1", "a2"])
    hits = built.recommend_collection("anoikis", k=3)
    assert hits[0].id == "a3"
    assert not {"a1", "a2"} & {hit.id for hit in hits}
    built.collections.create("empty")
    with pytest.raises(InvalidInputError, match="no indexed paper"):
        built.recommend_collection("empty")


def test_export_of_a_collection_tags_each_paper_with_its_name(built):
    built.collections.add("CAF signalling", ["c2", "c1"])
    out = io.StringIO()
    assert built.export("ris", out, collection="CAF signalling") == 2
    entries = rispy.loads(out.getvalue())
    assert [entry["title"] for entry in entries] == [CORPUS[4]["title"], CORPUS[3]["title"]]
    assert all("CAF signalling" in entry["keywords"] for entry in entries)


# ------------------------------------------------------------------------------------------- CLI
@pytest.fixture()
def run(index_dir, tmp_path):
    runner = CliRunner()
    corpus = write(tmp_path / "corpus.jsonl", jsonl([dict(r, pmid=str(32000000 + i)) for i, r in enumerate(CORPUS)]))

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), obj={"embedder_factory": fake_factory}, input=input)

    assert invoke("ingest", str(corpus)).exit_code == 0
    assert invoke("build").exit_code == 0
    return invoke


def test_cli_builds_a_collection_recommends_from_it_and_exports_it(run, tmp_path):
    added = run("collection", "add", "anoikis review", "a1", "a2", "--json")
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["changed"] == ["a1", "a2"]
    listed = run("collection", "add", "anoikis review", "--ids-file", "-", input="32000002\n99999999\n")
    assert listed.exit_code == 0 and "1 paper added" in listed.stdout
    assert "99999999" in listed.stderr and 'fetch-pubmed "99999999[pmid]"' in listed.stderr
    shown = json.loads(run("collection", "show", "anoikis review", "--json").stdout)
    assert [paper["id"] for paper in shown["papers"]] == ["a1", "a2", "a3"]
    assert "anoikis review  (3 papers" in run("collection", "list").stdout
    recommended = json.loads(run("recommend", "--collection", "anoikis review", "-k", "3", "--json").stdout)
    assert {hit["id"] for hit in recommended}.isdisjoint({"a1", "a2", "a3"})
    target = tmp_path / "review.bib"
    assert run("export", "--collection", "anoikis review", "-o", str(target), "--format", "bibtex").exit_code == 0
    assert target.read_text(encoding="utf-8").count("@article") == 3
    deleted = run("collection", "delete", "anoikis review")
    assert deleted.exit_code == 0 and "they stay in the index" in deleted.stdout
    missing = run("recommend", "--collection", "anoikis review")
    assert missing.exit_code == 1 and "no collection 'anoikis review'" in missing.stderr
    both = run("recommend", "--collection", "x", "-p", "a1")
    assert both.exit_code == 2 and "one of them" in both.output


def test_cli_export_flag_writes_the_listed_papers_in_order(run, tmp_path):
    target = tmp_path / "hits.ris"
    result = run("search", "anoikis resistance", "-k", "3", "--export", str(target), "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    exported = rispy.loads(target.read_text(encoding="utf-8"))
    assert [entry["title"] for entry in exported] == [hit["title"] for hit in hits]
    refused = run("related", "a1", "--export", str(tmp_path / "hits.xlsx"))
    assert refused.exit_code == 1 and "cannot tell the export format" in refused.stderr
    assert not (tmp_path / "hits.xlsx").exists()
    themes = tmp_path / "themes.csv"
    assert run("themes", "--k", "3", "--export", str(themes)).exit_code == 0
    assert themes.read_text(encoding="utf-8-sig").count("\n") >= 1 + len(CORPUS)


# ------------------------------------------------------------------------------------------- HTTP
@pytest.fixture()
def client(index_dir, tmp_path):
    return create_app(service=built_service(index_dir, tmp_path, api_token=TOKEN)).test_client()


def test_http_collections_round_trip(client):
    assert client.post("/collections", json={"name": "hypoxia"}).status_code == 401  # writes need the token
    created = client.post("/collections", json={"name": "hypoxia", "note": "HIF papers"}, headers=AUTH)
    assert created.status_code == 201 and created.get_json()["note"] == "HIF papers"
    again = client.post("/collections", json={"name": "Hypoxia"}, headers=AUTH)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    added = client.post("/collections/hypoxia/papers", json={"ids": ["h1", "h2", "zz"]}, headers=AUTH).get_json()
    assert added["changed"] == ["h1", "h2"] and added["not_found"] == ["zz"] and added["size"] == 2
    assert [c["name"] for c in client.get("/collections").get_json()] == ["hypoxia"]
    hits = client.post("/recommend", json={"collection": "hypoxia", "k": 2}).get_json()
    assert hits[0]["id"] == "h3"
    exported = client.get("/export?format=csl-json&collection=hypoxia")
    assert exported.status_code == 200 and "hypoxia" in exported.headers["Content-Disposition"]
    assert len(json.loads(exported.get_data(as_text=True))) == 2
    removed = client.delete("/collections/hypoxia/papers/h1", headers=AUTH).get_json()
    assert removed["changed"] == ["h1"] and removed["size"] == 1
    assert client.delete("/collections/hypoxia", headers=AUTH).status_code == 200
    gone = client.get("/collections/hypoxia")
    assert gone.status_code == 404 and "no collection" in gone.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"collection": "x", "positive": ["a1"]}, "one of them"),
        ({}, "one of them"),
        ({"collection": "a/b"}, "collection"),
        ({"positive": ["a1"], "offset": -1}, "offset"),
        ({"positive": ["a1"], "sort": "citations"}, "sort"),
    ],
)
def test_http_recommend_refuses_bad_input_with_a_message(client, body, message):
    response = client.post("/recommend", json=body)
    assert response.status_code == 400 and message in response.get_json()["error"]["message"]


def test_a_failed_fetch_says_which_papers_were_added_before_it(run, tmp_path, monkeypatch):
    """Found by a README check: `collection add ... --fetch` exited 1 with only the network error."""
    from recommender.cli import collection as collection_cli
    from recommender.errors import RemoteServiceError
    from recommender.pubmed_fetch import FetchResult
    from recommender.service import Recommender

    asked: list[str] = []

    def fetch_pubmed(self, query, out_dir, **options):
        asked.append(query)
        if len(asked) > 1:
            raise RemoteServiceError("could not reach NCBI (eutils.ncbi.nlm.nih.gov): name resolution failed")
        record = {"pmid": "41000001", "title": "Fetched paper", "abstract": "Anoikis resistance in lung cancer."}
        path = write(tmp_path / "fetched" / "batch-1.jsonl", jsonl([record]))
        return FetchResult(query=query, count=1, fetched=1, files=[path]), self.ingest([path])

    monkeypatch.setattr(collection_cli, "FETCH_BATCH", 1)  # one PMID a batch: the second batch fails
    monkeypatch.setattr(Recommender, "fetch_pubmed", fetch_pubmed)
    failed = run("collection", "add", "anoikis review", "a1", "41000001", "41000002", "--fetch")
    assert failed.exit_code == 1 and len(asked) == 2
    assert "name resolution failed" in failed.stderr
    assert "2 papers were added to 'anoikis review' before the fetch failed" in failed.stderr
    assert "a1, " in failed.stderr and "1 not added: 41000002" in failed.stderr
    shown = json.loads(run("collection", "show", "anoikis review", "--json").stdout)
    assert len(shown["papers"]) == 2 and shown["papers"][0]["id"] == "a1"

    asked.append("fail from the start")
    nothing = run("collection", "add", "other", "41000003", "--fetch")
    assert nothing.exit_code == 1 and "No paper was added to 'other' before the fetch failed" in nothing.stderr
