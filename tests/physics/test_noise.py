"""Noise models: identity at zero strength, promotion, statistics, exact impulse counts."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from medaug.physics.noise import (
    GaussianNoise,
    PoissonGaussianNoise,
    PoissonNoise,
    RicianNoise,
    SaltAndPepperNoise,
    SpeckleNoise,
)

ZERO_STRENGTH = [
    GaussianNoise(0.0),
    RicianNoise(0.0),
    PoissonNoise(float("inf")),
    PoissonGaussianNoise(float("inf"), 0.0),
    SpeckleNoise(0.0),
    SaltAndPepperNoise(0.0),
]

DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.float16, np.float32, np.float64]


@settings(max_examples=30, deadline=None)
@given(
    model=st.sampled_from(ZERO_STRENGTH),
    x=hnp.arrays(st.sampled_from(DTYPES), hnp.array_shapes(min_dims=1, max_dims=3, max_side=5)),
)
def test_zero_strength_is_identity(model, x):
    if x.dtype.kind == "f":
        x = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0)
    out = model(x, generator=np.random.default_rng(0))
    assert out.dtype == x.dtype
    assert np.array_equal(out, x)


def test_zero_strength_identity_torch():
    x = torch.tensor([-3.5, 0.0, 2.0e30], dtype=torch.float64)
    for model in ZERO_STRENGTH:
        assert torch.equal(model(x, generator=torch.Generator().manual_seed(0)), x)


def test_integers_promoted_not_wrapped():
    x = np.full(10_000, 127, dtype=np.int8)
    out = GaussianNoise(20.0)(x, generator=np.random.default_rng(1))
    assert out.dtype == np.float32
    # Wrapping would send values above 127 to negative numbers; promoted
    # values exceed 127 about half the time and stay above 127 - 5 sigma.
    assert (out > 127).mean() > 0.4
    assert out.min() > 27


def test_int64_promoted_to_float64():
    x = np.array([2**40, -(2**40)], dtype=np.int64)
    out = GaussianNoise(1.0)(x, generator=np.random.default_rng(2))
    assert out.dtype == np.float64


def test_gaussian_statistics():
    x = np.zeros(200_000)
    out = GaussianNoise(2.0, mean=1.0)(x, generator=np.random.default_rng(3))
    # 200 000 draws: mean and std within 1 % (over 5 standard errors).
    assert abs(out.mean() - 1.0) < 0.02
    assert abs(out.std() / 2.0 - 1) < 0.01


def test_rician_zero_signal_is_rayleigh():
    x = torch.zeros(200_000, dtype=torch.float64)
    out = RicianNoise(2.0)(x, generator=torch.Generator().manual_seed(9))
    # Rayleigh mean sigma sqrt(pi / 2); 200 000 draws put it within 1 %
    # (over 7 standard errors).
    assert abs(float(out.mean()) / (2.0 * math.sqrt(math.pi / 2)) - 1) < 0.01
    assert float(out.min()) >= 0.0


def test_rician_second_moment():
    x = np.full(200_000, -3.0)
    out = RicianNoise(0.5)(x, generator=np.random.default_rng(10))
    # E[M^2] = A^2 + 2 sigma^2 = 9.5 exactly; 1 % is over 10 standard errors.
    assert abs(float((out**2).mean()) / 9.5 - 1) < 0.01
    assert float(out.min()) >= 0.0


def test_poisson_variance_equals_mean():
    x = torch.full((200_000,), 3.0, dtype=torch.float64)
    out = PoissonNoise(10.0)(x, generator=torch.Generator().manual_seed(4))
    counts = out * 10
    # Poisson(30): variance equals mean; 2 % is over 5 standard errors.
    assert abs(float(counts.mean()) / 30 - 1) < 0.02
    assert abs(float(counts.var()) / 30 - 1) < 0.02


def test_poisson_negative_input_raises():
    with pytest.raises(ValueError, match="`x` must be >= 0 for Poisson noise"):
        PoissonNoise(10.0)(np.array([-1.0]), generator=np.random.default_rng(0))


def test_poisson_gaussian_variance():
    x = np.full(200_000, 5.0)
    out = PoissonGaussianNoise(4.0, 0.5)(x, generator=np.random.default_rng(5))
    # Var = x / counts_per_unit + sigma^2 = 1.25 + 0.25.
    assert abs(out.var() / 1.5 - 1) < 0.03


@pytest.mark.parametrize("distribution", ["gamma", "gaussian"])
def test_speckle_mean_and_std(distribution):
    x = torch.full((200_000,), 4.0, dtype=torch.float64)
    out = SpeckleNoise(0.5, distribution=distribution)(x, generator=torch.Generator().manual_seed(6))
    # E[m] = 1 and std(m) = 0.5, so mean 4 and std 2, within 2 %.
    assert abs(float(out.mean()) / 4 - 1) < 0.02
    assert abs(float(out.std()) / 2 - 1) < 0.02


@settings(max_examples=40, deadline=None)
@given(amount=st.floats(0, 1), size=st.integers(1, 300), seed=st.integers(0, 2**16))
def test_salt_and_pepper_exact_count(amount, size, seed):
    x = np.random.default_rng(seed).normal(size=size)
    if size > 1:
        out = SaltAndPepperNoise(amount)(x, generator=np.random.default_rng(seed))
        assert int((out != x).sum()) == round(amount * size)


def test_salt_and_pepper_torch_generator_count():
    x = torch.linspace(-1, 1, 1000)
    out = SaltAndPepperNoise(0.237, low=-5.0, high=5.0)(x, generator=torch.Generator().manual_seed(7))
    assert int((out != x).sum()) == 237
    assert set(out[out != x].tolist()) <= {-5.0, 5.0}


def test_salt_and_pepper_constant_image_raises():
    with pytest.raises(ValueError, match="`low` and `high` are both"):
        SaltAndPepperNoise(0.5)(np.ones(10), generator=np.random.default_rng(0))


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="`sigma` must be >= 0"):
        GaussianNoise(-0.1)
    with pytest.raises(ValueError, match="`amount` must be in"):
        SaltAndPepperNoise(1.5)
    with pytest.raises(ValueError, match="`counts_per_unit` must be > 0"):
        PoissonNoise(0.0)
    with pytest.raises(ValueError, match="`distribution` must be"):
        SpeckleNoise(0.1, distribution="rayleigh")
    with pytest.raises(ValueError, match="`sigma` must be >= 0"):
        RicianNoise(float("nan"))
    with pytest.raises(ValueError, match="`high` must be finite, got inf"):
        SaltAndPepperNoise(0.1, high=float("inf"))
    with pytest.raises(TypeError, match="`low` must be a number or None, got str"):
        SaltAndPepperNoise(0.1, low="min")


def test_non_finite_input_raises():
    with pytest.raises(ValueError, match="`x` contains NaN or inf"):
        GaussianNoise(1.0)(np.array([np.nan]), generator=np.random.default_rng(0))


def test_missing_generator_raises():
    with pytest.raises(TypeError, match="`generator` must be a numpy.random.Generator"):
        GaussianNoise(1.0)(np.zeros(3), generator=0)


def test_same_seed_same_noise():
    x = np.linspace(0.0, 2.0, 50)
    for model in (GaussianNoise(1.0), RicianNoise(0.5), SpeckleNoise(0.3), SaltAndPepperNoise(0.2), PoissonNoise(2.0)):
        first = model(x + 1, generator=np.random.default_rng(8))
        second = model(x + 1, generator=np.random.default_rng(8))
        assert np.array_equal(first, second)


def test_apply_noise_matches_call_on_float_tensor():
    x = torch.linspace(0.5, 2.0, 64, dtype=torch.float64)
    for model in (GaussianNoise(0.3), RicianNoise(0.3), PoissonGaussianNoise(8.0, 0.1), SpeckleNoise(0.4)):
        direct = model.apply_noise(x, torch.Generator().manual_seed(11))
        called = model(x, generator=torch.Generator().manual_seed(11))
        assert torch.equal(direct, called)
