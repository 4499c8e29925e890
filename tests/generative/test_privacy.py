"""Nearest-neighbour distances and membership-inference scores."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from medaug.generative.privacy import (
    group_max,
    membership_leakage_test,
    nearest_distances,
    pairwise_rms_distance,
    roc_auc,
    top_rank_p_value,
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


@pytest.mark.parametrize(("members", "nonmembers"), [(3, 4), (2, 5), (4, 1)])
def test_top_rank_p_value_matches_all_rankings(members, nonmembers):
    # Enumerate every ranking of the records (member = True) and count those whose
    # k highest-ranked records are all members: the exact null probability.
    total = members + nonmembers
    rankings = [
        [i in chosen for i in range(total)]
        for chosen in itertools.combinations(range(total), members)
    ]
    for k in range(members + 1):
        count = sum(all(ranking[:k]) for ranking in rankings)
        assert top_rank_p_value(k, members, nonmembers) == pytest.approx(count / len(rankings), rel=1e-12)


@given(st.integers(1, 40), st.integers(0, 40), st.data())
def test_top_rank_p_value_in_unit_interval_and_decreasing(members, nonmembers, data):
    k = data.draw(st.integers(0, members - 1))
    p, p_next = top_rank_p_value(k, members, nonmembers), top_rank_p_value(k + 1, members, nonmembers)
    assert 0 < p_next <= p <= 1
    if nonmembers > 0:
        assert p_next < p
    assert top_rank_p_value(0, members, nonmembers) == 1.0


def test_members_above_every_nonmember_give_smallest_p_value():
    members, nonmembers = np.arange(10.0, 18.0), np.arange(8.0)
    result = membership_leakage_test(members, nonmembers)
    assert result["k"] == 8 and result["members"] == 8 and result["nonmembers"] == 8
    assert result["p_value"] == pytest.approx(1 / math.comb(16, 8), rel=1e-12)
    assert result["p_value"] < 0.001


def test_member_tied_with_top_nonmember_is_not_counted():
    assert membership_leakage_test([3.0, 2.0, 1.0], [2.0, 0.0])["k"] == 1


def test_top_rank_p_value_bad_input():
    with pytest.raises(ValueError, match=r"`k` must be in \[0, members=3\], got 4"):
        top_rank_p_value(4, 3, 2)
    with pytest.raises(ValueError, match="`members` must be >= 1"):
        top_rank_p_value(0, 0, 2)
    with pytest.raises(TypeError, match="`k` must be an int, got float"):
        top_rank_p_value(1.0, 3, 2)
    with pytest.raises(ValueError, match="must not be empty"):
        membership_leakage_test([], [1.0])
