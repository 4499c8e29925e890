"""Shared argument checks."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from medaug.core import Image
from medaug.transforms import (
    RandomAffine,
    RandomElasticDeformation,
    RandomLabelCrop,
    check_probability,
    check_range,
    check_vector,
)
from medaug.transforms.validation import axis_count_error


def test_reversed_range_raises():
    with pytest.raises(ValueError, match=r"`rotation_range_deg` must be \(low, high\) with low <= high, got \(15, -15\)"):
        check_range((15, -15), "rotation_range_deg")


def test_range_bounds_and_types():
    with pytest.raises(ValueError, match="must lie within"):
        check_range((-0.1, 1.0), "scale_range", minimum=0.0)
    with pytest.raises(TypeError, match="must be a number or a"):
        check_range("wide", "rotation_range_deg")
    with pytest.raises(ValueError, match="given as one number must be >= 0"):
        check_range(-3, "translation_range_mm", symmetric=True)


@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
def test_range_is_ordered(a, b):
    low, high = check_range((min(a, b), max(a, b)), "r")
    assert low <= high


@pytest.mark.parametrize("p", [-0.1, 1.01, float("nan")])
def test_probability_outside_unit_interval(p):
    with pytest.raises(ValueError, match="`p` must"):
        check_probability(p)


def test_vector_length():
    with pytest.raises(ValueError, match="`spacing_mm` must have 3 values, got 2"):
        check_vector((1.0, 2.0), "spacing_mm", 3)


def test_axis_count_error_flags_misread_volume():
    volume_as_channels = Image(np.zeros((40, 48, 40), np.float32))
    error = axis_count_error("shape", "1 or 2 values", 3, volume_as_channels)
    message = str(error)
    assert message.startswith("`shape` must have 1 or 2 values for a 2-D image, got 3. ")
    assert "The image is 2-D with 40 channels, shape (40, 48, 40)" in message
    assert "add a channel axis with `array[None]`" in message
    assert "`spatial_dims=3`" in message


@pytest.mark.parametrize(
    ("shape", "got"),
    [((1, 48, 40), 3), ((40, 48, 40), 1), ((1, 8, 8, 8), 2)],  # one channel; 1 value; a 3-D image
)
def test_axis_count_error_plain_otherwise(shape, got):
    message = str(axis_count_error("scale", "2 values", got, Image(np.zeros(shape, np.float32))))
    assert message == f"`scale` must have 2 values for a {len(shape) - 1}-D image, got {got}."


def test_crop_on_misread_volume_explains_layout():
    volume = np.zeros((40, 48, 40), np.float32)
    crop = RandomLabelCrop((16, 16, 16))
    with pytest.warns(UserWarning, match="read as a 2-D (image|label map) with 40 channels"):
        with pytest.raises(ValueError, match=r"2-D with 40 channels, shape \(40, 48, 40\): a plain array"):
            crop({"image": volume, "label": volume.astype(np.uint8)}, rng=0)


@pytest.mark.parametrize(
    "transform",
    [RandomAffine(rotation_range_deg=[(-5, 5)] * 3), RandomElasticDeformation(control_spacing_mm=(8.0, 8.0, 8.0), displacement_std_mm=1.0)],
)
def test_per_axis_misread_volume_message(transform):
    volume = np.zeros((20, 24, 20), np.float32)
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="The image is 2-D with 20 channels"):
        transform(volume, rng=0)


def test_spatial_dims_reads_volume():
    volume = np.random.default_rng(0).random((20, 24, 20)).astype(np.float32)
    labels = (volume > 0.5).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # spatial_dims=3 removes the layout warning
        out = RandomLabelCrop((16, 16, 16))({"image": volume, "label": labels}, rng=0, spatial_dims=3)
    assert out["image"].shape == (16, 16, 16)
    assert out["label"].shape == (16, 16, 16)
    assert out["label"].dtype == np.uint8
