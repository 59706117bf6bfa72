"""Answering a checked query on one index version: related papers, a search, recommendations from examples.

Each answer takes the snapshot the façade got for it, so a version published meanwhile never mixes into a
request. References become rows (an unknown paper is 404, one stored after the build 409), filters become a
mask over rows (a theme filter reads the index's default theme map of that same snapshot),
:class:`~recommender.retrieval.Retriever` ranks, and the ranked rows become one page of
:class:`~recommender.hit.Hit` cards, each with its paper's theme chip when a map has been fitted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .cards import depth, first_authors, links, opening, page
from .checks import check_filters
from .embedding import Embedder
from .errors import InvalidInputError, NotFoundError, StaleIndexError
from .hit import Hit
from .paper import Paper, check_reference
from .retrieval import STRENGTH_MIN_PAPERS, Filters, Ranked, RetrievalConfig, Retriever
from .settings import Settings
from .snapshot import Snapshot
from .store import PaperStore
from .strength import at_least
from .themes.maps import ThemeMaps

#: Most papers of a collection used as examples (its latest additions): the query's key terms and mean
#: vector settle long before, and reading each example's terms costs time.
COLLECTION_EXAMPLES = 1000
#: The page of a ranked list: ``(offset, k, sort)`` as :func:`recommender.checks.check_paging` returns it.
Paging = tuple[int, int, str]


def retrieval_config(settings: Settings) -> RetrievalConfig:
    """The ranking configuration: measured defaults, with the settings' fusion choices applied."""
    overrides = {
        name: getattr(settings, name)
        for name in ("fusion", "text_weight", "paper_weight")
        if getattr(settings, name) is not None
    }
    if settings.fusion is not None:  # a method chosen by the user applies to both query forms
        overrides["paper_fusion"] = settings.fusion
    try:
        return dataclasses.replace(RetrievalConfig(), **overrides)
    except ValueError as error:
        raise InvalidInputError(str(error)) from None


class Answering:
    """The read side of one index (see the module docstring); safe to share between threads."""

    def __init__(
        self,
        store: PaperStore,
        index_name: str,
        retrieval: RetrievalConfig,
        query_encoder: Callable[[Snapshot], Embedder],
        theme_maps: ThemeMaps,
    ) -> None:
        self.store = store
        self.index_name = index_name
        self.retrieval = retrieval
        self._query_encoder = query_encoder
        self._theme_maps = theme_maps

    def related(
        self, snapshot: Snapshot, reference: str, paging: Paging, mode: str | None, filters: Filters | None
    ) -> list[Hit]:
        """Papers most related to a stored paper, the paper itself excluded."""
        row = self.row(snapshot, reference)
        retriever = self._retriever(snapshot, mode)
        allowed, excluded = self._filter_rows(snapshot, filters)
        ranked = retriever.rank(
            snapshot.embeddings[row],
            retriever.paper_query_tokens(row),
            depth(*paging),
            exclude={row, *excluded},
            paper_query=True,
            allowed=allowed,
            query_text=snapshot.papers[row].text,
        )
        return self._hits(snapshot, ranked, filters, paging)

    def search(
        self, snapshot: Snapshot, text: str, paging: Paging, mode: str | None, filters: Filters | None
    ) -> list[Hit]:
        """Papers most related to a free-text query; the model runs only when the mode needs vectors."""
        retriever = self._retriever(snapshot, mode)
        allowed, excluded = self._filter_rows(snapshot, filters)
        vector = None
        if retriever.config.mode != "lexical":
            vector = self._query_encoder(snapshot).encode_queries([text])[0]
        tokens, paper_like = retriever.text_query(text)
        ranked = retriever.rank(
            vector,
            tokens,
            depth(*paging),
            exclude=excluded,
            allowed=allowed,
            query_text=text,
            paper_query=paper_like,  # a pasted abstract is ranked like a paper
        )
        return self._hits(snapshot, ranked, filters, paging)

    def recommend(
        self,
        snapshot: Snapshot,
        positive: Sequence[str],
        negative: Sequence[str],
        paging: Paging,
        mode: str | None,
        filters: Filters | None,
    ) -> list[Hit]:
        """Papers like the ``positive`` references and unlike the ``negative`` ones (none of them returned)."""
        positive_rows = list(dict.fromkeys(self.row(snapshot, reference) for reference in positive))
        negative_rows = self._negative_rows(snapshot, negative, positive_rows)
        return self._examples(snapshot, positive_rows, negative_rows, paging, mode, filters)

    def recommend_collection(
        self,
        snapshot: Snapshot,
        name: str,
        ids: Sequence[str],
        negative: Sequence[str],
        paging: Paging,
        mode: str | None,
        filters: Filters | None,
    ) -> list[Hit]:
        """Papers like collection ``name``'s papers ``ids``: those indexed, its latest
        :data:`COLLECTION_EXAMPLES` at most."""
        positive_rows = [snapshot.row_of[paper_id] for paper_id in ids if paper_id in snapshot.row_of]
        if not positive_rows:
            raise InvalidInputError(
                f"collection {name!r} has no indexed paper to recommend from"
                + (" (its papers are not in the built index yet: run `recommender build`)" if ids else "")
            )
        positive_rows = positive_rows[-COLLECTION_EXAMPLES:]
        negative_rows = self._negative_rows(snapshot, negative, positive_rows)
        return self._examples(snapshot, positive_rows, negative_rows, paging, mode, filters)

    def _negative_rows(self, snapshot: Snapshot, negative: Sequence[str], positive_rows: list[int]) -> list[int]:
        """The rows of the negative examples, once each; a paper given as both counts as positive."""
        positive = set(positive_rows)
        return [row for row in dict.fromkeys(self.row(snapshot, r) for r in negative) if row not in positive]

    def _examples(
        self,
        snapshot: Snapshot,
        positive_rows: list[int],
        negative_rows: list[int],
        paging: Paging,
        mode: str | None,
        filters: Filters | None,
    ) -> list[Hit]:
        retriever = self._retriever(snapshot, mode)
        allowed, excluded = self._filter_rows(snapshot, filters)
        vector, tokens, penalised = retriever.examples_query(positive_rows, negative_rows)
        ranked = retriever.rank(
            vector,
            tokens,
            depth(*paging),
            exclude={*positive_rows, *negative_rows, *excluded},
            paper_query=True,
            allowed=allowed,
            negative_tokens=penalised,
            examples=True,
        )
        return self._hits(snapshot, ranked, filters, paging)

    def row(self, snapshot: Snapshot, reference: str) -> int:
        """The snapshot row of a paper given by id, DOI or PMID; 404 if unknown, 409 if not built yet."""
        reference = check_reference(reference)
        row = snapshot.row_of.get(reference)
        if row is not None:
            return row
        paper = self.store.resolve(reference)
        if paper is None:
            raise NotFoundError(f"no paper {reference!r} in index {self.index_name!r}")
        row = snapshot.row_of.get(paper.id)
        if row is None:
            raise StaleIndexError(
                f"paper {paper.id!r} was ingested after the last build; run `recommender build` to index it"
            )
        return row

    def _filter_rows(self, snapshot: Snapshot, filters: Filters | None) -> tuple[np.ndarray | None, set[int]]:
        """The allowed-rows mask and the excluded rows of a filter (unknown excluded ids are ignored)."""
        if filters is None:
            return None, set()
        check_filters(filters)
        excluded = {snapshot.row_of[paper_id] for paper_id in filters.exclude if paper_id in snapshot.row_of}
        theme_of_row = self._theme_maps.theme_of_row(snapshot, filters.themes) if filters.themes else None
        return filters.mask(snapshot, theme_of_row), excluded

    def _retriever(self, snapshot: Snapshot, mode: str | None) -> Retriever:
        config = self.retrieval
        if mode is not None and mode != config.mode:
            try:
                config = dataclasses.replace(config, mode=mode)
            except ValueError as error:
                raise InvalidInputError(str(error)) from None
        return Retriever(snapshot, config)

    def _hits(self, snapshot: Snapshot, ranked: list[Ranked], filters: Filters | None, paging: Paging) -> list[Hit]:
        """Ranked rows as hits, one page of them; with a least strength, weaker hits dropped first (fewer
        than k may remain)."""
        wanted = filters.min_strength if filters is not None else None
        if wanted is not None:
            if any(item.level is None for item in ranked):
                raise InvalidInputError(
                    "min_strength needs the hybrid mode (strength uses both score parts) and an index of "
                    f"{STRENGTH_MIN_PAPERS} papers or more (strength is calibrated on large corpora)"
                )
            ranked = [item for item in ranked if item.level is not None and at_least(item.level, wanted)]
        ranked = page(ranked, *paging, year=lambda item: int(snapshot.columns.years[item.row]))  # no record read
        chips = self._theme_maps.chips(snapshot)
        return [hit(snapshot.papers[item.row], item, chips) for item in ranked]


def hit(paper: Paper, item: Ranked, chips: Mapping[str, dict[str, Any]]) -> Hit:
    """One ranked paper as a hit with its result card's fields."""
    return Hit(
        id=paper.id,
        title=paper.display_title,  # an untitled paper: its opening words, not null
        score=round(item.score, 6),
        dense=round(item.dense, 6),
        lexical=round(item.lexical, 6),
        shared_terms=item.shared_terms,
        journal=paper.journal,
        year=paper.year,
        doi=paper.doi,
        pmid=paper.pmid,
        strength=item.strength,
        match=item.level,
        snippet=opening(paper) if item.snippet is None else item.snippet.to_dict(),
        authors=first_authors(paper),
        author_count=len(paper.authors),
        pmcid=paper.pmcid,
        links=links(paper),
        theme=chips.get(paper.id),
    )
