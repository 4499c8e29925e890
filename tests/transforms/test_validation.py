"""Shared argument checks."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medaug.transforms import check_probability, check_range, check_vector


def test_reversed_range_raises():
    with pytest.raises(ValueError, match=r"`rotation_range_deg` must be \(low, high\) with low <= high, got \(15, -15\)"):
        check_range((15, -15), "rotation_range_deg")


def test_range_bounds_and_types():
    with pytest.raises(ValueError, match="must lie within"):
        check_range((-0.1, 1.0), "scale_range", minimum=0.0)
    with pytest.raises(TypeError, match="must be a number or a"):
        check_range("wide", "rotation_range_deg")
    with pytest.raises(ValueError, match="given as one number must be >= 0"):
        check_range(-3, "translation_range_mm", symmetric=True)


@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
def test_range_is_ordered(a, b):
    low, high = check_range((min(a, b), max(a, b)), "r")
    assert low <= high


@pytest.mark.parametrize("p", [-0.1, 1.01, float("nan")])
def test_probability_outside_unit_interval(p):
    with pytest.raises(ValueError, match="`p` must"):
        check_probability(p)


def test_vector_length():
    with pytest.raises(ValueError, match="`spacing_mm` must have 3 values, got 2"):
        check_vector((1.0, 2.0), "spacing_mm", 3)
