"""How one index is doing, for ``/ready``, ``/health`` and ``recommender status``, and what an index
without any version needs next.

Both answers describe trouble rather than join it: a damaged store, an unreadable manifest or a version that
failed to load becomes a ``problem`` in the answer, not an exception (``ready`` refuses only when nothing at
all can answer queries).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import IndexCorruptError, IndexMismatchError, IndexNotBuiltError, NotReadyError, RecommenderError
from .manifest import Manifest
from .serving import Serving
from .store import PaperStore
from .versions import VersionStore


def not_built(index: str, store: PaperStore) -> IndexNotBuiltError:
    """The error of an index without a version, naming the command that comes next (build, or ingest)."""
    stored = store.count()
    if stored:
        return IndexNotBuiltError(f"index {index!r} has {stored} papers but no built version; run `recommender build`")
    return IndexNotBuiltError(f"index {index!r} is empty; run `recommender ingest PATH` then `recommender build`")


@dataclass(frozen=True)
class Readiness:
    """A version that can answer queries now (an index that cannot raises :class:`NotReadyError` instead)."""

    version: str
    papers_indexed: int
    #: Why the version answering is not the current one (a fallback after a failed load), if it is not.
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The answer of ``GET /ready``."""
        answer: dict[str, Any] = {"ready": True, "version": self.version, "papers_indexed": self.papers_indexed}
        if self.problem is not None:
            answer["problem"] = self.problem
        return answer


@dataclass(frozen=True)
class Status:
    """Where an index stands (see :func:`status`); absent facts are ``None`` rather than an exception."""

    index: str
    #: ``None`` when the store could not be read (the reason is in ``problem``).
    papers_stored: int | None
    #: The build id ``CURRENT`` names, ``None`` before the first build.
    version: str | None
    #: The current version's manifest, when it could be read.
    manifest: Manifest | None = None
    #: The version loaded and answering when it is another one than ``version`` (a fallback, or the moment
    #: before a new version loads).
    serving: str | None = None
    #: Papers in the current version (from its manifest), else in the version serving, else ``None``.
    papers_indexed: int | None = None
    #: What is wrong, if anything (several troubles joined by "; ").
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The answer of ``recommender status --json`` and ``GET /health`` (beside their own keys)."""
        info: dict[str, Any] = {"index": self.index}
        if self.papers_stored is not None:
            info["papers_stored"] = self.papers_stored
        info["version"] = self.version
        manifest = self.manifest
        if manifest is not None:
            info.update(
                papers_indexed=manifest.count,
                model=manifest.model,
                dimension=manifest.dimension,
                built_at=manifest.built_at,
                index_type=manifest.index_type,
                recall_at_10=manifest.recall_at_10,
                encoder=manifest.encoder,
            )
            if manifest.base is not None:  # a delta version: papers added since the last full build
                info["delta"] = {"base": manifest.base, **manifest.delta}
        if self.serving is not None:
            info["serving"] = self.serving
            info.setdefault("papers_indexed", self.papers_indexed)
        if self.problem is not None:
            info["problem"] = self.problem
        return info


def ready(serving: Serving, versions: VersionStore) -> Readiness:
    """Whether queries can be answered now: the current version is loaded (loading it if needed)."""
    try:
        snapshot = serving.current()
    except RecommenderError as error:
        raise NotReadyError(f"not ready: {error.message}") from None
    build_id = snapshot.manifest.build_id
    problem = serving.problem if serving.problem and build_id != versions.current_id() else None
    return Readiness(version=build_id, papers_indexed=snapshot.size, problem=problem)


def status(index: str, store: PaperStore, versions: VersionStore, serving: Serving) -> Status:
    """Where index ``index`` stands: store size, current version and its manifest, the version served if it
    is another one, and what is wrong, if anything. Never raises for a damaged index or store."""
    problems: list[str] = []
    papers_stored = None
    try:
        papers_stored = store.count()
    except RecommenderError as error:
        problems.append(error.message)
    version = versions.current_id()
    manifest = None
    try:
        current = versions.current_path()
        if current is not None:
            manifest = Manifest.read(current)
    except (IndexCorruptError, IndexMismatchError) as error:
        problems.append(error.message)
    papers_indexed = manifest.count if manifest is not None else None
    serving_id = None
    loaded = serving.loaded
    if loaded is not None and loaded.manifest.build_id != version:
        serving_id = loaded.manifest.build_id  # a fallback, or the moment before a new version loads
        if papers_indexed is None:
            papers_indexed = loaded.size
        problem = serving.problem
        if problem and problem not in problems:
            problems.insert(0, problem)
    return Status(
        index=index,
        papers_stored=papers_stored,
        version=version,
        manifest=manifest,
        serving=serving_id,
        papers_indexed=papers_indexed,
        problem="; ".join(problems) if problems else None,
    )
