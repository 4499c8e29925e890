import numpy as np
import pytest
import torch

from medaug.core.fields import Image, KSpace
from medaug.core.sample import Sample
from medaug.physics.mri.artifacts import polynomial_bias_field
from medaug.physics.mri.field_transforms import KSpaceOffResonance, RandomKSpaceOffResonance
from medaug.transforms import BiasField, RandomBiasField, base
from medaug.transforms.functional.intensity import bias_field_terms as transform_terms


def _blob(shape=(8, 64), centre=40.0, width=3.0):
    columns = torch.arange(shape[-1], dtype=torch.float64)
    profile = torch.exp(-0.5 * ((columns - centre) / width) ** 2)
    return profile.expand(shape).clone()


def _centroid(image):
    columns = torch.arange(image.shape[-1], dtype=torch.float64)
    return float((image * columns).sum() / image.sum())


def test_linear_field_moves_blob_by_closed_form():
    n, dwell_ms, slope_hz, centre = 64, 0.1, 1000.0, 40.0
    # Term (0, 1) is degree 1 along the readout: df(j) = slope (2 j / (n - 1) - 1).
    transform = KSpaceOffResonance([slope_hz, 0.0], order=1, dwell_time_ms=dwell_ms, num_segments=n)
    out = transform(_blob(centre=centre))
    frequency = slope_hz * (2 * centre / (n - 1) - 1)
    expected = centre + frequency * n * dwell_ms * 1e-3
    # The map is linear, so the blob's centre moves by its own shift (1.7 px);
    # 0.05 px covers the discrete centroid of the magnitude image.
    assert _centroid(out) == pytest.approx(expected, abs=0.05)
    assert abs(expected - centre) > 1.5


def test_field_across_rows_shifts_each_row():
    n, dwell_ms, slope_hz = 64, 0.1, 1000.0
    transform = KSpaceOffResonance([0.0, slope_hz], order=1, dwell_time_ms=dwell_ms, num_segments=n)
    out = transform(_blob())
    # Term (1, 0) is constant along each row: row i moves by
    # slope (2 i / 7 - 1) n dwell pixels, from -6.4 px to +6.4 px.
    for row in (0, 3, 7):
        frequency = slope_hz * (2 * row / 7 - 1)
        expected = 40.0 + frequency * n * dwell_ms * 1e-3
        # A constant shift per row is exact with one segment per sample.
        assert _centroid(out[row]) == pytest.approx(expected, abs=0.02)


def test_random_equals_deterministic_twin_and_replays():
    transform = RandomKSpaceOffResonance(coefficient_range_hz=200.0, order=2)
    sample = Sample({"image": Image(_blob().float()[None])})
    out = transform.transform(sample, rng=np.random.default_rng(4))
    parameters = transform.sample_parameters(np.random.default_rng(4), sample)
    twin = transform.deterministic(parameters).transform(sample)
    assert torch.equal(out["image"].data, twin["image"].data)
    assert len(parameters.coefficients_hz) == 5
    record = out.history[-1]
    rebuilt = base.get_transform_class(record.name).from_config(record.parameters)
    assert torch.equal(rebuilt.transform(sample)["image"].data, out["image"].data)


def test_off_resonance_plain_array_shape_and_dtype():
    image = _blob().numpy().astype(np.float32)
    out = RandomKSpaceOffResonance()(image, rng=np.random.default_rng(0))
    assert isinstance(out, np.ndarray)
    assert out.shape == image.shape
    assert out.dtype == np.float32
    assert not np.array_equal(out, image)


def test_off_resonance_identity_and_kspace_untouched():
    sample = Sample({"image": Image(_blob().float()[None])})
    assert KSpaceOffResonance([0.0] * 5).transform(sample)["image"] is sample["image"]
    kspace = Sample({"kspace": KSpace(torch.ones(2, 8, 8, dtype=torch.complex64))})
    # The effect needs the object, so k-space fields pass through.
    assert KSpaceOffResonance([100.0] * 5).transform(kspace)["kspace"] is kspace["kspace"]


def test_off_resonance_rejects_bad_input():
    with pytest.raises(ValueError, match="`dwell_time_ms` must be > 0 ms, got 0.0"):
        KSpaceOffResonance([1.0, 0.0], order=1, dwell_time_ms=0.0)
    with pytest.raises(ValueError, match="`order` must be an int >= 1, got 0"):
        RandomKSpaceOffResonance(order=0)
    with pytest.raises(ValueError, match="`readout_axis` must be -1, -2 or -3"):
        KSpaceOffResonance([1.0, 0.0], order=1, readout_axis=0)
    with pytest.raises(ValueError, match="`coefficients_hz` must be finite"):
        KSpaceOffResonance([float("nan"), 0.0], order=1)
    with pytest.raises(ValueError, match="`coefficients` must have 2 values for order 1 in 2-D"):
        KSpaceOffResonance([1.0, 0.0, 0.0], order=1)(_blob())


def test_random_bias_field_is_the_physics_bias_field():
    # The receive bias field has one random transform, medaug.transforms.RandomBiasField;
    # its field equals polynomial_bias_field with the same coefficients.
    shape = (6, 7)
    physics_terms = [(0, 1), (1, 0), (0, 2), (1, 1), (2, 0)]
    values = dict(zip(physics_terms, [0.1, -0.2, 0.05, 0.3, -0.1]))
    coefficients = [values.get(term, 0.0) for term in transform_terms(2, 2)]
    image = torch.ones(1, *shape, dtype=torch.float64)
    transformed = BiasField(coefficients, order=2)(image)
    expected = polynomial_bias_field(shape, torch.tensor(list(values.values())), order=2, dtype=torch.float64)
    # Both evaluate Legendre polynomials in float64 (numpy and scipy).
    assert torch.allclose(transformed[0], expected, atol=1e-12)
    assert isinstance(RandomBiasField(), base.RandomTransform)
