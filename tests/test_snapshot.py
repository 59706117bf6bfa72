"""A built version on disk (recommender.snapshot): what write_snapshot writes loads back row-aligned and as
described by its manifest, a damaged or foreign version is refused with a clear error, and a delta version
stacks on its base. Hand-made papers and 8-d vectors, no model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recommender.errors import IndexCorruptError, IndexMismatchError
from recommender.manifest import FORMAT_VERSION, Manifest, corpus_hash, file_sha256
from recommender.paper import Paper
from recommender.snapshot import (
    EMBEDDINGS,
    KEY_TERMS,
    PAPERS,
    VECTORS,
    BuildInputs,
    Snapshot,
    corpus_symbol_share,
    write_delta,
    write_snapshot,
)
from recommender.tokenizer import TOKENIZER_VERSION, index_terms

CORPUS = [
    Paper(id="a1", title="Anoikis resistance in lung cancer", abstract="Detached cells resist anoikis via ERK.",
          journal="J Test", year=2020),
    Paper(id="a2", title="BIM and anoikis", abstract="Breast cancer cells degrade BIM and resist anoikis.",
          journal="Cell", year=2021),
    Paper(id="h1", title="Hypoxia and HIF-1alpha", abstract="Hypoxia stabilises HIF-1alpha and induces glycolysis."),
    Paper(id="c1", title="Fibroblasts secrete IL-6", abstract="Cancer-associated fibroblasts activate STAT3.",
          journal="j test", year=2019),
]  # fmt: skip
INPUTS = BuildInputs("test-model", 128, model_settings={"pooling": "mean"}, index_kind="flat", embedded=3, reused=1)


def vectors(count: int, seed: int = 0) -> np.ndarray:
    matrix = np.random.default_rng(seed).normal(size=(count, 8)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def write(folder: Path, papers: list[Paper] = CORPUS, embeddings: np.ndarray | None = None, **kwargs) -> Manifest:
    folder.mkdir(parents=True, exist_ok=True)
    embeddings = vectors(len(papers)) if embeddings is None else embeddings
    return write_snapshot(folder, build_id=folder.name, papers=papers, embeddings=embeddings, inputs=INPUTS, **kwargs)


def edit_manifest(folder: Path, **changes) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


# ---------------------------------------------------------------------------------------- round trip
def test_a_written_version_loads_back_row_aligned(tmp_path):
    embeddings = vectors(len(CORPUS))
    write(tmp_path / "v1", embeddings=embeddings)
    snapshot = Snapshot.load(tmp_path / "v1")
    assert snapshot.size == len(CORPUS) and list(snapshot.papers) == CORPUS
    assert snapshot.row_of == {"a1": 0, "a2": 1, "h1": 2, "c1": 3}
    assert snapshot.columns.ids == ["a1", "a2", "h1", "c1"]
    assert snapshot.columns.years.tolist() == [2020, 2021, 0, 2019]
    assert np.allclose(snapshot.embeddings, embeddings)
    for row, paper in enumerate(CORPUS):  # the vector index and BM25 point back at the same row
        _, found = snapshot.vectors.search(embeddings[row], 1)
        assert found[0][0] == row
        assert snapshot.key_terms[row] == snapshot.lexical.key_terms(index_terms(paper.text))
    assert int(np.argmax(snapshot.lexical.scores(["hypoxia"]))) == 2
    assert snapshot.base is None and snapshot.delta_start == snapshot.size and not snapshot.hidden


def test_the_manifest_describes_what_was_written(tmp_path):
    manifest = write(tmp_path / "v1")
    assert Manifest.read(tmp_path / "v1") == manifest == Snapshot.load(tmp_path / "v1").manifest
    assert (manifest.format_version, manifest.build_id, manifest.count, manifest.dimension) == (
        FORMAT_VERSION, "v1", len(CORPUS), 8,
    )  # fmt: skip
    assert (manifest.model, manifest.max_seq_length, manifest.model_settings) == (
        "test-model",
        128,
        {"pooling": "mean"},
    )
    assert (manifest.embedded, manifest.reused, manifest.index_type) == (3, 1, "flat")
    assert manifest.tokenizer == TOKENIZER_VERSION and manifest.base is None
    assert manifest.corpus_hash == corpus_hash((paper.id, paper.text_hash()) for paper in CORPUS)
    assert manifest.symbol_share == corpus_symbol_share(CORPUS) > 0  # HIF-1alpha, IL-6, STAT3
    assert set(manifest.bm25) == {"avgdl", "k1", "b"}
    assert {PAPERS, KEY_TERMS, EMBEDDINGS, VECTORS} <= set(manifest.files)
    for name, entry in manifest.files.items():
        path = tmp_path / "v1" / name
        assert entry.bytes == path.stat().st_size and entry.sha256 == file_sha256(path)


def test_given_terms_are_what_bm25_indexes(tmp_path):
    terms = [["alpha", "alpha"], ["beta"], ["alpha", "gamma"], ["delta"]]
    write(tmp_path / "v1", terms=terms)
    lexical = Snapshot.load(tmp_path / "v1").lexical
    assert lexical.document_frequency("alpha") == 2 and lexical.document_frequency("anoiki") == 0


def test_parts_that_are_not_row_aligned_are_refused(tmp_path):
    with pytest.raises(ValueError, match="row-aligned"):
        write(tmp_path / "v1", embeddings=vectors(len(CORPUS) - 1))
    with pytest.raises(ValueError, match="row-aligned"):
        write(tmp_path / "v2", terms=[["alpha"]])


def test_a_version_built_before_symbol_share_was_recorded_measures_it(tmp_path):
    manifest = write(tmp_path / "v1")
    edit_manifest(tmp_path / "v1", symbol_share=None)
    assert Snapshot.load(tmp_path / "v1").symbol_share == manifest.symbol_share


def test_the_similarity_baseline_is_what_unrelated_pairs_look_like(tmp_path):
    orthogonal = np.eye(4, 8, dtype=np.float32)
    write(tmp_path / "orthogonal", embeddings=orthogonal)
    mean, spread = Snapshot.load(tmp_path / "orthogonal").similarity_baseline
    assert mean == pytest.approx(0.0) and 0 < spread < 1e-3
    same = np.tile(np.eye(1, 8, dtype=np.float32), (4, 1))
    write(tmp_path / "same", embeddings=same)
    assert Snapshot.load(tmp_path / "same").similarity_baseline[0] == pytest.approx(1.0)
    write(tmp_path / "two", CORPUS[:2])
    assert Snapshot.load(tmp_path / "two").similarity_baseline == (0.0, 1.0)  # too few papers to say


# ------------------------------------------------------------------------------------ damaged versions
def truncate_vectors(folder: Path) -> None:
    path = folder / VECTORS
    path.write_bytes(path.read_bytes()[:100])


def remove_papers(folder: Path) -> None:
    (folder / PAPERS).unlink()


def one_more_in_the_manifest(folder: Path) -> None:
    edit_manifest(folder, count=len(CORPUS) + 1)


def fewer_embeddings(folder: Path) -> None:
    """Embeddings of one row fewer, listed in the manifest with their true size (only the counts differ)."""
    np.save(folder / EMBEDDINGS, vectors(len(CORPUS) - 1))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][EMBEDDINGS]["bytes"] = (folder / EMBEDDINGS).stat().st_size
    (folder / "manifest.json").write_text(json.dumps(manifest))


def another_dimension(folder: Path) -> None:
    edit_manifest(folder, dimension=16)


def remove_manifest(folder: Path) -> None:
    (folder / "manifest.json").unlink()


def garble_manifest(folder: Path) -> None:
    (folder / "manifest.json").write_text('{"format_version": 2, "build_id": ')


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (truncate_vectors, r"vectors\.faiss in index version v1 has 100 bytes, the manifest says \d+"),
        (remove_papers, r"v1 is missing papers\.jsonl"),
        (one_more_in_the_manifest, r"v1 is inconsistent: manifest count 5"),
        (fewer_embeddings, r"v1 is inconsistent: manifest count 4, .*'embeddings': 3"),
        (another_dimension, "wrong dimension"),
        (remove_manifest, r"no manifest\.json"),
        (garble_manifest, r"cannot read .*manifest\.json"),
    ],
)
def test_a_damaged_version_is_refused_with_what_is_wrong(tmp_path, damage, message):
    write(tmp_path / "v1")
    damage(tmp_path / "v1")
    with pytest.raises(IndexCorruptError, match=message):
        Snapshot.load(tmp_path / "v1")


def test_a_version_of_another_tokenizer_or_format_is_a_mismatch_not_damage(tmp_path):
    write(tmp_path / "v1")
    edit_manifest(tmp_path / "v1", tokenizer="bio-0")
    with pytest.raises(IndexMismatchError, match=r"tokenized with 'bio-0'.*rebuild the index"):
        Snapshot.load(tmp_path / "v1")
    edit_manifest(tmp_path / "v1", tokenizer=TOKENIZER_VERSION, format_version=FORMAT_VERSION - 1)
    with pytest.raises(IndexMismatchError, match="format version"):
        Snapshot.load(tmp_path / "v1")


# --------------------------------------------------------------------------------------- delta versions
def test_a_delta_version_stacks_on_its_base_without_the_papers_it_hides(tmp_path):
    base_manifest = write(tmp_path / "base")
    base = Snapshot.load(tmp_path / "base")
    added = Paper(id="n1", title="Lactate export under hypoxia", abstract="Hypoxic cells export lactate via MCT4.")
    terms = [index_terms(added.text)]
    new_vector = vectors(1, seed=7)
    (tmp_path / "delta").mkdir()
    write_delta(
        tmp_path / "delta",
        base_manifest,
        build_id="delta",
        papers=[added],
        embeddings=new_vector,
        terms=terms,
        key_terms=[base.lexical.key_terms(terms[0])],
        hidden=["a2"],
        count=len(CORPUS),
        corpus="sum256:" + "0" * 64,
        embedded=1,
        encoder={},
    )
    with pytest.raises(IndexCorruptError, match="adds to version base"):
        Snapshot.load(tmp_path / "delta")
    delta = Snapshot.load(tmp_path / "delta", base_of=lambda build_id: {"base": base}[build_id])
    assert [paper.id for paper in delta.papers] == ["a1", "h1", "c1", "n1"]
    assert delta.row_of == {"a1": 0, "h1": 1, "c1": 2, "n1": 3} and delta.hidden == {"a2"}
    assert delta.base is base and delta.delta_start == 3
    assert np.allclose(delta.embeddings[3], new_vector[0]) and np.allclose(delta.embeddings[1], base.embeddings[2])
    assert int(np.argmax(delta.lexical.scores(["lactat"]))) == 3
    assert delta.manifest.base == "base" and delta.manifest.delta == {"papers": 1, "hidden": 1}
    assert delta.manifest.reused == len(CORPUS) - 1
