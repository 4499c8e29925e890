"""Crops and pads: geometry, inverse, foreground-centred crops near borders."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from medaug.core import Geometry, Image, LabelMap, Sample
from medaug.transforms import (
    CenterCropOrPad,
    Compose,
    CropOrPad,
    RandomAffine,
    RandomCrop,
    RandomLabelCrop,
    invert,
    replay,
)
from tests.transforms.helpers import blob_sample


def test_crop_keeps_voxel_positions():
    sample = blob_sample(shape=(10, 12, 14), spacing=(2.0, 1.0, 0.5))
    out = CropOrPad(before=(-2, -3, 1), after=(-1, 0, 2)).transform(sample)
    assert out["image"].spatial_shape == (7, 9, 17)
    before = sample["image"].geometry.index_to_physical([[2, 3, 0]])
    after = out["image"].geometry.index_to_physical([[0, 0, 1]])
    np.testing.assert_allclose(after, before, atol=1e-12)
    assert torch.equal(out["image"].data[:, :, :, 1:-2], sample["image"].data[:, 2:-1, 3:, :])


def test_crop_inverse_pads_back():
    sample = blob_sample(shape=(10, 12, 14))
    out = CenterCropOrPad((6, 20, 8)).transform(sample)
    back = invert(out)
    assert back["image"].spatial_shape == (10, 12, 14)
    inner = (slice(None), slice(2, 8), slice(None), slice(3, 11))
    assert torch.equal(back["image"].data[inner], sample["image"].data[inner])
    assert int(back["label"].data[:, :2].max()) == 0


def test_pad_uses_image_padding_and_background_labels():
    sample = blob_sample(shape=(4, 4, 4))
    labelled = Sample({**sample, "label": LabelMap(torch.ones((1, 4, 4, 4), dtype=torch.uint8))})
    out = CropOrPad(before=1, after=1, padding=-5.0).transform(labelled)
    assert float(out["image"].data[0, 0].max()) == -5.0
    assert int(out["label"].data[0, 0].max()) == 0
    assert int(out["label"].data[0, 1:-1, 1:-1, 1:-1].min()) == 1


def test_crop_to_nothing_raises():
    with pytest.raises(ValueError, match="leaves no voxels"):
        CropOrPad(before=-3, after=-3).transform(blob_sample(shape=(6, 6, 6)))


def test_random_crop_is_recorded_and_replayed(rng):
    sample = blob_sample()
    out = RandomCrop((5, 6, 7)).transform(sample, rng=rng)
    assert out["image"].spatial_shape == (5, 6, 7)
    assert out.history[0].name == "CropOrPad"
    assert torch.equal(replay(sample, out.history)["image"].data, out["image"].data)


def test_random_crop_pads_short_axes(rng):
    out = RandomCrop((20, 6, 6)).transform(blob_sample(shape=(8, 8, 8)), rng=rng)
    assert out["image"].spatial_shape == (20, 6, 6)


@settings(max_examples=40, deadline=None)
@given(
    position=st.tuples(st.integers(0, 15), st.integers(0, 19)),
    crop=st.tuples(st.integers(1, 16), st.integers(1, 20)),
    seed=st.integers(0, 2**32 - 1),
)
def test_label_crop_contains_foreground(position, crop, seed):
    label = np.zeros((1, 16, 20), np.uint8)
    label[(0, *position)] = 4
    sample = Sample({"image": Image(label.astype(np.float32)), "label": LabelMap(label)})
    out = RandomLabelCrop(crop, foreground_probability=1.0).transform(sample, rng=np.random.default_rng(seed))
    assert out["label"].spatial_shape == crop
    assert int(out["label"].data.max()) == 4


def test_label_crop_without_foreground_is_uniform(rng):
    sample = Sample({"label": LabelMap(np.zeros((1, 10, 10), np.uint8))})
    out = RandomLabelCrop(4, foreground_probability=1.0).transform(sample, rng=rng)
    assert out["label"].spatial_shape == (4, 4)


def test_label_crop_selects_classes(rng):
    label = np.zeros((1, 30, 30), np.uint8)
    label[0, 2, 2] = 1
    label[0, 27, 27] = 2
    sample = Sample({"label": LabelMap(label)})
    crop = RandomLabelCrop(5, foreground_probability=1.0, labels=[2])
    for _ in range(5):
        out = crop.transform(sample, rng=rng)
        assert out["label"].labels == [0, 2]


def test_label_crop_needs_label_map(rng):
    with pytest.raises(ValueError, match="needs a LabelMap field"):
        RandomLabelCrop(4, foreground_probability=1.0).transform(
            Sample({"image": Image(np.zeros((1, 8, 8), np.float32))}), rng=rng
        )


def test_label_crop_after_affine_sees_transformed_labels(rng):
    sample = blob_sample(shape=(24, 24, 24))
    pipeline = Compose([RandomAffine(20), RandomLabelCrop(6, foreground_probability=1.0)])
    for _ in range(3):
        out = pipeline.transform(sample, rng=rng)
        assert int(out["label"].data.max()) > 0


def test_crop_bad_shape():
    with pytest.raises(ValueError, match="`shape` must be >= 1 voxel"):
        RandomCrop((0, 4))
    with pytest.raises(TypeError, match="must contain ints"):
        CropOrPad(before=(1.5, 2))


def test_center_crop_geometry_anisotropic():
    geometry = Geometry(spacing=(3.0, 1.0))
    sample = Sample({"image": Image(np.zeros((1, 10, 10), np.float32), geometry=geometry)})
    out = CenterCropOrPad((4, 4)).transform(sample)
    # Centre of an even crop from an even grid stays put.
    np.testing.assert_allclose(
        out["image"].geometry.center((4, 4)), geometry.center((10, 10)), atol=1e-12
    )


@pytest.mark.parametrize(
    "transform",
    [
        CropOrPad(0, 0),
        CenterCropOrPad((12, 14, 16)),
        RandomCrop((12, 14, 16)),
        RandomLabelCrop((12, 14, 16), foreground_probability=1.0),
    ],
    ids=lambda t: type(t).__name__,
)
def test_full_size_crop_is_identity(transform, rng):
    sample = blob_sample(shape=(12, 14, 16))
    out = transform.transform(sample, rng=rng)
    assert torch.equal(out["image"].data, sample["image"].data)
    assert torch.equal(out["label"].data, sample["label"].data)
    assert out["image"].geometry == sample["image"].geometry
