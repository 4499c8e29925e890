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
    assert out["reference"].data.dtype == torch.float32


def test_noise_scales_with_dose():
    # Quantum noise in the reconstruction scales as 1/sqrt(dose): 1/16 of the
    # dose gives 4 times the standard deviation of low_dose - reference.
    # Over 36 central pixels the ratio's sampling error is about 15 %.
    def noise(dose):
        out = step(i0=2e4, dose_fraction=dose).simulate(water_disc(), np.random.default_rng(1))
        return float((out["low_dose"].data - out["reference"].data)[0, 9:15, 9:15].std())

    assert noise(1 / 16) / noise(1.0) == pytest.approx(4.0, rel=0.35)


def test_dose_factor_overrides_option():
    sample = water_disc().replace(metadata={"factors": {"dose_fraction": 0.5}})
    out = step().simulate(sample, np.random.default_rng(0))
    assert out.history[-1].parameters["dose_fraction"] == 0.5


def test_volume_scanned_per_slice():
    volume = Sample({"image": Image(np.zeros((2, 16, 16), np.float32)[None])})
    out = step().simulate(volume, np.random.default_rng(0))
    assert out["sinogram"].data.shape[:2] == (2, 60)
    assert out["low_dose"].data.shape == (1, 2, 16, 16)


def test_bad_dose_names_key():
    with pytest.raises(ConfigError, match=r"`simulation\[0\].dose_fraction`: .*\(0, 1\], got 2"):
        step(dose_fraction=2.0)


def test_too_few_detectors_names_key():
    with pytest.raises(ConfigError, match=r"`simulation\[0\].detectors`: 8 detectors cannot cover"):
        step(detectors=8)


def test_replace_image_and_keep_reference_select_fields():
    full = step().simulate(water_disc(), np.random.default_rng(3))
    lean = step(replace_image=True, keep_reference=False).simulate(water_disc(), np.random.default_rng(3))
    assert sorted(full) == ["image", "low_dose", "reference", "sinogram"]
    assert sorted(lean) == ["image", "sinogram"]
    # The noiseless reconstruction draws no noise, so skipping it leaves the low-dose image unchanged.
    assert torch.equal(lean["image"].data, full["low_dose"].data)


def test_missing_reference_cannot_be_an_output():
    data = {"seed": 0, "source": {"type": "shapes", "shape": [24, 24]},
            "simulation": [{"type": "ct", "views": 60, "keep_reference": False}],
            "outputs": {"reference": "float32"}}
    with pytest.raises(ConfigError, match="no field 'reference'"):
        parse_config(data)
