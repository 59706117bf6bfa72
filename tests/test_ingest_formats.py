"""Readers for JSONL/JSON, CSV/TSV and the handling of unusable files: every record accounted for."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from conftest import shared_path
from helpers import jsonl, write

from recommender.ingest import Rejected, read_paths
from recommender.ingest.detect import sniff
from recommender.paper import Paper


def read(*paths: Path | str) -> list[tuple[str, str | None, Paper | Rejected]]:
    return list(read_paths(paths))


def papers(items) -> list[Paper]:
    return [item for _, _, item in items if isinstance(item, Paper)]


def rejected(items) -> list[tuple[str | None, str]]:
    return [(position, item.reason) for _, position, item in items if isinstance(item, Rejected)]


def test_jsonl_with_all_fields(tmp_path):
    path = write(
        tmp_path / "c.jsonl",
        jsonl(
            [
                {
                    "id": "p1",
                    "title": "T <i>one</i>",
                    "abstract": "Body with <sup>2</sup> &amp; p<0.05.",
                    "doi": "DOI:10.1000/ABC",
                    "pmid": "123",
                    "journal": "J",
                    "year": "2019-03-01",
                    "authors": ["A B", "C D"],
                    "keywords": "k1; k2",
                    "labels": ["x"],
                },
                {"abstract": "second"},
            ]
        ),
    )
    paper = papers(read(path))[0]
    assert paper.id == "p1"
    assert paper.title == "T one"
    assert paper.abstract == "Body with 2 & p<0.05."
    assert (paper.doi, paper.pmid, paper.journal, paper.year) == ("10.1000/abc", "123", "J", 2019)
    assert paper.authors == ["A B", "C D"] and paper.keywords == ["k1", "k2"] and paper.labels == ["x"]
    assert paper.source == f"{path}:line 1"


def test_jsonl_bad_lines_are_rejected_with_line_numbers_and_the_rest_is_read(tmp_path):
    path = write(
        tmp_path / "c.jsonl",
        '{"title": "ok", "abstract": "fine"}\n{not json\n[1, 2]\n\n'
        '{"title": "no abstract here"}\n{"abstract": "second good"}\n',
    )
    items = read(path)
    assert [p.abstract for p in papers(items)] == ["fine", "second good"]
    reasons = rejected(items)
    assert [position for position, _ in reasons] == ["line 2", "line 3", "line 5"]
    assert "not valid JSON" in reasons[0][1]
    assert "expected a JSON object" in reasons[1][1]
    assert reasons[2][1].startswith("no abstract")


def test_ids_are_stable_across_reads(tmp_path):
    path = write(
        tmp_path / "c.jsonl",
        jsonl([{"title": "t", "abstract": "a"}, {"doi": "10.5555/q", "abstract": "b"}, {"pmid": 77, "abstract": "c"}]),
    )
    first = [p.id for p in papers(read(path))]
    assert first == [p.id for p in papers(read(path))]
    assert first[1:] == ["doi:10.5555/q", "pmid:77"] and first[0].startswith("h:")


def test_json_array_and_wrapped_list(tmp_path):
    array = write(
        tmp_path / "a.json", json.dumps([{"title": "t1", "abstract": "a1"}, {"title": "t2", "abstract": "a2"}])
    )
    wrapped = write(tmp_path / "b.json", json.dumps({"papers": [{"title": "t3", "abstract": "a3"}]}))
    assert [p.title for p in papers(read(array, wrapped))] == ["t1", "t2", "t3"]


def test_csv_maps_column_names_case_insensitively(tmp_path):
    path = write(
        tmp_path / "c.csv",
        "Title,Abstract,DOI,Publication Year,Authors\n"
        '"A, title","An abstract, with commas",10.9999/z,2020,"Smith J; Doe A"\n'
        "Untitled,,,,\n",
    )
    items = read(path)
    [paper] = papers(items)
    assert (paper.title, paper.abstract, paper.doi, paper.year) == (
        "A, title",
        "An abstract, with commas",
        "10.9999/z",
        2020,
    )
    assert paper.authors == ["Smith J", "Doe A"]
    assert rejected(items) == [("row 3", "no abstract (title: 'Untitled')")]


def test_tsv_is_detected_from_content(tmp_path):
    path = write(tmp_path / "export.txt", "TI\tAB\nA title\tAn abstract\n")
    assert sniff(path) == "tsv"
    assert [p.title for p in papers(read(path))] == ["A title"]


def test_csv_without_abstract_column_is_refused_as_a_whole(tmp_path):
    path = write(tmp_path / "c.csv", "title,year\nx,2020\n")
    assert rejected(read(path)) == [
        (None, "no abstract column (columns: title, year); map one with --column abstract=NAME")
    ]


def test_empty_binary_and_missing_files_are_reported(tmp_path):
    empty = write(tmp_path / "empty.txt", "  \n")
    binary = write(tmp_path / "blob.bin", bytes(range(256)) * 4)
    pdf = write(tmp_path / "paper.pdf", b"%PDF-1.7\n...")  # a PDF cut short: read as one, refused with why
    items = read(empty, binary, pdf, tmp_path / "nope.jsonl")
    reasons = [item.reason for _, _, item in items]
    assert reasons[:2] == ["empty file", "binary file (not text)"] and reasons[3] == "no such file or directory"
    assert reasons[2].startswith("unreadable PDF")


def test_gzip_and_cp1252_are_decoded(tmp_path):
    path = tmp_path / "c.jsonl.gz"
    path.write_bytes(gzip.compress(jsonl([{"title": "gz", "abstract": "zipped"}]).encode()))
    latin = write(tmp_path / "latin.csv", b"title,abstract\n" + "Caf\xe9,na\xefve r\xe9sum\xe9\n".encode("cp1252"))
    found = papers(read(path, latin))
    assert [(p.title, p.abstract) for p in found] == [("gz", "zipped"), ("Café", "naïve résumé")]


def test_folders_and_globs_expand_to_their_files(tmp_path):
    write(tmp_path / "in" / "one.jsonl", jsonl([{"abstract": "one"}]))
    write(tmp_path / "in" / "sub" / "two.jsonl", jsonl([{"abstract": "two"}]))
    write(tmp_path / "in" / ".hidden.jsonl", jsonl([{"abstract": "hidden"}]))
    assert sorted(p.abstract for p in papers(read(tmp_path / "in"))) == ["one", "two"]
    assert [p.abstract for p in papers(read(str(tmp_path / "in" / "*.jsonl")))] == ["one"]


def test_semicolon_separated_csv(tmp_path):
    path = write(tmp_path / "europe.csv", "Title;Abstract;Year\nUn titre;Un résumé, avec virgule;2021\n")
    [paper] = papers(read(path))
    assert (paper.title, paper.abstract, paper.year) == ("Un titre", "Un résumé, avec virgule", 2021)


@pytest.mark.parametrize("corpus", ["scifact", "ohsumed23", "pubmedqa_labeled"])
def test_real_corpora_ingest_without_rejects(corpus, make_service):
    path = shared_path("data", corpus, "corpus.jsonl")
    with path.open(encoding="utf-8") as handle:
        records = sum(1 for line in handle if line.strip())
    report = make_service(corpus).ingest([path])
    assert report.rejected == []
    assert report.read == report.added == report.total == records
