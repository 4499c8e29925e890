"""Gamma, brightness and contrast, bias field and intensity curves."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from medaug.core import Image, Sample
from medaug.transforms import (
    BiasField,
    BrightnessContrast,
    Gamma,
    IntensityCurve,
    RandomBiasField,
    RandomBrightnessContrast,
    RandomGamma,
    RandomHistogramShift,
    RandomIntensityCurve,
)
from medaug.transforms.functional.intensity import adjust_gamma, bias_field_terms
from tests.transforms.helpers import blob_sample


def test_gamma_closed_form_on_negative_values():
    hu = np.array([[-1000.0, -500.0, 0.0, 1000.0]], np.float32)
    out = Gamma(2.0)(hu)
    # Normalised 0, 0.25, 0.5, 1 squared, mapped back onto [-1000, 1000].
    np.testing.assert_allclose(out, [[-1000.0, -875.0, -500.0, 1000.0]], rtol=1e-6)
    assert np.isfinite(out).all()


@settings(max_examples=50, deadline=None)
@given(
    values=arrays(np.float64, (1, 17), elements=st.floats(-1e4, 1e4)),
    gamma=st.floats(0.2, 5.0),
)
def test_gamma_keeps_range_and_order(values, gamma):
    data = torch.as_tensor(values)
    out = adjust_gamma(data, gamma)
    assert bool(torch.isfinite(out).all())
    assert float(out.min()) >= float(data.min()) - 1e-9
    assert float(out.max()) <= float(data.max()) + 1e-9
    order = torch.argsort(data[0])
    assert bool((torch.diff(out[0, order]) >= -1e-9).all())


def test_gamma_constant_image_unchanged():
    out = Gamma(3.0)(np.full((4, 4), -7.0, np.float32))
    np.testing.assert_array_equal(out, -7.0)


def test_brightness_contrast_closed_form():
    data = np.array([[0.0, 2.0, 4.0]], np.float32)  # mean 2, std sqrt(8/3)
    out = BrightnessContrast(brightness=0.5, contrast=2.0)(data)
    std = np.sqrt(8.0 / 3.0)
    np.testing.assert_allclose(out, [[-2.0 + 0.5 * std, 2.0 + 0.5 * std, 6.0 + 0.5 * std]], rtol=1e-6)


def test_bias_field_constant_term_scales():
    count = len(bias_field_terms(2, 2))
    coefficients = [np.log(2.0)] + [0.0] * (count - 1)
    out = BiasField(coefficients, order=2)(np.ones((1, 5, 6), np.float32))
    np.testing.assert_allclose(out, 2.0, rtol=1e-6)


def test_bias_field_linear_term():
    count = len(bias_field_terms(2, 1))
    assert count == 3
    # Terms: constant, P1 along axis 1, P1 along axis 0; exp(0.5 x) across the last axis.
    out = BiasField([0.0, 0.5, 0.0], order=1)(np.ones((1, 3, 5), np.float32))
    np.testing.assert_allclose(out[0, 1], np.exp(0.5 * np.linspace(-1, 1, 5)), rtol=1e-6)


def test_bias_field_wrong_coefficient_count():
    with pytest.raises(ValueError, match="`coefficients` must have 6 values for order 2"):
        BiasField([0.0], order=2)(np.ones((4, 4), np.float32))


def test_random_bias_field_within_bound(rng):
    out = RandomBiasField(0.2, order=2)(np.ones((1, 16, 16, 16), np.float32), rng=rng)
    # Legendre polynomials are bounded by 1 on [-1, 1], so the log field is
    # bounded by the sum of the 9 non-constant coefficients (each <= 0.2).
    bound = np.exp(9 * 0.2)
    assert 1.0 / bound <= float(out.min())
    assert float(out.max()) <= bound
    assert float(out.max()) - float(out.min()) > 0.01


def test_intensity_curve_identity_and_inversion():
    data = np.linspace(-3, 5, 9, dtype=np.float32)[None]
    np.testing.assert_allclose(IntensityCurve()(data), data, rtol=1e-6)
    np.testing.assert_allclose(IntensityCurve((0.0, 1.0), (1.0, 0.0))(data), data[:, ::-1], rtol=1e-6)


def test_intensity_curve_rejects_bad_knots():
    with pytest.raises(ValueError, match="`knots_in` must increase strictly from 0 to 1"):
        IntensityCurve((0.0, 0.6, 0.5, 1.0), (0.0, 0.2, 0.3, 1.0))


@pytest.mark.parametrize("transform", [RandomHistogramShift(6, 0.2), RandomIntensityCurve()])
def test_random_curves_are_monotone(transform, rng):
    data = np.linspace(-1, 1, 200, dtype=np.float32)[None]
    out = transform(data, rng=rng)
    assert np.all(np.diff(out[0]) >= -1e-6)
    np.testing.assert_allclose([out.min(), out.max()], [-1.0, 1.0], atol=1e-5)


@pytest.mark.parametrize(
    "transform",
    [
        Gamma(1.0),
        BrightnessContrast(0.0, 1.0),
        BiasField([0.0] * len(bias_field_terms(3, 3)), 3),
        IntensityCurve(),
        RandomGamma(0.0),
        RandomHistogramShift(5, 0.0),
    ],
    ids=lambda t: type(t).__name__,
)
def test_zero_strength_is_identity(transform):
    sample = blob_sample()
    out = transform.transform(sample, rng=np.random.default_rng(0))
    np.testing.assert_allclose(out["image"].numpy(), sample["image"].numpy(), rtol=1e-5, atol=1e-6)
    assert torch.equal(out["label"].data, sample["label"].data)


@pytest.mark.parametrize(
    "transform",
    [RandomGamma(), RandomBrightnessContrast(), RandomBiasField(), RandomHistogramShift(), RandomIntensityCurve()],
    ids=lambda t: type(t).__name__,
)
def test_twin_reproduces_and_labels_untouched(transform):
    sample = blob_sample()
    parameters = transform.sample_parameters(np.random.default_rng(3), sample)
    twin = transform.deterministic(parameters).transform(sample)
    drawn = transform.transform(sample, rng=np.random.default_rng(3))
    assert torch.equal(twin["image"].data, drawn["image"].data)
    assert torch.equal(drawn["label"].data, sample["label"].data)
    assert drawn["image"].data.dtype == torch.float32


def test_integer_image_is_promoted_not_wrapped():
    data = np.array([[0, 100, 255]], np.uint8)
    out = BrightnessContrast(brightness=0.0, contrast=3.0)(data)
    assert out.dtype == np.float32
    # No clipping to [0, 255] and no wrap-around.
    assert out.min() < 0 and out.max() > 255


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: Gamma(0.0), "`gamma` must be > 0"),
        (lambda: RandomGamma((0.3, -0.3)), r"`log_gamma_range` must be \(low, high\)"),
        (lambda: BrightnessContrast(contrast=-1.0), "`contrast` must be >= 0"),
        (lambda: RandomBrightnessContrast(contrast_range=(-0.5, 1.0)), "`contrast_range` must lie within"),
        (lambda: BiasField([0.0], order=-1), "`order` must be an int >= 0"),
        (lambda: RandomHistogramShift(2), "`num_knots` must be an int >= 3"),
    ],
)
def test_bad_intensity_arguments(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


def test_multichannel_statistics_per_channel():
    data = np.stack([np.linspace(0, 1, 10), np.linspace(-100, 100, 10)]).astype(np.float32)
    out = Gamma(2.0)(data[:, None, :])
    np.testing.assert_allclose(out[0, 0], np.linspace(0, 1, 10) ** 2, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(out[1, 0], -100 + 200 * np.linspace(0, 1, 10) ** 2, rtol=1e-5, atol=1e-4)


def test_intensity_applies_to_every_image_field():
    sample = Sample({
        "t1": Image(np.linspace(0, 1, 8, dtype=np.float32).reshape(1, 2, 4)),
        "t2": Image(np.linspace(0, 2, 8, dtype=np.float32).reshape(1, 2, 4)),
    })
    out = Gamma(2.0).transform(sample)
    assert float(out["t1"].data[0, 0, 1]) == pytest.approx((1 / 7) ** 2, rel=1e-5)
    assert float(out["t2"].data[0, 0, 1]) == pytest.approx(2 * (1 / 7) ** 2, rel=1e-5)
