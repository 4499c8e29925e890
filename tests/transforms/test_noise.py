"""Gaussian and Rician noise: statistics, streams per field, replay."""

import math

import numpy as np
import pytest
import torch

from medaug.core import Image, Sample
from medaug.transforms import (
    GaussianNoise,
    RandomGaussianNoise,
    RandomRicianNoise,
    RicianNoise,
    replay,
)


def test_gaussian_noise_standard_deviation():
    out = GaussianNoise(0.5, seed=1)(np.zeros((1, 128, 128), np.float32))
    # 16384 samples: the sample std is within 2 % of 0.5 (standard error 0.55 %).
    assert abs(float(out.std()) - 0.5) < 0.01
    assert abs(float(out.mean())) < 0.02


def test_rician_noise_mean_of_zero_signal():
    out = RicianNoise(2.0, seed=3)(np.zeros((1, 128, 128), np.float32))
    # Zero signal gives a Rayleigh distribution with mean sigma sqrt(pi / 2).
    expected = 2.0 * math.sqrt(math.pi / 2.0)
    assert abs(float(out.mean()) - expected) / expected < 0.02
    assert float(out.min()) >= 0.0


def test_noise_differs_between_fields():
    zeros = np.zeros((1, 16, 16), np.float32)
    sample = Sample({"a": Image(zeros), "b": Image(zeros)})
    out = GaussianNoise(1.0, seed=5).transform(sample)
    assert not torch.equal(out["a"].data, out["b"].data)


def test_noise_replays_exactly(rng):
    sample = Sample({"image": Image(np.zeros((1, 16, 16), np.float32))})
    out = RandomRicianNoise((0.1, 0.3)).transform(sample, rng=rng)
    again = replay(sample, out.history_dicts())
    assert torch.equal(out["image"].data, again["image"].data)


def test_zero_noise_is_identity():
    data = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    np.testing.assert_array_equal(GaussianNoise(0.0)(data), data)
    np.testing.assert_array_equal(RandomGaussianNoise((0.0, 0.0))(data, rng=0), data)


def test_integer_image_promoted():
    out = GaussianNoise(1.0, seed=0)(np.full((1, 4, 4), 255, np.uint8))
    assert out.dtype == np.float32
    assert out.max() > 255


def test_bad_noise_arguments():
    with pytest.raises(ValueError, match="`std` must be >= 0"):
        GaussianNoise(-0.1)
    with pytest.raises(ValueError, match="`std_range` must lie within"):
        RandomGaussianNoise((-1.0, 1.0))
    with pytest.raises(ValueError, match="`seed` must be an int >= 0"):
        GaussianNoise(1.0, seed=-3)
