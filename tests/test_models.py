"""Model settings with the real bundled model, offline: pooling, window, prefixes, separate query model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import CORPUS, jsonl, write

from recommender.cli import main
from recommender.embedding import model_location
from recommender.errors import InvalidInputError, ModelLoadError
from recommender.model_profiles import PROFILES, model_config
from recommender.settings import DEFAULT_MODEL, Settings

pytestmark = pytest.mark.e2e
TEXTS = [
    "Cancer-associated fibroblasts secrete IL-6 and activate STAT3 in lung cancer cells.",
    "Hypoxia and HIF-1alpha.",
]


def test_profiles_and_aliases():
    assert model_config(None).name == model_config("all-MiniLM-L6-v2").name == DEFAULT_MODEL
    medcpt = model_config("MedCPT")
    assert (medcpt.query_model, medcpt.pooling, medcpt.text_format) == (
        "ncbi/MedCPT-Query-Encoder",
        "cls",
        "title_sep_abstract",
    )
    assert medcpt.document_text("A title", "An abstract.") == "A title [SEP] An abstract."
    assert model_config(None).document_text("A title", "An abstract.") == "A title. An abstract."
    assert model_config("some/hub-model", pooling="cls").settings()["pooling"] == "cls"
    assert {"pubmedbert", "s-pubmedbert-msmarco", "medcpt", "specter2", "biolord"} <= set(PROFILES)
    with pytest.raises(InvalidInputError):
        model_config(None, pooling="median")
    with pytest.raises(InvalidInputError):
        model_config(None, colour="red")


def test_missing_local_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        model_location("./no/such/model")


def test_pooling_window_and_prefix_change_the_vectors(real_factory):
    settings = Settings()
    default = real_factory(model_config(None), settings)
    folder = model_location(DEFAULT_MODEL)
    cls = real_factory(model_config(folder, pooling="cls"), settings)
    short = real_factory(model_config(None, max_seq_length=16), settings)
    prefixed = real_factory(model_config(None, query_prefix="query: "), settings)
    base = default.encode_documents(TEXTS)
    assert base.shape == (2, 384) and np.allclose(np.linalg.norm(base, axis=1), 1, atol=1e-5)
    assert not np.allclose(cls.encode_documents(TEXTS), base, atol=1e-3)
    assert not np.allclose(short.encode_documents(TEXTS), base, atol=1e-3)
    assert np.allclose(prefixed.encode_documents(TEXTS), base, atol=1e-5)
    assert not np.allclose(prefixed.encode_queries(TEXTS), base, atol=1e-3)
    assert short.count_truncated(TEXTS) == 1 and default.count_truncated(TEXTS) == 0


def test_separate_query_model(real_factory):
    folder = model_location(DEFAULT_MODEL)
    pair = real_factory(model_config(None, query_model=folder, pooling="cls"), Settings())
    documents, queries = pair.encode_documents(TEXTS), pair.encode_queries(TEXTS)
    assert documents.shape == queries.shape == (2, 384)


def test_index_records_and_enforces_model_settings(tmp_path, real_factory):
    corpus = write(tmp_path / "c.jsonl", jsonl(CORPUS))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(
            main, ["--index-dir", str(tmp_path / "idx"), *args], obj={"embedder_factory": real_factory}
        )

    assert run("ingest", str(corpus)).exit_code == 0
    built = run("build", "--max-seq-length", "32", "--query-prefix", "query: ", "--json")
    assert built.exit_code == 0, built.output
    manifest = json.loads(built.stdout)
    assert manifest["model_settings"]["max_seq_length"] == 32
    assert manifest["model_settings"]["query_prefix"] == "query: "
    assert manifest["truncated"] == len(CORPUS)  # every synthetic abstract is longer than 32 tokens
    assert run("search", "hypoxia", "-k", "1").exit_code == 0  # the index's own settings are reused
    mismatch = run("search", "hypoxia", "--model", "all-MiniLM-L6-v2")
    assert mismatch.exit_code == 1 and "different settings" in mismatch.stderr
    rebuilt = run("build", "--json")  # sticky: the same settings again
    assert json.loads(rebuilt.stdout)["model_settings"]["max_seq_length"] == 32
