"""Distribution distances on constructed cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medaug.generative import metrics
from medaug.generative.errors import TooFewImagesError


def test_frechet_identical_sets_is_zero(rng):
    features = rng.normal(size=(200, 4))
    # sqrtm of a product of equal covariances is exact to about 1e-10.
    assert metrics.frechet_distance(features, features) == pytest.approx(0.0, abs=1e-8)


def test_frechet_closed_form_for_gaussians(rng):
    a = rng.normal(size=(400, 2))
    b = 2.0 * rng.normal(size=(400, 2)) + [1.0, -1.0]
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # For commuting (here near-diagonal) covariances tr sqrt(S_a S_b) = sum sqrt(eig).
    eigen = np.linalg.eigvals(cov_a @ cov_b).real
    expected = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(cov_a + cov_b) - 2 * np.sqrt(eigen).sum()
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)


def test_frechet_grows_with_separation(rng):
    base = rng.normal(size=(300, 3))
    near = metrics.frechet_distance(base, rng.normal(size=(300, 3)) + 0.5)
    far = metrics.frechet_distance(base, rng.normal(size=(300, 3)) + 5.0)
    # |shift|**2 = 3 * 25 = 75, up to sampling noise of the covariance terms.
    assert far == pytest.approx(75.0, rel=0.1)
    assert near < far


def test_kernel_distance_point_masses():
    a, b = np.zeros((5, 3)), np.full((5, 3), 2.0)
    # k(a,a) = 1, k(b,b) = (4 + 1)**3 = 125, k(a,b) = 1.
    assert metrics.kernel_distance(a, b) == pytest.approx(1 + 125 - 2)


def test_kernel_distance_same_distribution_near_zero(rng):
    a, b = rng.normal(size=(300, 4)), rng.normal(size=(300, 4))
    far = metrics.kernel_distance(a, rng.normal(size=(300, 4)) + 3.0)
    # The unbiased estimator is centred on 0 for equal distributions.
    assert abs(metrics.kernel_distance(a, b)) < 0.05 * far


def test_prdc_identical_sets(rng):
    x = rng.normal(size=(60, 3))
    scores = metrics.precision_recall_density_coverage(x, x, k=4)
    assert scores["precision"] == 1.0
    assert scores["recall"] == 1.0
    assert scores["coverage"] == 1.0
    # Each real ball holds its centre and its k nearest neighbours: (k + 1) / k.
    assert scores["density"] == pytest.approx(5 / 4)


def test_prdc_disjoint_sets(rng):
    real = rng.normal(size=(50, 3))
    fake = rng.normal(size=(50, 3)) + 100.0
    scores = metrics.precision_recall_density_coverage(real, fake, k=5)
    assert scores == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_prdc_mode_collapse_keeps_precision_loses_recall(rng):
    real = rng.normal(size=(200, 2))
    collapsed = rng.normal(size=(200, 2)) * 0.05
    scores = metrics.precision_recall_density_coverage(real, collapsed, k=5)
    assert scores["precision"] == 1.0
    assert scores["recall"] < 0.2
    assert scores["coverage"] < 0.3


def test_intensity_distance_shift(rng):
    images = rng.random((3, 8, 8))
    assert metrics.intensity_distance(images, images - 0.7) == pytest.approx(0.7)


def test_power_spectrum_distance_scale(rng):
    images = rng.normal(size=(3, 16, 16))
    assert metrics.power_spectrum_distance(images, images) == 0.0
    # Power scales with amplitude squared: factor 100 is 2 decades.
    assert metrics.power_spectrum_distance(images, 100 * images) == pytest.approx(4.0)


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1), st.floats(min_value=-5, max_value=5))
def test_frechet_symmetric_and_translation_invariant(seed, offset):
    generator = np.random.default_rng(seed)
    a, b = generator.normal(size=(30, 3)), generator.normal(size=(30, 3)) + 1.0
    forward = metrics.frechet_distance(a, b)
    # sqrtm rounding is relative to the covariance scale (about 1): 1e-6.
    assert metrics.frechet_distance(b, a) == pytest.approx(forward, rel=1e-6, abs=1e-6)
    assert metrics.frechet_distance(a + offset, b + offset) == pytest.approx(forward, rel=1e-6, abs=1e-6)


def test_bad_input():
    with pytest.raises(TooFewImagesError, match="at least 2 rows"):
        metrics.frechet_distance(np.zeros((1, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="differ in width"):
        metrics.kernel_distance(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="must be finite"):
        metrics.frechet_distance(np.full((4, 3), np.nan), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="`k` must be in"):
        metrics.precision_recall_density_coverage(np.zeros((4, 3)), np.zeros((4, 3)), k=4)
