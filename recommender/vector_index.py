"""Nearest-neighbour search over embeddings: the only module that imports FAISS.

Vectors are L2-normalised, so inner product is cosine similarity. Row ``i`` of the index is paper ``i`` of
the snapshot it belongs to; that positional mapping is what keeps ids stable between the index, the stored
embeddings and the papers file.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from .errors import IndexCorruptError


class VectorIndex:
    """An exact inner-product index (``IndexFlatIP``)."""

    kind = "flat-ip"

    def __init__(self, index: faiss.Index) -> None:
        self._index = index

    @classmethod
    def build(cls, vectors: np.ndarray) -> VectorIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        return cls(index)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def search(
        self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, rows)``, each of shape ``(len(queries), k)``; missing neighbours have row -1.

        ``allowed`` (row numbers) restricts the search itself to those rows, so a filter that keeps 1% of
        the corpus still yields ``k`` neighbours instead of the few that survive among the global top k.
        """
        k = max(1, min(k, self.size))
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if allowed is None:
            return self._index.search(queries, k)
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        return self._index.search(queries, k, params=faiss.SearchParameters(sel=selector))

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        try:
            return cls(faiss.read_index(str(path)))
        except RuntimeError as error:
            raise IndexCorruptError(f"cannot read vector index {path}: {error}") from None


def set_threads(threads: int) -> None:
    if threads > 0:
        faiss.omp_set_num_threads(threads)
