"""Shared fixtures: paths to ../shared, a small deterministic fake embedder, and the real offline model.

Unit tests use :class:`FakeEmbedder` (hashed bag of words: fast, deterministic, no torch). End-to-end tests
(marked ``e2e``) use the real bundled all-MiniLM-L6-v2, loaded once per session.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import ANOIKIS, CAF, CORPUS, fake_factory, jsonl, write

from recommender.cli import main
from recommender.model_profiles import ModelConfig
from recommender.service import Recommender
from recommender.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never touch the network
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RECOMMENDER_SHARED_DIR", REPO.parent / "shared"))


def shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"{path} not found: the tests read ../shared beside the repository (or RECOMMENDER_SHARED_DIR)")
    return path


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return shared_path("seeds")


@pytest.fixture(scope="session")
def expected_seeds(seeds_dir: Path) -> dict[str, dict]:
    data = json.loads((seeds_dir / "expected.json").read_text(encoding="utf-8"))
    return {name: value for name, value in data.items() if not name.startswith("_")}


@pytest.fixture()
def index_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "indexes"
    monkeypatch.setenv("RECOMMENDER_INDEX_DIR", str(folder))
    monkeypatch.delenv("RECOMMENDER_MODEL", raising=False)
    monkeypatch.delenv("RECOMMENDER_INDEX", raising=False)
    return folder


@pytest.fixture()
def make_service(index_dir: Path) -> Callable[..., Recommender]:
    """A service over a temporary index folder with the fake embedder."""

    def make(index: str = "default", model: str | None = None, **kwargs: object) -> Recommender:
        settings = Settings(index_dir=index_dir, index_name=index, model=model, show_progress=False)
        return Recommender(settings, embedder_factory=kwargs.pop("factory", fake_factory), **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture()
def built(make_service, tmp_path: Path) -> Recommender:
    """A built index of the small synthetic corpus (tests/helpers.py) with the fake embedder."""
    service = make_service()
    service.ingest([write(tmp_path / "corpus.jsonl", jsonl(CORPUS))])
    service.build()
    return service


@pytest.fixture(scope="session")
def real_factory(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str | None, Settings], object]:
    """The real bundled model, loaded once for the whole session; ``auto`` calibrates once per model too."""
    from recommender.embedding import SentenceTransformerEmbedder

    cache: dict[str, SentenceTransformerEmbedder] = {}
    choice_file = tmp_path_factory.mktemp("backend-choice") / "backend_choice.json"

    def factory(config: ModelConfig, settings: Settings) -> SentenceTransformerEmbedder:
        key = json.dumps([config.name, config.settings()], sort_keys=True)
        if key not in cache:
            cache[key] = SentenceTransformerEmbedder(config, threads=settings.threads, choice_file=choice_file)
        return cache[key]

    return factory


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, seeds_dir, real_factory):
    """Seeds ingested and built through the CLI into a fresh index folder; returns the folder and id map."""
    folder = tmp_path_factory.mktemp("e2e") / "indexes"
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, ["--index-dir", str(folder), *args], obj={"embedder_factory": real_factory})

    sources = [str(seeds_dir / name) for name in sorted([*ANOIKIS, *CAF])]
    result = run("ingest", *sources, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    ids = {Path(paper["source"]).name: paper["id"] for paper in report["papers"]}
    assert len(ids) == 4 and report["rejected"] == []
    built = run("build", "--json")
    assert built.exit_code == 0, built.output
    return folder, ids, run
