"""Papers read on demand (recommender.paper_table): the records of a loaded version stay on disk, every row
reads back as written, and a version written before the columns file still loads."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from recommender import mapped
from recommender.errors import IndexCorruptError
from recommender.mapped import line_bounds
from recommender.paper import Paper
from recommender.paper_table import COLUMNS, JsonLines, PaperColumns, StackedSequence, read_papers
from recommender.retrieval import Filters
from recommender.snapshot import BuildInputs, Snapshot, write_snapshot

PAPERS = [
    Paper(
        id="p1", title="Anoikis résistance in lung cancer", abstract="SERPINE1 confers it.", journal="Small", year=2025
    ),
    Paper(id="p2", title="CAF IL-6/STAT3", abstract="Fibroblasts signal.", journal="small", year=2019),
    Paper(id="p3", title="No year, no journal", abstract="Text with a \n newline inside and 🧬."),
    Paper(id="p4", title="Another", abstract="More text.", journal="Cell", year=2001),
]


def write_lines(path, records) -> None:
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")


def test_line_bounds_with_and_without_a_final_newline() -> None:
    assert line_bounds(b"").tolist() == [0]
    assert line_bounds(b"{}\n[]\n").tolist() == [0, 3, 6]
    assert line_bounds(b"{}\n[1]").tolist() == [0, 3, 6]


def test_line_bounds_across_scan_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mapped, "SCAN_CHUNK", 4)
    data = b"".join(json.dumps([i] * i).encode() + b"\n" for i in range(20))
    bounds = line_bounds(data)
    assert [json.loads(data[a:b]) for a, b in itertools.pairwise(bounds)] == [[i] * i for i in range(20)]


def test_records_read_back_as_written(tmp_path) -> None:
    path = tmp_path / "papers.jsonl"
    write_lines(path, [paper.to_dict() for paper in PAPERS])
    papers = read_papers(path)
    assert len(papers) == 4
    assert list(papers) == PAPERS  # multi-byte characters and escaped newlines keep their offsets
    assert papers[-1] == PAPERS[-1]
    assert papers[1:3] == PAPERS[1:3]
    with pytest.raises(IndexError):
        papers[4]


def test_an_unreadable_line_is_a_corrupt_index(tmp_path) -> None:
    path = tmp_path / "papers.jsonl"
    path.write_text('{"id": "a", "title": "t", "abstract": "x"}\n{"id": "b", "tit\n', encoding="utf-8")
    papers = read_papers(path)
    assert papers[0].id == "a"
    with pytest.raises(IndexCorruptError, match="line 2"):
        papers[1]


def test_empty_file(tmp_path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    assert len(JsonLines(path, dict)) == 0


def test_columns_round_trip_and_filter(tmp_path) -> None:
    columns = PaperColumns.of(PAPERS)
    columns.write(tmp_path / COLUMNS)
    read = PaperColumns.read(tmp_path / COLUMNS)
    assert read.ids == ["p1", "p2", "p3", "p4"]
    assert read.years.tolist() == [2025, 2019, 0, 2001]
    assert read.journal_mask(["SMALL"]).tolist() == [True, True, False, False]  # journals compare case-insensitively
    assert read.journal_mask(["Nature"]).tolist() == [False] * 4


def test_damaged_columns_file_is_refused(tmp_path) -> None:
    path = tmp_path / COLUMNS
    path.write_text(json.dumps({"ids": ["a"], "years": [1], "journals": [3], "journal_names": []}), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="journals"):
        PaperColumns.read(path)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(IndexCorruptError):
        PaperColumns.read(path)


def test_stacked_columns_and_sequence() -> None:
    base = PaperColumns.of(PAPERS)
    delta_papers = [Paper(id="n1", title="t", abstract="a", journal="Nature", year=2030)]
    live = np.array([0, 2, 3])
    stacked = base.stacked(live, PaperColumns.of(delta_papers))
    assert stacked.ids == ["p1", "p3", "p4", "n1"]
    assert stacked.years.tolist() == [2025, 0, 2001, 2030]
    assert stacked.journal_mask(["nature"]).tolist() == [False, False, False, True]
    assert stacked.journal_mask(["cell", "small"]).tolist() == [True, False, True, False]
    sequence = StackedSequence(PAPERS, live, delta_papers)
    assert [paper.id for paper in sequence] == stacked.ids
    assert sequence[-1].id == "n1" and sequence[1].id == "p3"
    assert [paper.id for paper in StackedSequence(PAPERS, np.arange(4), [])] == ["p1", "p2", "p3", "p4"]


def _version(tmp_path) -> Snapshot:
    vectors = np.eye(4, 8, dtype=np.float32)
    write_snapshot(
        tmp_path, build_id="v", papers=PAPERS, embeddings=vectors, inputs=BuildInputs("m", None, index_kind="flat")
    )
    return Snapshot.load(tmp_path)


def test_loading_a_version_reads_no_record(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading is mapping, not parsing: a million records would otherwise cost minutes and gigabytes."""
    vectors = np.eye(4, 8, dtype=np.float32)
    write_snapshot(
        tmp_path, build_id="v", papers=PAPERS, embeddings=vectors, inputs=BuildInputs("m", None, index_kind="flat")
    )
    parsed = []
    original = Paper.from_dict.__func__

    def counting(cls, data):
        parsed.append(data["id"])
        return original(cls, data)

    monkeypatch.setattr(Paper, "from_dict", classmethod(counting))
    snapshot = Snapshot.load(tmp_path)
    assert parsed == []
    assert snapshot.row_of == {"p1": 0, "p2": 1, "p3": 2, "p4": 3}
    mask = Filters(year_min=2010, journals=("small",)).mask(snapshot)
    assert mask is not None and mask.tolist() == [True, True, False, False]
    assert parsed == []  # filters read the columns, not the records
    assert snapshot.papers[2] == PAPERS[2]
    assert parsed == ["p3"]


def test_a_version_without_a_columns_file_still_loads(tmp_path) -> None:
    """Versions written before the columns file existed compute the columns from their records."""
    _version(tmp_path)
    (tmp_path / COLUMNS).unlink()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    del manifest["files"][COLUMNS]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    snapshot = Snapshot.load(tmp_path)
    assert snapshot.columns.ids == ["p1", "p2", "p3", "p4"]
    assert snapshot.columns.years.tolist() == [2025, 2019, 0, 2001]
    assert list(snapshot.papers) == PAPERS
