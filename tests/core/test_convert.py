"""Conversion at the edges: numpy, torch, SimpleITK and dicts in, the same out."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import SimpleITK as sitk
import torch

from medaug.core import Geometry, Image, LabelMap, to_sample
from medaug.core.convert import MAX_UNFLAGGED_CHANNELS, field_from_sitk, field_to_sitk


@pytest.mark.parametrize(
    ("shape", "spatial_dims", "expected_field_shape"),
    [
        ((4, 5), None, (1, 4, 5)),
        ((2, 4, 5), None, (2, 4, 5)),
        ((3, 4, 5), 3, (1, 3, 4, 5)),
        ((2, 3, 4, 5), None, (2, 3, 4, 5)),
        ((2, 3, 4, 5), 2, (2, 3, 4, 5)),
        ((2, 1, 3, 4, 5), None, (2, 1, 3, 4, 5)),
    ],
)
def test_numpy_layouts_round_trip(shape, spatial_dims, expected_field_shape):
    array = np.random.default_rng(0).random(shape).astype(np.float32)
    sample, restore = to_sample(array, spatial_dims=spatial_dims)
    assert tuple(sample["image"].data.shape) == expected_field_shape
    back = restore(sample)
    assert isinstance(back, np.ndarray)
    np.testing.assert_array_equal(back, array)


def test_one_dimensional_input_rejected():
    with pytest.raises(ValueError, match="`input` with 1 axes cannot be read"):
        to_sample(np.zeros(7))


def test_torch_in_torch_out():
    tensor = torch.rand(1, 4, 4)
    sample, restore = to_sample(tensor)
    assert restore(sample) is sample["image"].data


def test_sitk_round_trip_keeps_geometry():
    image = sitk.GetImageFromArray(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    image.SetSpacing((0.5, 0.7, 3.0))
    image.SetOrigin((1.0, 2.0, 3.0))
    image.SetDirection((0, 1, 0, 1, 0, 0, 0, 0, -1))
    field = field_from_sitk(image)
    assert field.geometry.spacing == (3.0, 0.7, 0.5)
    back = field_to_sitk(field)
    assert back.GetSpacing() == image.GetSpacing()
    assert back.GetOrigin() == image.GetOrigin()
    assert back.GetDirection() == image.GetDirection()
    np.testing.assert_array_equal(sitk.GetArrayFromImage(back), sitk.GetArrayFromImage(image))


def test_sitk_vector_pixels_become_channels():
    image = sitk.GetImageFromArray(np.zeros((4, 5, 3), np.float32), isVector=True)
    field = field_from_sitk(image)
    assert tuple(field.data.shape) == (3, 4, 5)
    assert field_to_sitk(field).GetNumberOfComponentsPerPixel() == 3


def test_dict_input_reads_integer_labels():
    data = {"image": np.zeros((1, 4, 4), np.float32), "label": np.zeros((1, 4, 4), np.int64), "id": "case-7"}
    sample, restore = to_sample(data)
    assert isinstance(sample["label"], LabelMap)
    assert isinstance(sample["image"], Image)
    back = restore(sample)
    assert back["id"] == "case-7"
    assert back["label"].dtype == np.int64


def test_dict_float_label_rejected():
    with pytest.raises(TypeError, match=r"input\['label'\] is read as a label map but has float dtype"):
        to_sample({"label": np.zeros((1, 4, 4), np.float32)})


def test_unknown_input_type_rejected():
    with pytest.raises(TypeError, match="input must be a Sample, numpy array"):
        to_sample([1, 2, 3])


def test_geometry_passed_to_field():
    from medaug.core import array_to_field

    field, added = array_to_field(np.zeros((3, 4)), geometry=Geometry(spacing=(2.0, 3.0)))
    assert added
    assert field.geometry.spacing == (2.0, 3.0)


def test_many_channels_warn_volume_layout():
    volume = np.zeros((MAX_UNFLAGGED_CHANNELS + 1, 6, 5), np.float32)
    with pytest.warns(UserWarning, match=r"`input` shaped \(17, 6, 5\) is read as a 2-D image with 17 channels") as caught:
        sample, _ = to_sample(volume)
    assert tuple(sample["image"].data.shape) == (17, 6, 5)
    assert "pass `array[None]` or `spatial_dims=3`" in str(caught[0].message)
    assert caught[0].filename == __file__  # points at the caller, not at medaug


def test_label_key_warning_names_label_map():
    with pytest.warns(UserWarning, match=r"`input\['label'\]` shaped \(20, 4, 4\) is read as a 2-D label map"):
        to_sample({"label": np.zeros((20, 4, 4), np.uint8)})


@pytest.mark.parametrize(
    ("shape", "spatial_dims"),
    [((MAX_UNFLAGGED_CHANNELS, 6, 5), None), ((40, 6, 5), 2), ((40, 6, 5), 3), ((1, 40, 6, 5), None)],
)
def test_no_layout_warning(shape, spatial_dims):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_sample(np.zeros(shape, np.float32), spatial_dims=spatial_dims)
