"""The page reader on the development set of copied pages from many sites (tests/pages_dev; made-up text, real
layouts): at least 90% of pages fully right, and every page's DOI and abstract bounds."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from bench_pages import score_all


def test_at_least_nine_pages_in_ten_are_read_fully_right():
    scores = score_all()
    assert len(scores) >= 30 and len({name.split("-")[1] for name in scores}) >= 20
    wrong = {
        name: result["note"]
        for name, result in scores.items()
        if not all(result[f] for f in ("title", "doi", "start", "end", "clean"))
    }
    assert len(wrong) <= len(scores) // 10, wrong
