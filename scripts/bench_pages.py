"""The page reader on the development sets of copied pages (tests/pages_dev, tests/pages_holdout): which fields it
gets right.

A page is fully right when its title (a trailing full stop aside; none when the page has none), its DOI and
the abstract's first and last characters are right, and no listed furniture reached the title or the abstract.
Prints each page that is not fully right with what went wrong, then the totals.

    .venv/bin/python scripts/bench_pages.py [-v]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from recommender.ingest import read_paths
from recommender.paper import Paper

ROOT = Path(__file__).resolve().parents[1] / "tests" / "pages_dev"
FIELDS = ("title", "doi", "start", "end", "clean")
#: Reported beside the score, not part of "fully right".
OTHER_FIELDS = ("year", "journal", "first_author")


def expected_fields(root: Path = ROOT) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(root.glob("expected_*.json")):
        found.update(json.loads(path.read_text(encoding="utf-8")))
    return found


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


def score_page(paper: Paper | Any, expected: dict[str, Any]) -> dict[str, Any]:
    """Per field, whether the reader got it right, and a note of what it got instead."""
    if not isinstance(paper, Paper):
        failed = dict.fromkeys((*FIELDS, *OTHER_FIELDS), False)
        return {**failed, "note": f"rejected: {getattr(paper, 'reason', paper)}"}
    abstract = _norm(paper.abstract)
    start, end = _norm(expected["abstract_starts"]), _norm(expected["abstract_ends"])
    title = _norm(expected["title"]).rstrip(".") if expected["title"] else ""
    furniture = [item for item in expected["must_not_contain"] if _norm(item) in f"{paper.title} {abstract}"]
    result = {
        "title": _norm(paper.title).rstrip(".") == title,
        "doi": paper.doi == (expected["doi"].lower() if expected["doi"] else None),
        "start": start[:40] in abstract[: len(start) + 40],
        "end": abstract.endswith(end) or abstract.endswith(end.rstrip(".")),
        "clean": not furniture,
        "year": paper.year == expected.get("year"),
        "journal": _same(paper.journal, expected.get("journal")),
        "first_author": _same(paper.authors[0] if paper.authors else None, expected.get("first_author")),
    }
    notes = []
    if not result["title"]:
        notes.append(f"title {paper.title[:70]!r}, expected {str(expected['title'])[:50]!r}")
    if not result["doi"]:
        notes.append(f"doi {paper.doi}, expected {expected['doi']}")
    if not result["start"]:
        notes.append(f"abstract starts {abstract[:60]!r}")
    if not result["end"]:
        notes.append(f"abstract ends {abstract[-60:]!r}")
    if furniture:
        notes.append(f"furniture {furniture[:2]}")
    return {**result, "note": "; ".join(notes)}


def _same(got: str | None, want: str | None) -> bool:
    return _norm(got).lower().rstrip(".") == _norm(want).lower().rstrip(".")


def score_all(root: Path = ROOT) -> dict[str, dict[str, Any]]:
    scores = {}
    for name, expected in expected_fields(root).items():
        items = list(read_paths([root / name]))
        scores[name] = score_page(items[0][2] if items else None, expected)
    return scores


def fully_right(result: dict[str, Any]) -> bool:
    return all(result[field] for field in FIELDS)


def main() -> None:
    for folder in (ROOT, ROOT.parent / "pages_holdout"):
        print(f"== {folder.name}")
        report(score_all(folder))


def report(scores: dict[str, dict[str, Any]]) -> None:
    for name, result in scores.items():
        if not fully_right(result) or "-v" in sys.argv:
            print(f"{name:<32} {result['note'] or 'right'}")
    n = len(scores)
    right = sum(fully_right(result) for result in scores.values())
    fields = ", ".join(f"{field} {sum(r[field] for r in scores.values())}/{n}" for field in (*FIELDS, *OTHER_FIELDS))
    sites = {name.split("-")[1] for name in scores}
    print(f"\n{n} pages of {len(sites)} sites: fully right {right}/{n} ({right / n:.0%}); {fields}")


if __name__ == "__main__":
    main()
