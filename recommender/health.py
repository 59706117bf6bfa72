"""How one index is doing, for ``/ready``, ``/health`` and ``recommender status``, and what an index
without any version needs next.

Both answers describe trouble rather than join it: a damaged store, an unreadable manifest or a version that
failed to load becomes a ``problem`` in the answer, not an exception (``ready`` refuses only when nothing at
all can answer queries).
"""

from __future__ import annotations

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


def ready(serving: Serving, versions: VersionStore) -> dict[str, Any]:
    """Whether queries can be answered now: the current version is loaded (loading it if needed)."""
    try:
        snapshot = serving.current()
    except RecommenderError as error:
        raise NotReadyError(f"not ready: {error.message}") from None
    answer: dict[str, Any] = {"ready": True, "version": snapshot.manifest.build_id, "papers_indexed": snapshot.size}
    if serving.problem and snapshot.manifest.build_id != versions.current_id():
        answer["problem"] = serving.problem
    return answer


def status(index: str, store: PaperStore, versions: VersionStore, serving: Serving) -> dict[str, Any]:
    """Where index ``index`` stands: store size, current version and its manifest, the version served if it
    is another one, and what is wrong, if anything. Never raises for a damaged index or store."""
    info: dict[str, Any] = {"index": index}
    problems: list[str] = []
    try:
        info["papers_stored"] = store.count()
    except RecommenderError as error:
        problems.append(error.message)
    info["version"] = versions.current_id()
    try:
        current = versions.current_path()
        if current is not None:
            manifest = Manifest.read(current)
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
    except (IndexCorruptError, IndexMismatchError) as error:
        problems.append(error.message)
    loaded = serving.loaded
    if loaded is not None and loaded.manifest.build_id != info["version"]:
        info["serving"] = loaded.manifest.build_id  # a fallback, or the moment before a new version loads
        info.setdefault("papers_indexed", loaded.size)
        problem = serving.problem
        if problem and problem not in problems:
            problems.insert(0, problem)
    if problems:
        info["problem"] = "; ".join(problems)
    return info
