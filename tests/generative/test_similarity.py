"""MS-SSIM and pairwise diversity."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage

from medaug.generative.errors import TooFewImagesError
from medaug.generative.similarity import ms_ssim, ms_ssim_diversity


def test_ms_ssim_identical_is_one(rng):
    images = rng.random((3, 64, 64))
    # Luminance and contrast-structure are 1 for x == y up to float32 rounding.
    np.testing.assert_allclose(ms_ssim(images, images, data_range=1.0), 1.0, atol=1e-5)


def test_ms_ssim_orders_degradation(rng):
    image = scipy.ndimage.gaussian_filter(rng.random((1, 64, 64)), (0, 2, 2))
    slight = image + rng.normal(0, 0.005, image.shape)
    strong = image + rng.normal(0, 0.1, image.shape)
    values = [ms_ssim(image, other, data_range=1.0)[0] for other in (slight, strong)]
    assert values[0] > values[1]


def test_ms_ssim_independent_noise_is_low(rng):
    a, b = rng.random((2, 1, 64, 64))
    # Independent white noise has near-zero covariance at every scale.
    assert ms_ssim(a, b, data_range=1.0)[0] < 0.1


def test_ms_ssim_3d(rng):
    volume = rng.random((2, 16, 16, 16))
    np.testing.assert_allclose(ms_ssim(volume, volume, data_range=1.0), 1.0, atol=1e-5)


def test_diversity_of_copies_is_one(rng):
    image = rng.random((32, 32))
    copies = np.stack([image] * 5)
    assert ms_ssim_diversity(copies, rng, data_range=1.0) == pytest.approx(1.0)
    assert ms_ssim_diversity(rng.random((5, 32, 32)), rng, data_range=1.0) < 0.2


def test_bad_input(rng):
    with pytest.raises(TooFewImagesError, match="at least 2 images"):
        ms_ssim_diversity(rng.random((1, 32, 32)), rng)
    with pytest.raises(ValueError, match="at least 7 pixels"):
        ms_ssim(np.zeros((1, 5, 5)), np.zeros((1, 5, 5)), data_range=1.0)
    with pytest.raises(ValueError, match="`data_range` must be > 0"):
        ms_ssim(np.zeros((1, 9, 9)), np.zeros((1, 9, 9)), data_range=0.0)
    with pytest.raises(ValueError, match="must have one shape"):
        ms_ssim(np.zeros((1, 9, 9)), np.zeros((1, 9, 10)), data_range=1.0)
