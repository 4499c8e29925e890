"""Resampling to a spacing with anti-aliasing, and simulated thick slices."""

import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given, settings

from medaug.core import Geometry, Image, LabelMap, Sample
from medaug.transforms import Compose, RandomAffine, RandomThickSlices, Resample, ThickSlices
from tests.transforms.helpers import blob_sample


def test_resample_keeps_field_of_view():
    sample = blob_sample(shape=(10, 12, 16), spacing=(3.0, 1.0, 1.0))
    out = Resample((1.5, 2.0, 4.0)).transform(sample)
    assert out["image"].spatial_shape == (20, 6, 4)
    assert out["image"].geometry.spacing == (1.5, 2.0, 4.0)
    # The outer voxel edges coincide, so the extent in mm and the centre are unchanged.
    assert out["image"].geometry.extent_mm((20, 6, 4)) == sample["image"].geometry.extent_mm((10, 12, 16))
    np.testing.assert_allclose(
        out["image"].geometry.center((20, 6, 4)), sample["image"].geometry.center((10, 12, 16)), atol=1e-9
    )
    assert set(out["label"].labels) <= set(sample["label"].labels) | {0}


def test_resample_antialias_removes_aliasing():
    stripes = np.tile(np.array([1.0, -1.0], np.float32), 32)[None, None, :].repeat(8, axis=1)
    sample = Sample({"image": Image(stripes, geometry=Geometry(spacing=(1.0, 1.0)))})
    smooth = Resample((1.0, 3.0)).transform(sample)["image"].numpy()
    aliased = Resample((1.0, 3.0), antialias=False).transform(sample)["image"].numpy()
    # Stripes with a 2 mm period cannot be represented at 3 mm: without the
    # low-pass they alias into a full-contrast pattern, with it they fade.
    assert np.abs(aliased).mean() > 0.3
    assert np.abs(smooth).mean() < 0.25 * np.abs(aliased).mean()


def test_resample_same_spacing_is_identity():
    sample = blob_sample()
    out = Resample(1.0).transform(sample)
    assert torch.equal(out["image"].data, sample["image"].data)
    assert torch.equal(out["label"].data, sample["label"].data)


def test_resample_then_affine_fuses_after_filter(rng):
    sample = blob_sample(shape=(16, 16, 16))
    out = Compose([Resample(2.0), RandomAffine(10)]).transform(sample, rng=rng)
    assert out["image"].spatial_shape == (8, 8, 8)
    assert [r.name for r in out.history] == ["Resample", "Affine"]


def test_resample_bad_spacing():
    with pytest.raises(ValueError, match="`spacing_mm` must be > 0"):
        Resample(0.0)


def test_thick_slices_blur_along_axis_only():
    volume = np.zeros((1, 32, 8, 8), np.float32)
    volume[0, 16] = 1.0
    label = (volume > 0).astype(np.uint8)
    sample = Sample({
        "image": Image(volume, geometry=Geometry(spacing=(1.0, 1.0, 1.0))),
        "label": LabelMap(label),
    })
    out = ThickSlices("z", thickness_mm=4.0).transform(sample)
    profile = out["image"].numpy()[0, :, 4, 4]
    # A thin sheet spreads to roughly the slice thickness along z (FWHM 4 mm,
    # widened by the 4 mm sampling), is unchanged within each plane, and the
    # label map keeps full resolution.
    above_half = np.sum(profile >= profile.max() / 2)
    assert 3 <= above_half <= 8
    assert np.allclose(out["image"].numpy()[0, 16], out["image"].numpy()[0, 16, 0, 0])
    assert torch.equal(out["label"].data, sample["label"].data)


def test_random_thick_slices_reproducible(rng):
    sample = blob_sample()
    transform = RandomThickSlices(("x", "z"), (2.0, 5.0))
    parameters = transform.sample_parameters(np.random.default_rng(1), sample)
    a = transform.deterministic(parameters).transform(sample)
    b = transform.transform(sample, rng=np.random.default_rng(1))
    assert torch.equal(a["image"].data, b["image"].data)


def test_thick_slices_bad_thickness():
    with pytest.raises(ValueError, match="`thickness_mm` must be > 0"):
        ThickSlices("z", thickness_mm=-1.0)


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 40),
    sigma=st.floats(0.05, 12.0),
    step=st.floats(0.3, 50.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_thick_slice_matrix_equals_filter_then_interpolation(size, sigma, step, seed):
    from medaug.physics.optics import gaussian_filter
    from medaug.transforms.functional.resample import interpolate_axis
    from medaug.transforms.resample import thick_slice_matrix

    data = torch.from_numpy(np.random.default_rng(seed).normal(size=(2, 3, size)))
    # The same steps one after another: blur with mirrored edges, sample the slices, interpolate back.
    blurred = gaussian_filter(data, [0.0, sigma], edge="reflect")
    count = int(np.floor((size - 1) / step)) + 1
    start = ((size - 1) - (count - 1) * step) / 2.0
    slices = interpolate_axis(blurred, 1, start + step * torch.arange(count, dtype=torch.float64))
    expected = interpolate_axis(slices, 1, (torch.arange(size, dtype=torch.float64) - start) / step)
    matrix = torch.from_numpy(thick_slice_matrix(size, sigma, step))
    torch.testing.assert_close(data @ matrix.T, expected, rtol=1e-10, atol=1e-12)
    # Each row sums to 1, so a constant image stays constant.
    torch.testing.assert_close(matrix.sum(dim=1), torch.ones(size, dtype=torch.float64))
