"""A full build streams its papers (issue 19): the version it writes a chunk at a time is the version the
previous all-in-memory build wrote — the same records, columns, vectors, key terms and manifest facts byte for
byte, and BM25 arrays equal to bm25s's own for every (document, term) — and the memory it holds does not grow
with the papers' texts and terms. The previous build is kept here, and only here, as the reference."""

from __future__ import annotations

import json
import random
import tracemalloc
from pathlib import Path

import bm25s
import numpy as np
import pytest
from helpers import CORPUS, FakeEmbedder, filler_papers, jsonl, write

import recommender.indexing as indexing_module
from recommender.embedding_cache import EmbeddingCache, encode_cached
from recommender.indexing import Corpus, index_papers
from recommender.lexical_build import LexicalBuilder
from recommender.lexical_index import LexicalIndex, SortedTerms
from recommender.manifest import Manifest, corpus_hash
from recommender.model_profiles import model_config
from recommender.paper import Paper
from recommender.paper_table import NO_YEAR, PaperColumns
from recommender.service import Recommender
from recommender.settings import Settings
from recommender.snapshot import Snapshot, corpus_symbol_share
from recommender.tokenizer import index_terms
from recommender.vector_index import VectorIndex

CONFIG = model_config(None)
SPECIAL = [
    Paper(id="empty"),  # no text at all: bm25s's placeholder document, no key terms
    Paper(id="dashes", title="— – …"),  # a text without a single term
    Paper(id="repeat", title="Anoikis anoikis anoikis", abstract="Anoikis anoikis STAT3 STAT3 STAT3 anoikis."),
    Paper(id="unicode", title="TGF-β signalling in Zürich", abstract="ζ-chain and TGF-β; naïve T cells, α-SMA, 5′-UTR."),
    Paper(id="twin-1", title="Identical text", abstract="Hypoxia and HIF-1alpha again.", journal="J Test", year=1999),
]  # fmt: skip


def papers() -> list[Paper]:
    made = [Paper.from_dict(record) for record in CORPUS + filler_papers(45)]
    twin = Paper(id="twin-2", title="Identical text", abstract="Hypoxia and HIF-1alpha again.")  # a duplicate text
    return [*SPECIAL, *made[:20], Paper(id="empty-2"), *made[20:], twin]


# ------------------------------------------------------------------------------------ the reference build
def reference_version(folder: Path, corpus: list[Paper], cache: EmbeddingCache | None, embedder, full=False) -> dict:
    """The version files as the previous build wrote them (every paper, term list and vector in memory, BM25
    by bm25s), and the manifest facts it computed."""
    folder.mkdir(parents=True)
    texts = [CONFIG.document_text(paper.title, paper.abstract) for paper in corpus]
    encoded = encode_cached(texts, cache, lambda: embedder, full=full)  # one chunk: the whole corpus at once
    terms = [index_terms(paper.text) for paper in corpus]
    with (folder / "papers.jsonl").open("w", encoding="utf-8") as handle:
        for paper in corpus:
            handle.write(json.dumps(paper.to_dict(), ensure_ascii=False) + "\n")
    codes: dict[str, int] = {}
    PaperColumns(
        [paper.id for paper in corpus],
        np.array([paper.year or NO_YEAR for paper in corpus], dtype=np.int32),
        np.array([codes.setdefault(p.journal, len(codes)) if p.journal else -1 for p in corpus], dtype=np.int32),
        list(codes),
    ).write(folder / "papers.columns.json")
    np.save(folder / "embeddings.npy", np.ascontiguousarray(encoded.vectors, dtype=np.float32))
    vectors = VectorIndex.build(encoded.vectors, kind="flat")
    vectors.save(folder / "vectors.faiss")
    model = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    model.index([list(tokens) if tokens else [""] for tokens in terms], show_progress=False)
    model.save(str(folder / "lexical"))
    SortedTerms.write(folder / "lexical", model.vocab_dict)
    lexical = LexicalIndex({name: model.scores[name] for name in ("data", "indices", "indptr")}, model.vocab_dict,
                           len(corpus))  # fmt: skip
    with (folder / "key_terms.jsonl").open("w", encoding="utf-8") as handle:
        for tokens in terms:
            handle.write(json.dumps(lexical.key_terms(tokens), ensure_ascii=False) + "\n")
    return {
        "count": len(corpus),
        "dimension": encoded.vectors.shape[1],
        "corpus_hash": corpus_hash((paper.id, paper.text_hash()) for paper in corpus),
        "symbol_share": corpus_symbol_share(corpus),
        "bm25": LexicalIndex.parameters(terms),
        "embedded": encoded.embedded,
        "reused": encoded.reused,
        "truncated": encoded.truncated,
        "max_seq_length": encoded.max_seq_length,
        "index_type": vectors.kind,
        "index_params": vectors.params,
    }


SAME_BYTES = ("papers.jsonl", "papers.columns.json", "key_terms.jsonl", "embeddings.npy", "vectors.faiss")


def assert_same_version(built: Path, reference: Path, facts: dict) -> None:
    for name in SAME_BYTES:
        assert (built / name).read_bytes() == (reference / name).read_bytes(), name
    assert_same_bm25(built / "lexical", reference / "lexical")
    manifest = Manifest.read(built)
    assert {name: getattr(manifest, name) for name in facts} == facts
    assert manifest.files.keys() == {*SAME_BYTES, *(f"lexical/{p.name}" for p in (reference / "lexical").iterdir())}
    assert not list(built.glob(".*")), "the scratch postings are gone"
    Snapshot.load(built)  # and the version loads


def assert_same_bm25(built: Path, reference: Path) -> None:
    """The same arrays as bm25s's up to the numbering of terms (bm25s numbers them in a set's order): every
    term's column holds the same documents with the same scores, the placeholder included."""
    new = {name: np.load(built / f"{name}.csc.index.npy") for name in ("data", "indices", "indptr")}
    old = {name: np.load(reference / f"{name}.csc.index.npy") for name in ("data", "indices", "indptr")}
    assert {name: array.dtype for name, array in new.items()} == {name: array.dtype for name, array in old.items()}
    assert {name: array.shape for name, array in new.items()} == {name: array.shape for name, array in old.items()}
    new_vocab = json.loads((built / "vocab.index.json").read_text(encoding="utf-8"))
    old_vocab = json.loads((reference / "vocab.index.json").read_text(encoding="utf-8"))
    assert new_vocab.keys() == old_vocab.keys()
    columns = len(old["indptr"]) - 1
    for term, column in old_vocab.items():
        if column >= columns:  # bm25s's placeholder beyond the matrix, when no document is empty
            assert term == "" and new_vocab[term] >= columns
            continue
        mine = new_vocab[term]
        for name in ("indices", "data"):
            np.testing.assert_array_equal(
                new[name][new["indptr"][mine] : new["indptr"][mine + 1]],
                old[name][old["indptr"][column] : old["indptr"][column + 1]],
                err_msg=f"{name} of {term!r}",
            )
    params = json.loads((built / "params.index.json").read_text())
    assert params == json.loads((reference / "params.index.json").read_text())
    loaded = LexicalIndex.load(built, params["num_docs"])
    assert sorted(loaded.vocabulary()) == sorted(LexicalIndex.load(reference, params["num_docs"]).vocabulary())


def build(folder: Path, corpus: Corpus | list[Paper], load, **options) -> Manifest:
    folder.mkdir(parents=True)
    return index_papers(folder, corpus, CONFIG, load, build_id=folder.name, index_kind="flat", **options)


# ------------------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("chunk", [3, 7, 1000])
def test_a_streamed_build_writes_the_version_the_whole_corpus_build_wrote(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(indexing_module, "CHUNK", chunk)
    corpus = papers()
    facts = reference_version(tmp_path / "reference", corpus, None, FakeEmbedder(dimension=32))
    manifest = build(tmp_path / "built", Corpus(len(corpus), iter(corpus)), lambda: FakeEmbedder(dimension=32))
    assert_same_version(tmp_path / "built", tmp_path / "reference", facts)
    assert (manifest.embedded, manifest.reused) == (len(corpus) - 2, 0)  # the twins' texts are embedded once


def test_cache_counts_are_those_of_one_pass_whatever_the_chunks(tmp_path, monkeypatch):
    """Embedded, reused and truncated counts, and the vectors, as if every text were met at once: a text met
    again in a later chunk is neither embedded again nor counted as reused."""

    class Windowed(FakeEmbedder):
        def truncated(self, texts):
            return [len(text) > 150 for text in texts]

    monkeypatch.setattr(indexing_module, "CHUNK", 4)
    corpus = papers()
    for run, (part, full) in enumerate([(corpus[:30], False), (corpus, False), (corpus, True)]):
        ours, theirs = EmbeddingCache(tmp_path / f"ours-{run}", "fp"), EmbeddingCache(tmp_path / f"theirs-{run}", "fp")
        for earlier in (ours, theirs):  # the same cache state on both sides: an earlier build of some papers
            encode_cached([CONFIG.document_text(p.title, p.abstract) for p in corpus[10:20]], earlier, Windowed)
        facts = reference_version(tmp_path / f"reference-{run}", part, theirs, Windowed(dimension=256), full=full)
        build(tmp_path / f"built-{run}", part, Windowed, cache=ours, full=full)
        assert_same_version(tmp_path / f"built-{run}", tmp_path / f"reference-{run}", facts)
        assert facts["truncated"] > 0 and (facts["reused"] > 0) != full


def test_a_model_wider_than_the_cached_vectors_starts_the_vectors_again(tmp_path, monkeypatch):
    """Cached vectors of another width (a model changed under the same name) fill the first chunks; the model,
    loaded for a later chunk, disagrees: every vector is encoded again at the model's width."""
    monkeypatch.setattr(indexing_module, "CHUNK", 5)
    corpus = papers()
    cache = EmbeddingCache(tmp_path / "cache", "fp")  # no recorded width, as shards imported from elsewhere
    narrow = FakeEmbedder(dimension=8)
    cache.put([text_key(p) for p in corpus[:12]], narrow.encode_documents([text(p) for p in corpus[:12]]))
    model = FakeEmbedder(dimension=32)
    manifest = build(tmp_path / "v", corpus, lambda: model, cache=cache)
    assert manifest.dimension == 32 and manifest.embedded == len(corpus) - 2  # the twins once
    expected = model.encode_documents([text(p) for p in corpus])
    np.testing.assert_array_equal(np.load(tmp_path / "v" / "embeddings.npy"), expected)


def text(paper: Paper) -> str:
    return CONFIG.document_text(paper.title, paper.abstract)


def text_key(paper: Paper) -> str:
    from recommender.embedding_cache import text_key as key

    return key(text(paper))


def test_a_build_from_the_store_streams_in_one_read_and_equals_the_list_build(tmp_path, monkeypatch):
    monkeypatch.setattr(indexing_module, "CHUNK", 4)
    settings = Settings(index_dir=tmp_path / "indexes", show_progress=False)
    service = Recommender(settings, embedder_factory=lambda config, settings: FakeEmbedder(config))
    service.ingest([write(tmp_path / "corpus.jsonl", jsonl(CORPUS + filler_papers(20)))])
    manifest = service.build()
    stored = list(service.store.papers())
    facts = reference_version(tmp_path / "reference", stored, None, FakeEmbedder())
    facts.pop("embedded"), facts.pop("reused")
    assert_same_version(service.versions.path(manifest.build_id), tmp_path / "reference", facts)
    with service.store.reading_all() as (count, streamed):
        assert count == len(stored) and list(streamed) == stored


@pytest.mark.parametrize(
    "documents",
    [
        [["a", "b", "a"], [], ["b", "c"], [], ["ζ", "ζ", "a b"]],  # empty documents: the placeholder has a column
        [["x"] * 70_000 + ["y"], ["y", "z"]],  # a count beyond 16 bits
        [["only"]],
        [["α", "β"], ["", "α"]],  # a real "" term shares the placeholder's column, as in bm25s
    ],
)
def test_the_builder_equals_bm25s(tmp_path, documents):
    model = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    model.index([tokens or [""] for tokens in documents], show_progress=False)
    model.save(str(tmp_path / "reference"))
    builder = LexicalBuilder(spill=tmp_path / "spill")
    for start in range(0, len(documents), 2):
        builder.add(documents[start : start + 2])
    builder.finish(tmp_path / "built")
    assert_same_bm25(tmp_path / "built", tmp_path / "reference")
    in_memory = LexicalIndex.build(documents)
    reference = LexicalIndex({name: model.scores[name] for name in ("data", "indices", "indptr")}, model.vocab_dict,
                             len(documents))  # fmt: skip
    for term in {*model.vocab_dict, "unknown"}:
        np.testing.assert_array_equal(in_memory.scores([term]), reference.scores([term]))
    assert not (tmp_path / "spill").exists()


def test_key_terms_of_a_build_are_the_index_s_key_terms(tmp_path):
    """The build's vectorised key terms against :meth:`LexicalIndex.key_terms`, on documents made to hit every
    rule: boilerplate, repeated and single terms, ties broken by the term, more than 25 candidates."""
    rng = random.Random(0)
    words = ["anoikis", "stat3", "il-6", "tgf-β", "ζ", "results", "study", "cells", "a", "b", *map(str, range(60))]
    documents = [[rng.choice(words) for _ in range(rng.randint(0, 80))] for _ in range(300)]
    builder = LexicalBuilder()
    builder.add(documents)
    with (tmp_path / "key_terms.jsonl").open("w", encoding="utf-8") as handle:
        index = builder.finish(tmp_path / "lexical", key_terms=handle)
    written = [json.loads(line) for line in (tmp_path / "key_terms.jsonl").read_text(encoding="utf-8").splitlines()]
    assert written == [index.key_terms(tokens) for tokens in documents]
    assert any(len(terms) == 25 for terms in written) and [] in written


# ---------------------------------------------------------------------------------------------- memory
def synthetic(count: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    words = [f"{stem}{suffix}" for stem in ("anoik", "stat", "hypox", "fibro", "glyco", "angio") for suffix in
             ("is", "in", "ase", "al", "ic", "osis", "ogen", "emia")]  # fmt: skip
    symbols = [f"IL-{n}" for n in range(40)] + [f"CD{n}" for n in range(60)]
    return [
        {"id": f"s{i}", "title": " ".join(rng.choices(words, k=8)), "year": 1990 + i % 30,
         "abstract": " ".join(rng.choices(words + symbols, k=60)) + f" cohort{i}"}
        for i in range(count)
    ]  # fmt: skip


def build_peak(tmp_path: Path, count: int) -> int:
    """Peak Python allocation (tracemalloc) of a full build of ``count`` stored papers."""
    settings = Settings(index_dir=tmp_path / f"indexes-{count}", show_progress=False, index_kind="flat")
    service = Recommender(settings, embedder_factory=lambda config, settings: FakeEmbedder(config, dimension=16))
    service.ingest([write(tmp_path / f"corpus-{count}.jsonl", jsonl(synthetic(count)))])
    tracemalloc.start()
    try:
        service.build()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_build_s_memory_does_not_grow_with_the_papers_texts_and_terms(tmp_path, monkeypatch):
    """Four times the papers, in chunks of 500: the peak grows by what must be held per paper (its id, year,
    journal, length, the vectors' bookkeeping: well under 1 KB), not by its record and terms (some 10 KB here,
    as the previous build held them)."""
    monkeypatch.setattr(indexing_module, "CHUNK", 500)
    small, large = build_peak(tmp_path, 2000), build_peak(tmp_path, 8000)
    per_paper = (large - small) / 6000
    assert per_paper < 1000, (small, large, per_paper)
    assert large < 1.5 * small, (small, large)
