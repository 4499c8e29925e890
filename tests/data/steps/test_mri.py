import numpy as np
import pytest
import torch

from medaug.data.config import parse_config
from medaug.data.errors import ConfigError
from medaug.data.pipeline import Pipeline
from medaug.data.registry import SpecError


def config(**mri):
    step = {"type": "mri", "coils": 4, **mri}
    return {"seed": 1, "source": {"type": "shapes", "shape": [32, 24]}, "simulation": [step]}


def run(**mri):
    return Pipeline.from_config(parse_config(config(**mri))).trace(0)


def test_shapes_and_dtypes():
    sample = run()["simulation"]
    assert sample["kspace"].data.shape == (4, 32, 24)
    assert sample["kspace"].data.dtype == torch.complex64
    assert sample["reconstruction"].data.shape == (1, 32, 24)
    assert sample["kspace"].mask.shape == (32, 24)


def test_full_sampling_reference_is_magnitude():
    # Coil maps normalised to a root sum of squares of 1 make the RSS of the
    # coil images equal |x|; float32 FFT rounding stays below 1e-5 of the maximum.
    stages = run(mask=None)
    image = stages["source"]["image"].data[0]
    reference = stages["simulation"]["reconstruction"].data[0]
    torch.testing.assert_close(reference, image.abs(), atol=1e-5 * float(image.abs().max()), rtol=0)


def test_mask_zeroes_unsampled_kspace():
    sample = run(mask={"type": "poisson_disc", "acceleration": 4})["simulation"]
    mask = sample["kspace"].mask
    assert bool((sample["kspace"].data[:, ~mask] == 0).all())
    # Poisson-disc masks hold round(H W / R) points within the 5 % tolerance.
    assert mask.numel() / mask.sum() == pytest.approx(4.0, rel=0.05)


def test_noise_sigma_matches_snr():
    sample = run(mask=None, noise={"snr": 20})["output"]
    record = sample.history[-1].parameters
    image = run(mask=None)["source"]["image"].data[0].abs()
    support = image >= 0.1 * image.max()
    assert record["sigma"] == pytest.approx(float(image[support].mean()) / 20, rel=1e-6)


def test_noise_statistics():
    # Zero image: k-space holds only noise, whose real part has standard deviation sigma.
    # 4 coils x 768 samples give a relative standard error of about 1.3 %; 5 % is ~4 SE.
    pipeline = Pipeline.from_config(parse_config({
        "seed": 2, "source": {"type": "shapes", "shape": [32, 24], "num_shapes": 1},
        "simulation": [{"type": "mri", "coils": 4, "mask": None, "noise": {"sigma": 0.3}}]}))
    sample = pipeline(0)
    noise = sample["kspace"].data - Pipeline.from_config(parse_config({
        "seed": 2, "source": {"type": "shapes", "shape": [32, 24], "num_shapes": 1},
        "simulation": [{"type": "mri", "coils": 4, "mask": None}]}))(0)["kspace"].data
    assert float(noise.real.std()) == pytest.approx(0.3, rel=0.05)


def test_3d_image_is_acquired_per_slice():
    data = config(mask={"type": "random_lines", "acceleration": 2, "center_fraction": 0.25})
    data["source"]["shape"] = [4, 16, 12]
    sample = Pipeline.from_config(parse_config(data))(0)
    assert sample["kspace"].data.shape == (4, 4, 16, 12)
    assert sample["reconstruction"].data.shape == (1, 4, 16, 12)


def test_factors_override_options():
    step = parse_config(config()).simulation[0]
    pipeline = Pipeline.from_config(parse_config(config()))
    sample = pipeline.trace(0)["source"].replace(metadata={"factors": {"coil_channels": 2, "acceleration": 2.0}})
    out = step.simulate(sample, np.random.default_rng(0))
    assert out["kspace"].data.shape[0] == 2
    assert out.history[-1].parameters["requested_acceleration"] == 2.0


def test_same_seed_same_kspace():
    a = run(noise={"snr": 10})["output"]["kspace"].data
    b = run(noise={"snr": 10})["output"]["kspace"].data
    assert torch.equal(a, b)


def test_bad_options_name_keys():
    with pytest.raises(ConfigError, match=r"`simulation\[0\].mask.acceleration`: .*greater than 1"):
        parse_config(config(mask={"acceleration": 0.5}))
    with pytest.raises(ConfigError, match=r"`simulation\[0\].noise`: .*exactly one of `snr` or `sigma`"):
        parse_config(config(noise={}))
    with pytest.raises(ConfigError, match=r"`simulation\[0\].image_field`: needs an Image field 'photo'"):
        parse_config(config(image_field="photo"))


def test_calibration_box_rejected_at_load():
    # A 32 x 24 plane at R = 20 keeps round(768 / 20) = 38 points, fewer than the
    # round(0.5 * 32) x round(0.5 * 24) = 16 x 12 calibration box.
    data = config(mask={"type": "poisson_disc", "acceleration": 20, "center_fraction": 0.5})
    with pytest.raises(ConfigError, match=r"`simulation\[0\].mask.acceleration`: `mask.acceleration` 20 with "
                                          r"`mask.center_fraction` 0.5 cannot be sampled on the 32 x 24 plane"
                                          r".*calibration box.*lower `mask.acceleration` or `mask.center_fraction`"):
        parse_config(data)


def test_unreachable_acceleration_rejected_at_load():
    # 24 phase-encoding lines reach R = 24 / n only: 400 is beyond every line count.
    data = config(mask={"type": "random_lines", "acceleration": 400, "center_fraction": 0.0})
    with pytest.raises(ConfigError, match=r"`simulation\[0\].mask.acceleration`: .* 400 .*24 phase-encoding lines"):
        parse_config(data)


def test_sampled_acceleration_checked_at_load():
    data = config(mask={"type": "poisson_disc", "acceleration": 4})
    data["sampling"] = {"factors": {"acceleration": {"choices": [2, 400]}}}
    with pytest.raises(ConfigError, match=r"`sampling.factors.acceleration.choices\[1\]`: the sampled `acceleration` "
                                          r"400 .*\(step `simulation\[0\]`\)"):
        parse_config(data)
    data["sampling"] = {"factors": {"acceleration": {"range": [1, 3], "integer": True}}}
    with pytest.raises(ConfigError, match=r"`sampling.factors.acceleration.range`: .*must be > 1 .*got 1"):
        parse_config(data)
    data["sampling"] = {"factors": {"acceleration": {"range": [1, 3]}}}
    assert parse_config(data).sampling is not None


def test_runtime_mask_error_names_sampled_factor():
    step = parse_config(config()).simulation[0]
    source = Pipeline.from_config(parse_config(config())).trace(0)["source"]
    sample = source.replace(metadata={"factors": {"acceleration": 400.0}})
    with pytest.raises(SpecError, match=r"the sampled `acceleration` 400 with `mask.center_fraction` 0.08"):
        step.simulate(sample, np.random.default_rng(0))


def test_reference_none_drops_reconstruction_only():
    noise = {"snr": 20}
    with_reference = run(noise=noise, replace_image=True)["simulation"]
    without = run(noise=noise, replace_image=True, reference="none")["simulation"]
    assert "reconstruction" in with_reference
    assert "reconstruction" not in without
    # The clean reference draws nothing, so leaving it out changes no other field.
    assert torch.equal(with_reference["kspace"].data, without["kspace"].data)
    assert torch.equal(with_reference["image"].data, without["image"].data)


def test_reference_none_rejected_as_output():
    data = config(reference="none")
    data["outputs"] = {"reconstruction": "float32"}
    with pytest.raises(ConfigError, match="reconstruction"):
        parse_config(data)
