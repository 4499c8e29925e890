"""Features without downloaded weights: random convolutional and handcrafted."""

from __future__ import annotations

import numpy as np
import pytest

from medaug.generative.features import (
    gradient_statistics,
    handcrafted_features,
    intensity_quantiles,
    radial_power_spectrum,
    random_conv_features,
)


def test_random_features_deterministic_for_seed(rng):
    images = rng.random((3, 32, 32))
    first = random_conv_features(images, seed=3)
    np.testing.assert_array_equal(first, random_conv_features(images, seed=3))
    assert not np.allclose(first, random_conv_features(images, seed=4))


def test_random_features_batch_independent(rng):
    images = rng.random((5, 32, 32))
    # float32 convolutions may sum in another order per batch size: 1e-5 relative.
    np.testing.assert_allclose(
        random_conv_features(images, batch_size=2), random_conv_features(images), rtol=1e-5, atol=1e-6
    )


def test_random_features_3d_shape(rng):
    assert random_conv_features(rng.random((2, 16, 16, 16))).shape == (2, 384)


def test_power_spectrum_of_cosine():
    x = np.arange(32)
    image = np.cos(2 * np.pi * 5 * x / 32)[None, None, :].repeat(32, axis=1)
    spectrum = radial_power_spectrum(image, log=False)[0]
    # All power sits at 5 cycles per field of view.
    assert spectrum.argmax() == 5
    assert spectrum[np.arange(16) != 5].max() == pytest.approx(0.0, abs=1e-20)


def test_white_noise_spectrum_is_flat(rng):
    spectrum = radial_power_spectrum(rng.normal(size=(50, 64, 64)), log=False).mean(axis=0)
    # Unit-variance white noise has power 1 at every frequency; 50 images keep
    # the ring means within 10 % beyond the first rings (few pixels there).
    np.testing.assert_allclose(spectrum[4:], 1.0, rtol=0.1)


def test_handcrafted_known_values():
    ramp = np.tile(np.arange(16.0), (16, 1))[None]
    quantiles = intensity_quantiles(ramp)[0]
    # Quantile 6 of 11 is the median of 0..15 repeated: 7.5.
    assert quantiles[5] == pytest.approx(7.5)
    # A ramp of slope 1 per pixel has gradient magnitude 1 everywhere.
    np.testing.assert_allclose(gradient_statistics(ramp)[0], [1.0, 0.0, 1.0, 1.0, 1.0])
    assert handcrafted_features(ramp).shape == (1, 16 + 8)


def test_bad_input():
    with pytest.raises(ValueError, match=r"shaped \(N, H, W\)"):
        random_conv_features(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="`batch_size` must be >= 1"):
        random_conv_features(np.zeros((1, 8, 8)), batch_size=0)
