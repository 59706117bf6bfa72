"""The page reader on the development sets of copied pages from many sites (tests/pages_dev and
tests/pages_holdout; made-up text, real layouts): at least 90% of the pages of each fully right."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from bench_pages import ROOT, fully_right, score_all


@pytest.mark.parametrize("folder", [ROOT, ROOT.parent / "pages_holdout"], ids=["pages_dev", "pages_holdout"])
def test_at_least_nine_pages_in_ten_are_read_fully_right(folder):
    scores = score_all(folder)
    assert len(scores) >= 15 and len({name.split("-")[1] for name in scores}) >= 12
    wrong = {name: result["note"] for name, result in scores.items() if not fully_right(result)}
    assert len(wrong) <= len(scores) // 10, wrong
