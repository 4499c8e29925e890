"""Affine, flips and quarter turns: conventions, alignment, anisotropy, labels, bad input."""

import numpy as np
import pytest
import SimpleITK as sitk
import torch

from medaug.core import Boxes, Geometry, Image, LabelMap, Points, Sample
from medaug.transforms import (
    Affine,
    Compose,
    Flip,
    RandomAffine,
    RandomElasticDeformation,
    RandomFlip,
    RandomRot90,
    Rot90,
)
from medaug.transforms.functional.affine import rotation_matrix
from tests.transforms.helpers import blob_sample


def _blob_2d():
    image = np.zeros((9, 9), np.float32)
    image[4, 7] = 1.0  # three voxels towards +x (last array axis) from the centre
    return image


def _peak(array):
    return tuple(int(i) for i in np.unravel_index(np.argmax(array), array.shape))


@pytest.mark.parametrize("entry", ["numpy", "torch", "sitk", "dict", "sample", "compose", "rot90"])
def test_rotation_turns_x_towards_y(entry):
    image = _blob_2d()
    rotate = Affine(rotation_deg=90)
    if entry == "numpy":
        out = rotate(image)
    elif entry == "torch":
        out = rotate(torch.from_numpy(image)).numpy()
    elif entry == "sitk":
        out = sitk.GetArrayFromImage(rotate(sitk.GetImageFromArray(image)))
    elif entry == "dict":
        out = rotate({"image": image})["image"]
    elif entry == "sample":
        out = rotate.transform(Sample({"image": Image(image[None])}))["image"].numpy()[0]
    elif entry == "compose":
        out = Compose([Affine(rotation_deg=45), Affine(rotation_deg=45)])(image)
    else:
        out = Rot90(1)(image)
    # +x turns to +y: the blob moves from (row 4, column 7) to (row 7, column 4).
    assert _peak(out) == (7, 4)


def test_rotation_about_z_in_3d_matches_2d():
    volume = np.zeros((3, 9, 9), np.float32)
    volume[1, 4, 7] = 1.0
    out = Affine(rotation_deg=(0, 0, 90))(volume[None])[0]
    assert _peak(out) == (1, 7, 4)


def test_rotation_matrix_is_right_handed():
    # About x, +90 degrees turns +y into +z; about y it turns +z into +x.
    np.testing.assert_allclose(rotation_matrix([90, 0, 0]) @ [0, 1, 0], [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(rotation_matrix([0, 90, 0]) @ [0, 0, 1], [1, 0, 0], atol=1e-12)


def test_rot90_equals_affine_on_square_grid():
    sample = blob_sample(shape=(8, 10, 10))
    turned = Rot90(1).transform(sample)
    rotated = Affine(rotation_deg=(0, 0, 90)).transform(sample)
    # Both land on voxel centres: linear interpolation is exact up to float32 round-off.
    np.testing.assert_allclose(turned["image"].numpy(), rotated["image"].numpy(), atol=1e-5)
    assert torch.equal(turned["label"].data, rotated["label"].data)


def test_rot90_swaps_anisotropic_axes():
    sample = blob_sample(shape=(6, 8, 12), spacing=(3.0, 2.0, 1.0))
    out = Rot90(1).transform(sample)
    assert out["image"].spatial_shape == (6, 12, 8)
    assert out["image"].geometry.spacing == (3.0, 1.0, 2.0)
    np.testing.assert_allclose(
        out["image"].geometry.center((6, 12, 8)), sample["image"].geometry.center((6, 8, 12)), atol=1e-9
    )


def test_flip_by_anatomical_name():
    image = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    np.testing.assert_array_equal(Flip("left-right")(image), image[:, :, ::-1])
    np.testing.assert_array_equal(Flip("anterior-posterior")(image), image[:, ::-1, :])


def test_flip_rejects_unknown_axis():
    with pytest.raises(ValueError, match="axis must be one of"):
        Flip("sideways")
    with pytest.raises(ValueError, match="does not exist in 2-D"):
        Flip("z")(np.zeros((3, 3), np.float32))


def _centroid(volume):
    weights = np.clip(volume, 0, None)
    grids = np.meshgrid(*[np.arange(n) for n in volume.shape], indexing="ij")
    return np.array([(g * weights).sum() / weights.sum() for g in grids])


@pytest.mark.parametrize("seed", range(3))
def test_point_follows_blob(seed):
    shape = (24, 24, 24)
    index = np.array([9.0, 14.0, 11.0])
    image = np.zeros((1, *shape), np.float32)
    image[(0, *index.astype(int))] = 1.0
    geometry = Geometry(spacing=(1.2, 1.0, 0.9))
    sample = Sample({
        "image": Image(image, geometry=geometry),
        "points": Points.from_indices(index[None], geometry),
    })
    pipeline = Compose([
        RandomAffine(20, (0.9, 1.1), 0.05, 2.0),
        RandomElasticDeformation(12.0, 1.0),
        RandomFlip(("x", "y"), p=0.5),
    ])
    out = pipeline.transform(sample, rng=np.random.default_rng(seed))
    landed = out["points"].to_indices(out["image"].geometry)[0]
    # Linear interpolation spreads the voxel over its neighbours but keeps its
    # centroid near the true position; 0.5 voxel is the alignment requirement.
    np.testing.assert_allclose(landed, _centroid(out["image"].numpy()[0]), atol=0.5)


def test_boxes_enclose_rotated_corners():
    geometry = Geometry(spacing=(1.0, 1.0))
    box = Boxes(np.array([[2.0, 3.0, 4.0, 5.0]]), ndim=2)
    sample = Sample({"image": Image(np.zeros((1, 9, 9), np.float32), geometry=geometry), "boxes": box})
    out = Affine(rotation_deg=90).transform(sample)
    # Rotating about the centre (4, 4): x' = 8 - y and y' = x.
    np.testing.assert_allclose(out["boxes"].numpy(), [[3.0, 2.0, 5.0, 4.0]], atol=1e-9)


def _sphere_moments(volume, spacing):
    mask = volume > 0.5
    coordinates = np.argwhere(mask) * np.asarray(spacing)
    return np.linalg.eigvalsh(np.cov(coordinates.T))


def test_sphere_stays_round_on_anisotropic_voxels():
    spacing = (4.0, 1.0, 1.0)
    shape = (20, 64, 64)
    centre = (np.asarray(shape) - 1) / 2 * np.asarray(spacing)
    grids = np.meshgrid(*[np.arange(n) * s for n, s in zip(shape, spacing)], indexing="ij")
    radius = np.sqrt(sum((g - c) ** 2 for g, c in zip(grids, centre)))
    sphere = (radius < 18.0).astype(np.float32)
    sample = Sample({"image": Image(sphere[None], geometry=Geometry(spacing=spacing))})
    out = RandomAffine(rotation_range_deg=(35, 45)).transform(sample, rng=np.random.default_rng(0))
    eigenvalues = _sphere_moments(out["image"].numpy()[0], spacing)
    # A sphere has equal second moments on every axis; the 4 mm slices
    # quantise its surface, so allow 10 %. A rotation in voxel space would
    # stretch it four-fold along one axis.
    assert eigenvalues.max() / eigenvalues.min() < 1.1


SPATIAL = [
    RandomAffine(30, (0.8, 1.2), 0.1, 3.0),
    RandomAffine(30, label_interpolation="soft"),
    RandomAffine(30, image_interpolation="cubic"),
    RandomElasticDeformation(8.0, 3.0),
    RandomElasticDeformation(8.0, 3.0, diffeomorphic=True),
    RandomFlip(("x", "y", "z")),
    RandomRot90(plane=("y", "z")),
]


@pytest.mark.parametrize("transform", SPATIAL, ids=lambda t: type(t).__name__)
def test_spatial_labels_stay_in_input_set(transform, rng):
    sample = blob_sample()
    out = transform.transform(sample, rng=rng)
    assert set(out["label"].labels) <= set(sample["label"].labels) | {0}
    assert out["label"].data.dtype == torch.uint8


def test_labels_outside_field_of_view_are_background():
    sample = blob_sample(shape=(10, 10, 10))
    full = Sample({**sample, "label": LabelMap(torch.full((1, 10, 10, 10), 2, dtype=torch.uint8))})
    out = Affine(translation_mm=(4.0, 0.0, 0.0), padding="border").transform(full)
    # Content moves 4 mm towards +x, so the first 4 columns come from outside.
    assert int(out["label"].data[0, :, :, :4].max()) == 0
    assert int(out["label"].data[0, :, :, 4:].min()) == 2
    # The image uses border padding, so it is never 0 there.
    assert float(out["image"].data[0, :, :, :4].abs().min()) > 0


def test_constant_padding_in_image_units():
    image = np.full((1, 8, 8), 100, np.int16)
    shifted = Affine(translation_mm=(3.0, 0.0), padding=-1024.0)(image)
    # A whole-voxel shift copies voxels, so the dtype stays int16.
    assert shifted.dtype == np.int16
    np.testing.assert_array_equal(shifted[0, :, :3], -1024)
    np.testing.assert_array_equal(shifted[0, :, 3:], 100)
    interpolated = Affine(translation_mm=(2.5, 0.0), padding=-1024.0)(image)
    assert interpolated.dtype == np.float32
    np.testing.assert_allclose(interpolated[0, :, :2], -1024.0)
    np.testing.assert_allclose(interpolated[0, :, 3:], 100.0)


def test_padding_outside_dtype_range_promotes():
    image = np.full((1, 6, 6), 7, np.uint8)
    out = Affine(translation_mm=(2.0, 0.0), padding=-1024.0)(image)
    # -1024 does not fit in uint8: promoted to float32 instead of wrapping.
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[0, :, :2], -1024.0)


def test_nearest_keeps_integer_image_dtype():
    image = np.arange(16, dtype=np.int16).reshape(1, 4, 4)
    out = Affine(rotation_deg=90, image_interpolation="nearest")(image)
    assert out.dtype == np.int16
    assert set(np.unique(out)) <= set(np.unique(image)) | {0}


def test_cubic_reproduces_quadratics():
    grids = np.meshgrid(*[np.arange(12.0)] * 3, indexing="ij")
    quadratic = (0.3 * grids[0] ** 2 + 0.1 * grids[1] * grids[2] - grids[2] ** 2).astype(np.float64)
    out = Affine(translation_mm=(0.3, -0.4, 0.25), image_interpolation="cubic")(quadratic[None])[0]
    shifted = [grids[0] - 0.25, grids[1] + 0.4, grids[2] - 0.3]
    expected = 0.3 * shifted[0] ** 2 + 0.1 * shifted[1] * shifted[2] - shifted[2] ** 2
    inner = (slice(3, -3),) * 3
    # Keys' kernel with a = -0.5 is exact for polynomials up to degree 2 where
    # all 4 taps lie inside the volume; float64 round-off is about 1e-12.
    np.testing.assert_allclose(out[inner], expected[inner], atol=1e-9)


def test_cubic_3d_slice_matches_2d():
    generator = np.random.default_rng(1)
    plane = generator.random((12, 12)).astype(np.float32)
    volume = np.repeat(plane[None], 5, axis=0)
    out_3d = Affine(rotation_deg=(0, 0, 17), image_interpolation="cubic")(volume[None])[0]
    out_2d = Affine(rotation_deg=17, image_interpolation="cubic")(plane[None])[0]
    # Constant along z, the 3-D kernel reduces to the 2-D one (float32 round-off).
    np.testing.assert_allclose(out_3d[2], out_2d, atol=1e-5)


@pytest.mark.parametrize(
    ("factory", "error", "message"),
    [
        (lambda: RandomAffine((15, -15)), ValueError, r"`rotation_range_deg` must be \(low, high\) with low <= high"),
        (lambda: RandomAffine(scale_range=(1.1, 0.9)), ValueError, "`scale_range` must be"),
        (lambda: Affine(scale=0.0), ValueError, "`scale` must be > 0"),
        (lambda: RandomFlip(p=1.5), ValueError, r"`p` must be a probability in \[0, 1\]"),
        (lambda: Affine(image_interpolation="spline"), ValueError, "`image_interpolation` must be one of"),
        (lambda: Rot90(1.5), TypeError, "`k` must be an int"),
        (lambda: Rot90(1, plane=("x", "x")), ValueError, "`plane` must name two different"),
    ],
)
def test_bad_arguments_raise(factory, error, message):
    with pytest.raises(error, match=message):
        factory()


def test_one_dimensional_array_raises():
    with pytest.raises(ValueError, match="with 1 axes cannot be read"):
        Affine(rotation_deg=10)(np.zeros(8, np.float32))


def test_float_label_map_raises():
    with pytest.raises(TypeError, match="`LabelMap.data` must have an integer dtype"):
        Affine()({"image": np.zeros((4, 4), np.float32), "label": LabelMap(np.full((1, 4, 4), 0.5, np.float32))})


def test_identity_at_zero_strength():
    sample = blob_sample()
    for transform in [Affine(), RandomAffine(0.0), Rot90(0), Flip([])]:
        out = transform.transform(sample, rng=np.random.default_rng(0))
        # Zero rotation samples exactly at voxel centres.
        np.testing.assert_allclose(out["image"].numpy(), sample["image"].numpy(), atol=1e-6)
        assert torch.equal(out["label"].data, sample["label"].data)
