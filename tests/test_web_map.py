"""The 2-D theme map endpoint (GET /themes/map): one point per paper, with its theme, year and journal."""

from __future__ import annotations

import pytest
from helpers import CORPUS, built_service

from recommender.web import create_app


@pytest.fixture()
def client(index_dir, tmp_path):
    return create_app(service=built_service(index_dir, tmp_path)).test_client()  # reads need no token


def test_the_theme_map_gives_one_point_per_paper(client):
    answer = client.get("/themes/map?k=3")
    assert answer.status_code == 200
    points = answer.get_json()
    n = len(points["id"])
    assert n == len(CORPUS)
    assert all(len(points[column]) == n for column in ("x", "y", "theme", "year", "journal", "title"))
    assert {theme["id"] for theme in points["themes"]} >= set(points["theme"]) - {-1}
    assert all(theme["representatives"] for theme in points["themes"])
    assert all(-1 <= j < len(points["journals"]) for j in points["journal"])
    assert client.get("/themes/map?within=0").status_code == 400
