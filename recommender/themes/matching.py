"""Which new theme continues which old one after a refit, so a researcher's map does not reshuffle.

Old and new themes are matched one to one by the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``)
on the papers they share; a matched new theme takes the old theme's id, so "theme 3" stays theme 3. The
report gives, for each new theme, the old id it continues, the papers they share and their Jaccard overlap;
the old themes that found no successor; and the adjusted Rand index of the two maps on the papers both hold
(1.0: the same grouping).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score

from .theme import Changes, ThemeChange


def match(
    old: dict[str, int], new: dict[str, int], new_ids: list[int], fixed: int = 0
) -> tuple[dict[int, int], Changes]:
    """Ids for the new themes (new id → final id) and the report. ``old`` and ``new`` map paper ids to theme
    ids, ``new_ids`` are all the new map's theme ids (0..k-1, empty ones too); themes below ``fixed`` (named
    themes) keep their ids and match themselves."""
    new_ids = sorted(new_ids)
    old_ids = sorted(set(old.values()))
    shared_papers = [paper for paper in new if paper in old]
    free_new = [theme for theme in new_ids if theme >= fixed]
    free_old = [theme for theme in old_ids if theme >= fixed]
    counts = np.zeros((len(free_new), len(free_old)))
    position_new = {theme: i for i, theme in enumerate(free_new)}
    position_old = {theme: i for i, theme in enumerate(free_old)}
    for paper in shared_papers:
        if new[paper] in position_new and old[paper] in position_old:
            counts[position_new[new[paper]], position_old[old[paper]]] += 1
    pairs: dict[int, int] = {theme: theme for theme in new_ids if theme < fixed}
    if counts.size:
        rows, columns = linear_sum_assignment(-counts)
        pairs.update(
            {free_new[r]: free_old[c] for r, c in zip(rows.tolist(), columns.tolist(), strict=True) if counts[r, c] > 0}
        )
    renumber = _renumber(new_ids, pairs)
    sizes_new = {theme: sum(1 for value in new.values() if value == theme) for theme in new_ids}
    sizes_old = {theme: sum(1 for value in old.values() if value == theme) for theme in old_ids}
    themes: list[ThemeChange] = []
    for theme in new_ids:
        previous = pairs.get(theme)
        shared = sum(1 for paper in shared_papers if new[paper] == theme and old[paper] == previous)
        union = sizes_new[theme] + sizes_old.get(previous, 0) - shared if previous is not None else sizes_new[theme]
        themes.append(ThemeChange(renumber[theme], previous, shared, round(shared / union, 4) if union else 0.0))
    continued = set(pairs.values())
    ari = (
        adjusted_rand_score([old[p] for p in shared_papers], [new[p] for p in shared_papers])
        if len(shared_papers) > 1
        else 1.0
    )
    report = Changes(
        papers_compared=len(shared_papers),
        ari=round(float(ari), 4),
        themes=sorted(themes, key=lambda item: item.id),
        ended=[theme for theme in old_ids if theme not in continued],
    )
    return renumber, report


def _renumber(new_ids: list[int], pairs: dict[int, int]) -> dict[int, int]:
    """Final ids 0..k-1: a matched theme takes its old id when that id is free and in range, the others fill
    the remaining ids in their own order."""
    k = len(new_ids)
    final: dict[int, int] = {}
    taken: set[int] = set()
    for theme in new_ids:
        previous = pairs.get(theme)
        if previous is not None and previous < k and previous not in taken:
            final[theme] = previous
            taken.add(previous)
    free = iter(i for i in range(k) if i not in taken)
    for theme in new_ids:
        if theme not in final:
            final[theme] = next(free)
    return final
