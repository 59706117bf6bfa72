"""Settings from the environment: one table (recommender.settings.ENVIRONMENT), every entry a real field,
parsed to its type, refused with the variable's name when malformed, and documented in the README."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from recommender.errors import InvalidInputError
from recommender.settings import ENVIRONMENT, Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_variable_sets_a_field_and_is_documented() -> None:
    names = {item.name for item in fields(Settings)}
    for variable, name, _ in ENVIRONMENT:
        assert name in names, variable
        assert f"`{variable}" in README, f"{variable} is not in the README"
    assert len({variable for variable, _, _ in ENVIRONMENT}) == len(ENVIRONMENT)


def test_values_are_parsed_to_their_types() -> None:
    settings = Settings.from_env(
        {
            "RECOMMENDER_INDEX_DIR": "/tmp/x",
            "RECOMMENDER_BATCH_SIZE": "16",
            "RECOMMENDER_QUERY_BATCHING": "off",
            "RECOMMENDER_MAX_UPLOAD_MB": "1.5",
            "RECOMMENDER_ALLOWED_HOSTS": "a.org, ,b.org",
            "RECOMMENDER_TEXT_WEIGHT": "0.3",
            "RECOMMENDER_MODEL": "",  # empty: unset
        }
    )
    assert settings.index_dir == Path("/tmp/x")
    assert settings.batch_size == 16 and settings.query_batching is False
    assert settings.max_upload_bytes == int(1.5 * 1024 * 1024)
    assert settings.allowed_hosts == ("a.org", "b.org")
    assert settings.text_weight == 0.3 and settings.model is None


def test_explicit_overrides_win_over_the_environment() -> None:
    settings = Settings.from_env({"RECOMMENDER_INDEX": "env"}, index_name="given", model=None)
    assert settings.index_name == "given"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [("RECOMMENDER_THREADS", "two", "integer"), ("RECOMMENDER_BODY_TIMEOUT", "soon", "number")],
)
def test_a_malformed_value_names_its_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=f"{variable} must be an? {message}"):
        Settings.from_env({variable: value})
