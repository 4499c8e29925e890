"""Typed fields and Sample: validation, shapes, dtypes."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given, settings

from medaug.core import Boxes, Geometry, Image, KSpace, LabelMap, Points, Sample, Sinogram


def test_image_keeps_integer_dtype():
    image = Image(np.zeros((1, 4, 4), np.int16))
    assert image.data.dtype == torch.int16
    assert image.spatial_ndim == 2
    assert image.spatial_shape == (4, 4)


def test_big_endian_array_accepted():
    values = np.arange(8, dtype=">i2").reshape(1, 2, 4)
    image = Image(values)
    np.testing.assert_array_equal(image.numpy(), values.astype(np.int16))


def test_uint16_widened_not_wrapped():
    image = Image(np.array([[[0, 65535]]], np.uint16))
    assert image.data.dtype == torch.int32
    assert int(image.data.max()) == 65535


def test_one_dimensional_array_rejected():
    with pytest.raises(ValueError, match=r"must be shaped \(C, \*spatial\).*got shape \(5,\)"):
        Image(np.zeros(5, np.float32))


def test_label_map_of_floats_rejected():
    with pytest.raises(TypeError, match="`LabelMap.data` must have an integer dtype, got torch.float32"):
        LabelMap(np.zeros((1, 3, 3), np.float32))


def test_bool_label_map_becomes_uint8():
    labels = LabelMap(np.ones((1, 2, 2), bool))
    assert labels.data.dtype == torch.uint8
    assert labels.labels == [1]


def test_complex_image_rejected():
    with pytest.raises(TypeError, match="use KSpace for complex data"):
        Image(np.zeros((1, 2, 2), np.complex64))


def test_kspace_requires_complex():
    with pytest.raises(TypeError, match="`KSpace.data` must be complex"):
        KSpace(np.zeros((2, 4, 4), np.float32))


def test_kspace_mask_must_broadcast():
    with pytest.raises(ValueError, match=r"mask` shape \(3,\) does not broadcast"):
        KSpace(np.zeros((2, 4, 4), np.complex64), mask=np.ones(3, bool))


def test_geometry_dimension_mismatch_rejected():
    with pytest.raises(ValueError, match="with 3 spatial axes to match its geometry"):
        Image(np.zeros((1, 4, 4), np.float32), geometry=Geometry(spacing=(1.0, 1.0, 1.0)))


def test_points_from_indices_round_trip():
    geometry = Geometry(spacing=(2.0, 0.5, 1.0), origin=(10.0, 0.0, -5.0))
    indices = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    points = Points.from_indices(indices, geometry)
    np.testing.assert_allclose(points.numpy()[1], geometry.origin)
    np.testing.assert_allclose(points.to_indices(geometry), indices)


def test_points_reject_non_finite():
    with pytest.raises(ValueError, match="`Points.data` must be finite"):
        Points(np.array([[0.0, np.nan, 1.0]]))


def test_boxes_reject_inverted_corners():
    with pytest.raises(ValueError, match="max corner >= min corner"):
        Boxes(np.array([[0.0, 0.0, 1.0, -1.0]]), ndim=2)


def test_box_corners_enclose():
    boxes = Boxes(np.array([[0.0, 1.0, 2.0, 3.0]]), ndim=2)
    corners = boxes.corners()
    assert corners.shape == (1, 4, 2)
    rebuilt = Boxes.from_corners(corners, ndim=2)
    np.testing.assert_array_equal(rebuilt.numpy(), boxes.numpy())


def test_sinogram_requires_angles():
    with pytest.raises(ValueError, match="`Sinogram.angles_deg` is required"):
        Sinogram(np.zeros((1, 3, 5), np.float32))
    sinogram = Sinogram(np.zeros((1, 3, 5), np.float32), angles_deg=[0.0, 60.0, 120.0])
    assert sinogram.angles_deg.shape == (3,)


def test_sample_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="must share their spatial shape"):
        Sample({"image": Image(np.zeros((1, 4, 4), np.float32)), "label": LabelMap(np.zeros((1, 4, 5), np.uint8))})


def test_sample_rejects_mixed_dimensions():
    with pytest.raises(ValueError, match="differ in spatial axes"):
        Sample({"a": Image(np.zeros((1, 4, 4), np.float32)), "b": Image(np.zeros((1, 4, 4, 4), np.float32))})


def test_sample_rejects_plain_arrays():
    with pytest.raises(TypeError, match="must be a medaug Field"):
        Sample({"image": np.zeros((1, 4, 4))})


def test_sample_rejects_empty():
    with pytest.raises(ValueError, match="at least one field"):
        Sample({})


def test_sample_missing_field_lists_names():
    sample = Sample({"image": Image(np.zeros((1, 2, 2), np.float32))})
    with pytest.raises(KeyError, match=r"no field 'label'; fields are \['image'\]"):
        sample["label"]


def test_sample_replace_appends_history():
    from medaug.core import TransformRecord

    sample = Sample({"image": Image(np.zeros((1, 2, 2), np.float32))})
    record = TransformRecord("Flip", {"axes": [0]})
    changed = sample.replace(record=record)
    assert changed.history == (record,)
    assert sample.history == ()
    assert changed.history_dicts() == [{"name": "Flip", "parameters": {"axes": [0]}}]


@settings(max_examples=60, deadline=None)
@given(
    dtype=st.sampled_from([np.uint8, np.bool_, np.int16, np.int32, np.int64]),
    values=hnp.arrays(np.int64, hnp.array_shapes(min_dims=3, max_dims=4, min_side=1, max_side=6),
                      elements=st.integers(-5, 255)),
)
def test_present_labels_equal_sorted_distinct_values(dtype, values):
    from medaug.core.fields import present_labels

    if dtype is np.uint8:
        values = np.abs(values) % 256
    elif dtype is np.bool_:
        values = values > 100
    array = values.astype(dtype)
    expected = sorted(int(v) for v in np.unique(array))
    assert present_labels(torch.from_numpy(array)) == expected
