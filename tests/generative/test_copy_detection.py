"""Copy detection against altered training images and independent samples."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage

from medaug.generative.copy_detection import (
    CopyDetector,
    band_pass,
    calibrate_threshold,
    prepare_for_retrieval,
)


def _alter(image: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Apply one training-style augmentation at the strongest level the detector promises."""
    if kind == "exact":
        return image.copy()
    if kind == "noisy":
        return image + rng.normal(0.0, 0.05, image.shape)
    if kind == "blurred":
        return scipy.ndimage.gaussian_filter(image, rng.uniform(0.5, 2.0))
    if kind == "flipped":
        return np.flip(image, axis=int(rng.integers(2)))
    if kind == "shifted":
        shift = rng.integers(-4, 5, size=2)
        return scipy.ndimage.shift(image, shift, order=0, mode="constant")
    if kind == "rotated":
        return scipy.ndimage.rotate(image, rng.uniform(-10, 10), reshape=False, order=1)
    raise AssertionError(kind)



def test_altered_copies_flagged_independent_not(heads):
    rng = np.random.default_rng(11)
    train, _ = heads(30, rng)
    holdout, _ = heads(30, rng)
    independent, _ = heads(100, rng)
    detector = CopyDetector()
    threshold = detector.threshold(train, holdout)

    kinds = ["exact", "noisy", "blurred", "flipped", "shifted", "rotated"]
    sources = rng.choice(len(train), size=8 * len(kinds))
    copies = np.stack([_alter(train[i], kinds[j // 8], rng) for j, i in enumerate(sources)])
    copy_matches = detector.match(copies, train)
    independent_matches = detector.match(independent, train)

    flagged = copy_matches.similarity > threshold
    for number, kind in enumerate(kinds):
        assert flagged[number * 8 : (number + 1) * 8].mean() >= 0.95, kind
    assert (copy_matches.index == sources).all()
    assert (independent_matches.similarity > threshold).mean() <= 0.01


def test_flagged_rate_of_copies_reaches_all(heads):
    rng = np.random.default_rng(5)
    train, _ = heads(10, rng)
    matches = CopyDetector().match(train, train)
    # An exact copy correlates perfectly; float32 rounding leaves 1e-5.
    np.testing.assert_allclose(matches.similarity, 1.0, atol=1e-5)
    np.testing.assert_array_equal(matches.index, np.arange(10))


def test_calibrate_threshold_margin():
    assert calibrate_threshold([0.2, 0.6], margin=0.0) == pytest.approx(0.6)
    assert calibrate_threshold([0.2, 0.6], margin=0.5) == pytest.approx(0.8)


def test_prepare_and_band_pass_known_values():
    constant = np.full((1, 8, 8), 3.0)
    np.testing.assert_allclose(prepare_for_retrieval(constant, blur_sigma_px=1.0, factor=2), 3.0)
    # A band-pass removes constants (both Gaussians keep them unchanged).
    np.testing.assert_allclose(band_pass(constant, low_sigma_px=0.7, high_sigma_px=2.5), 0.0, atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="`max_shift_px` must be >= 0"):
        CopyDetector(max_shift_px=-1)
    with pytest.raises(ValueError, match="`margin` must be in"):
        CopyDetector(margin=1.0)
    with pytest.raises(ValueError, match="band-pass sigmas"):
        CopyDetector(band_sigmas_px=(2.0, 1.0))
    with pytest.raises(ValueError, match="too small"):
        CopyDetector().match(np.zeros((1, 16, 16)), np.zeros((2, 16, 16)))
    with pytest.raises(ValueError, match="differ in shape"):
        CopyDetector().match(np.zeros((1, 32, 32)), np.zeros((2, 32, 33)))
    with pytest.raises(ValueError, match="must not be empty"):
        calibrate_threshold([], margin=0.1)
