"""The export round trip on 1,000 real PubMed abstracts (PubMedQA, ``../shared/data``): every format written,
then read back by our own ingest, loses no field of any paper."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import shared_path
from test_export import FIELDS, export_text, ingest

from recommender.export import FORMATS
from recommender.ingest import Rejected, read_paths
from recommender.paper import Paper


@pytest.fixture(scope="module")
def real_papers() -> list[Paper]:
    items = [item for _, _, item in read_paths([shared_path("data", "pubmedqa_labeled", "corpus.jsonl")])]
    papers = [item for item in items if not isinstance(item, Rejected)]
    assert len(papers) == 1000
    return papers


def faithful(paper: Paper, fmt: str, field: str) -> object:
    """What the re-ingest must give (labels join the keywords; MeSH does too outside MEDLINE)."""
    if field == "keywords":
        return [*paper.keywords, *paper.labels, *([] if fmt == "medline" else paper.mesh_terms)]
    if field == "mesh_terms":
        return paper.mesh_terms if fmt == "medline" else []
    return getattr(paper, field)


@pytest.mark.parametrize("fmt", FORMATS)
def test_1000_real_abstracts_survive_every_format(real_papers: list[Paper], fmt: str, tmp_path: Path) -> None:
    back = ingest(tmp_path, fmt, export_text(fmt, real_papers))
    assert len(back) == len(real_papers)
    lost = [
        (paper.id, field, faithful(paper, fmt, field), getattr(again, field))
        for paper, again in zip(real_papers, back, strict=True)
        for field in FIELDS
        if getattr(again, field) != faithful(paper, fmt, field)
    ]
    assert not lost, f"{len(lost)} fields changed, e.g. {lost[:3]}"
