"""Nearest-neighbour distances and membership-inference scores."""

from __future__ import annotations

import numpy as np
import pytest

from medaug.generative.privacy import (
    group_max,
    nearest_distances,
    pairwise_rms_distance,
    roc_auc,
    tpr_at_fpr,
)


def test_rms_distance_closed_form(rng):
    a, b = rng.random((3, 4, 4)), rng.random((2, 4, 4))
    expected = np.sqrt(((a[:, None] - b[None]) ** 2).mean(axis=(2, 3)))
    # The expanded form |a|^2 + |b|^2 - 2ab loses about 1e-12 to cancellation.
    np.testing.assert_allclose(pairwise_rms_distance(a, b), expected, atol=1e-7)


def test_nearest_skips_own_patient():
    distances = np.array([[0.0, 2.0, 3.0], [2.0, 0.0, 1.0]])
    values, index = nearest_distances(distances)
    np.testing.assert_array_equal(index, [0, 1])
    values, index = nearest_distances(distances, query_groups=["a", "b"], reference_groups=["a", "b", "c"])
    np.testing.assert_array_equal(index, [1, 2])
    np.testing.assert_array_equal(values, [2.0, 1.0])
    with pytest.raises(ValueError, match="one patient only"):
        nearest_distances(distances, query_groups=["a", "a"], reference_groups=["a", "a", "a"])


def test_tpr_at_fpr_perfect_and_chance(rng):
    nonmembers = rng.normal(size=1000)
    assert tpr_at_fpr(nonmembers + 100.0, nonmembers, fpr=0.01) == 1.0
    # Same distribution: the TPR at 1 % FPR is about 1 % (binomial spread over 1000).
    assert tpr_at_fpr(rng.normal(size=1000), nonmembers, fpr=0.01) < 0.03


def test_tpr_at_fpr_small_holdout_flags_no_nonmember():
    # With 10 non-members, 1 % allows none: threshold is the top non-member.
    assert tpr_at_fpr(np.array([0.5, 2.0]), np.arange(10) / 10, fpr=0.01) == 0.5


def test_roc_auc_known():
    assert roc_auc([3.0, 4.0], [1.0, 2.0]) == 1.0
    assert roc_auc([1.0], [1.0]) == 0.5


def test_group_max_order():
    values, groups = group_max(np.array([1.0, 5.0, 2.0]), ["b", "a", "b"])
    assert groups == ["b", "a"]
    np.testing.assert_array_equal(values, [2.0, 5.0])


def test_bad_input():
    with pytest.raises(ValueError, match="must not be empty"):
        tpr_at_fpr(np.array([]), np.array([1.0]))
    with pytest.raises(ValueError, match="`fpr` must be in"):
        tpr_at_fpr(np.array([1.0]), np.array([1.0]), fpr=1.5)
    with pytest.raises(ValueError, match="image sizes differ"):
        pairwise_rms_distance(np.zeros((1, 2, 2)), np.zeros((1, 3, 3)))
