import numpy as np
import pytest
import torch

from medaug.core.fields import Image
from medaug.core.sample import Sample
from medaug.data.config import parse_config
from medaug.data.errors import ConfigError


def step(**options):
    data = {"seed": 0, "source": {"type": "shapes", "shape": [24, 24]},
            "simulation": [{"type": "ct", "views": 60, **options}]}
    return parse_config(data).simulation[0]


def water_disc(value_hu=0.0, size=24):
    y, x = np.mgrid[:size, :size] - size / 2 + 0.5
    image = np.where(np.hypot(y, x) < size * 0.35, value_hu, -1000.0).astype(np.float32)
    return Sample({"image": Image(image[None])})


def test_outputs_and_shapes():
    out = step().simulate(water_disc(), np.random.default_rng(0))
    assert out["sinogram"].data.shape[:2] == (1, 60)
    assert out["low_dose"].data.shape == (1, 24, 24)
    assert out["full_dose"].data.dtype == torch.float32


def test_water_reconstructs_near_zero_hu():
    # High dose, water disc: the FBP mean inside the disc is 0 HU up to
    # discretisation bias of Joseph projection + ramp FBP (a few percent of
    # the 1000 HU air-water step on a 24-pixel grid), so 50 HU.
    out = step(i0=1e9, dose_fraction=1.0).simulate(water_disc(), np.random.default_rng(0))
    image = out["full_dose"].data[0]
    centre = image[9:15, 9:15]
    assert abs(float(centre.mean())) < 50


def test_lower_dose_is_noisier():
    # Quantum noise scales as 1/sqrt(dose): a 16x lower dose gives ~4x the standard deviation.
    out = step(i0=2e4, dose_fraction=1 / 16).simulate(water_disc(), np.random.default_rng(1))
    low = out["low_dose"].data[0, 8:16, 8:16].std()
    full = out["full_dose"].data[0, 8:16, 8:16].std()
    assert 2.5 < float(low / full) < 6.0


def test_dose_factor_overrides_option():
    sample = water_disc().replace(metadata={"factors": {"dose_fraction": 0.5}})
    out = step().simulate(sample, np.random.default_rng(0))
    assert out.history[-1].parameters["dose_fraction"] == 0.5


def test_bad_dose_names_key():
    with pytest.raises(ConfigError, match=r"`simulation\[0\].dose_fraction`: .*\(0, 1\], got 2"):
        step(dose_fraction=2.0)


def test_too_few_detectors_names_key():
    with pytest.raises(ConfigError, match=r"`simulation\[0\].detectors`: 8 detectors cannot cover"):
        step(detectors=8)
