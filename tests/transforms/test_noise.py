"""Noise transforms: statistics, streams per field, twins, replay and YAML."""

import math

import numpy as np
import pytest
import torch

from medaug.core import Image, Sample, collate
from medaug.physics.noise import (
    GaussianNoise,
    PoissonGaussianNoise,
    PoissonNoise,
    RicianNoise,
    SaltAndPepperNoise,
    SpeckleNoise,
)
from medaug.transforms import (
    AddNoise,
    Compose,
    RandomGaussianNoise,
    RandomPoissonGaussianNoise,
    RandomPoissonNoise,
    RandomRicianNoise,
    RandomSaltAndPepperNoise,
    RandomSpeckleNoise,
    from_yaml,
    replay,
    to_yaml,
)

RANDOM_NOISE = [
    RandomGaussianNoise((0.1, 0.3)),
    RandomRicianNoise((0.1, 0.3)),
    RandomPoissonNoise((5.0, 50.0)),
    RandomPoissonGaussianNoise((5.0, 50.0), (0.01, 0.1)),
    RandomSpeckleNoise((0.1, 0.3)),
    RandomSpeckleNoise((0.1, 0.3), distribution="gaussian"),
    RandomSaltAndPepperNoise((0.05, 0.2), salt_fraction=0.3),
]

ZERO_STRENGTH = [
    AddNoise(GaussianNoise(0.0)),
    AddNoise(RicianNoise(0.0)),
    AddNoise(PoissonNoise(float("inf"))),
    AddNoise(PoissonGaussianNoise(float("inf"), 0.0)),
    AddNoise(SpeckleNoise(0.0)),
    AddNoise(SaltAndPepperNoise(0.0)),
    RandomGaussianNoise((0.0, 0.0)),
    RandomRicianNoise(0.0),
    RandomSpeckleNoise((0.0, 0.0)),
    RandomSaltAndPepperNoise((0.0, 0.0)),
]


def _positive_sample(dtype=np.float32) -> Sample:
    # Poisson models need intensities >= 0; a ramp also gives salt and pepper distinct extremes.
    data = np.linspace(0.5, 2.0, 6 * 7 * 8, dtype=dtype).reshape(1, 6, 7, 8)
    return Sample({"image": Image(data)})


def test_gaussian_noise_standard_deviation():
    out = AddNoise(GaussianNoise(0.5), seed=1)(np.zeros((1, 128, 128), np.float32))
    # 16384 samples: the sample std is within 2 % of 0.5 (standard error 0.55 %).
    assert abs(float(out.std()) - 0.5) < 0.01
    assert abs(float(out.mean())) < 0.02


def test_rician_noise_mean_of_zero_signal():
    out = AddNoise(RicianNoise(2.0), seed=3)(np.zeros((1, 128, 128), np.float32))
    # Zero signal gives a Rayleigh distribution with mean sigma sqrt(pi / 2).
    expected = 2.0 * math.sqrt(math.pi / 2.0)
    assert abs(float(out.mean()) - expected) / expected < 0.02
    assert float(out.min()) >= 0.0


def test_poisson_noise_variance():
    out = AddNoise(PoissonNoise(10.0), seed=4)(np.full((1, 128, 128), 3.0, np.float32))
    # Poisson(30) / 10: mean 3 and variance 0.3; 16384 samples put both
    # within 3 % (over 2.5 standard errors of the variance).
    assert abs(float(out.mean()) / 3.0 - 1) < 0.01
    assert abs(float(out.var()) / 0.3 - 1) < 0.03


def test_salt_and_pepper_exact_count_per_field():
    data = np.linspace(0.0, 1.0, 400, dtype=np.float32).reshape(1, 20, 20)
    sample = Sample({"a": Image(data), "b": Image(data)})
    out = AddNoise(SaltAndPepperNoise(0.1), seed=2).transform(sample)
    for name in ("a", "b"):
        changed = out[name].data != sample[name].data
        assert int(changed.sum()) == 40
        assert set(out[name].data[changed].tolist()) <= {0.0, 1.0}


def test_noise_differs_between_fields():
    zeros = np.zeros((1, 16, 16), np.float32)
    sample = Sample({"a": Image(zeros), "b": Image(zeros)})
    out = AddNoise(GaussianNoise(1.0), seed=5).transform(sample)
    assert not torch.equal(out["a"].data, out["b"].data)


@pytest.mark.parametrize("transform", RANDOM_NOISE, ids=lambda t: type(t).__name__)
def test_random_noise_equals_twin(transform):
    sample = _positive_sample()
    parameters = transform.sample_parameters(np.random.default_rng(2), sample)
    twin = transform.deterministic(parameters)
    assert isinstance(twin, AddNoise)
    a = twin.transform(sample)
    b = transform.transform(sample, rng=np.random.default_rng(2))
    assert torch.equal(a["image"].data, b["image"].data)
    assert not torch.equal(b["image"].data, sample["image"].data)


@pytest.mark.parametrize("transform", RANDOM_NOISE, ids=lambda t: type(t).__name__)
def test_random_noise_replays_exactly(transform, rng):
    sample = _positive_sample()
    out = transform.transform(sample, rng=rng)
    assert out.history[-1].name == "AddNoise"
    again = replay(sample, out.history_dicts())
    assert torch.equal(out["image"].data, again["image"].data)


@pytest.mark.parametrize("transform", RANDOM_NOISE, ids=lambda t: type(t).__name__)
def test_random_noise_shape_and_dtype(transform, rng):
    sample = _positive_sample(np.float64)
    out = transform.transform(sample, rng=rng)
    assert out["image"].data.shape == sample["image"].data.shape
    assert out["image"].data.dtype == torch.float64


def test_noise_pipeline_yaml_round_trip(tmp_path):
    # Poisson models come first because they need intensities >= 0.
    pipeline = Compose([AddNoise(PoissonNoise(20.0), seed=9), *RANDOM_NOISE[2:4], *RANDOM_NOISE[:2], *RANDOM_NOISE[4:]])
    path = tmp_path / "noise.yaml"
    to_yaml(pipeline, path)
    loaded = from_yaml(path)
    assert to_yaml(loaded) == to_yaml(pipeline)
    sample = _positive_sample()
    a = pipeline.transform(sample, rng=np.random.default_rng(3))
    b = loaded.transform(sample, rng=np.random.default_rng(3))
    assert torch.equal(a["image"].data, b["image"].data)


def test_add_noise_builds_model_from_config():
    config = {"name": "SpeckleNoise", "config": {"sigma": 0.2, "distribution": "gaussian"}}
    assert AddNoise(config, seed=1).model == SpeckleNoise(0.2, distribution="gaussian")


def test_batched_items_get_their_own_noise(rng):
    sample = collate([_positive_sample(), _positive_sample()])
    out = RandomGaussianNoise((0.1, 0.1)).transform(sample, rng=rng)
    assert out["image"].data.shape == (2, 1, 6, 7, 8)
    assert not torch.equal(out["image"].data[0], out["image"].data[1])


@pytest.mark.parametrize("transform", ZERO_STRENGTH, ids=repr)
def test_zero_noise_is_identity(transform):
    data = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    np.testing.assert_array_equal(transform(data, rng=0), data)


def test_integer_image_promoted():
    out = AddNoise(GaussianNoise(1.0), seed=0)(np.full((1, 4, 4), 255, np.uint8))
    assert out.dtype == np.float32
    assert out.max() > 255


def test_poisson_transform_rejects_negative_image(rng):
    with pytest.raises(ValueError, match="`x` must be >= 0 for Poisson noise"):
        RandomPoissonNoise()(np.full((1, 4, 4), -1.0, np.float32), rng=rng)


def test_bad_noise_arguments():
    with pytest.raises(ValueError, match="`sigma` must be >= 0"):
        AddNoise(GaussianNoise(-0.1))
    with pytest.raises(ValueError, match="`std_range` must lie within"):
        RandomGaussianNoise((-1.0, 1.0))
    with pytest.raises(ValueError, match="`seed` must be an int >= 0"):
        AddNoise(GaussianNoise(1.0), seed=-3)
    with pytest.raises(ValueError, match="`counts_range` must be > 0 at both ends"):
        RandomPoissonNoise((0.0, 10.0))
    with pytest.raises(ValueError, match=r"`amount_range` must lie within \[\.\.\., 1\]"):
        RandomSaltAndPepperNoise((0.0, 2.0))
    with pytest.raises(ValueError, match="`salt_fraction` must be in"):
        RandomSaltAndPepperNoise(salt_fraction=1.5)
    with pytest.raises(ValueError, match="`low` must be finite"):
        RandomSaltAndPepperNoise(low=float("nan"))
    with pytest.raises(ValueError, match="`distribution` must be"):
        RandomSpeckleNoise(distribution="rayleigh")


def test_bad_noise_model_config():
    with pytest.raises(TypeError, match="`model` must be a noise model"):
        AddNoise(0.1)
    with pytest.raises(ValueError, match="`model` name must be one of"):
        AddNoise({"name": "Blur", "config": {}})
    with pytest.raises(ValueError, match=r"unknown keys \['std'\]"):
        AddNoise({"name": "GaussianNoise", "config": {"std": 0.1}})
    with pytest.raises(ValueError, match=r"extra keys \['sigma'\]"):
        AddNoise({"name": "GaussianNoise", "sigma": 0.1})
