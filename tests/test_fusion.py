"""Score fusion is plain array maths with the documented properties."""

import numpy as np
import pytest

from recommender.fusion import fuse


def test_zscore_lets_the_signal_that_separates_candidates_decide():
    dense = np.array([0.545, 0.508, 0.489])  # bunched together
    lexical = np.array([0.9, 3.0, 0.7])  # one clear winner
    assert int(np.argmax(fuse(dense, lexical, method="zscore"))) == 1
    assert int(np.argmax(fuse(dense, lexical, method="zscore", weight=0.0))) == 0


def test_weight_extremes_reduce_to_one_signal():
    dense, lexical = np.array([0.1, 0.9, 0.5]), np.array([5.0, 1.0, 3.0])
    for method in ("tmm", "zscore", "minmax", "rrf"):
        assert list(np.argsort(-fuse(dense, lexical, method=method, weight=0.0, lexical_bound=10))) == [1, 2, 0]
        assert list(np.argsort(-fuse(dense, lexical, method=method, weight=1.0, lexical_bound=10))) == [0, 2, 1]


def test_constant_signal_contributes_nothing():
    dense, lexical = np.array([0.2, 0.8]), np.zeros(2)
    for method in ("zscore", "minmax"):
        assert list(np.argsort(-fuse(dense, lexical, method=method))) == [1, 0]


def test_tmm_does_not_depend_on_the_other_candidates():
    dense, lexical = np.array([0.5, 0.4]), np.array([2.0, 6.0])
    alone = fuse(dense, lexical, method="tmm", lexical_bound=10.0)
    crowd = fuse(np.append(dense, 0.9), np.append(lexical, 9.0), method="tmm", lexical_bound=10.0)
    assert np.allclose(alone, crowd[:2])
    assert np.allclose(alone, 0.5 * dense + 0.5 * lexical / 10.0)


def test_tmm_needs_the_bound_and_ignores_a_zero_one():
    with pytest.raises(ValueError):
        fuse(np.ones(2), np.ones(2), method="tmm")
    assert np.allclose(fuse(np.array([0.2, 0.8]), np.zeros(2), method="tmm", lexical_bound=0.0), [0.1, 0.4])


def test_rrf_uses_ranks_only():
    assert np.allclose(
        fuse(np.array([1.0, 2.0]), np.array([10.0, 1.0]), method="rrf"),
        fuse(np.array([1.0, 200.0]), np.array([1000.0, 1.0]), method="rrf"),
    )


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError):
        fuse(np.ones(2), np.ones(2), method="magic")
    with pytest.raises(ValueError):
        fuse(np.ones(2), np.ones(2), weight=1.5)
