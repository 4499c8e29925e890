"""Optics: PSF blur width, kernels, slice-profile downsampling and resolution loss."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from medaug.physics.optics import (
    FWHM_PER_SIGMA,
    convolve_kernel,
    degrade_resolution,
    downsample,
    fwhm_to_sigma_voxels,
    gaussian_filter,
    gaussian_kernel_1d,
    psf_blur,
    upsample_to_shape,
)


def test_psf_blur_fwhm_per_axis():
    image = torch.zeros(81, 81, dtype=torch.float64)
    image[40, 40] = 1.0
    blurred = psf_blur(image, (6.0, 2.0), spacing_mm=(0.5, 0.25))
    rows = (torch.arange(81, dtype=torch.float64) - 40) * 0.5
    cols = (torch.arange(81, dtype=torch.float64) - 40) * 0.25
    var_rows = float((blurred.sum(1) * rows**2).sum())
    var_cols = float((blurred.sum(0) * cols**2).sum())
    # Second moments of a sampled Gaussian match sigma^2 within 0.5 %.
    assert abs(var_rows / (6.0 / FWHM_PER_SIGMA) ** 2 - 1) < 5e-3
    assert abs(var_cols / (2.0 / FWHM_PER_SIGMA) ** 2 - 1) < 5e-3
    assert math.isclose(float(blurred.sum()), 1.0, rel_tol=1e-12)


def test_psf_blur_zero_is_identity():
    image = np.array([[-3, 5], [7, 1]], dtype=np.int16)
    assert psf_blur(image, 0.0, spacing_mm=(1.0, 1.0)) is image


def test_psf_blur_promotes_integers():
    image = np.full((5, 5), 30000, dtype=np.int16)
    out = psf_blur(image, 2.0, spacing_mm=(1.0, 1.0))
    assert out.dtype == np.float32
    assert np.allclose(out, 30000)


def test_psf_blur_batch_and_3d():
    volume = torch.rand(2, 1, 6, 8, 10, generator=torch.Generator().manual_seed(0))
    out = psf_blur(volume, (1.0, 2.0, 3.0), spacing_mm=(1.0, 1.0, 1.0))
    assert out.shape == volume.shape
    assert math.isclose(float(out.mean()), float(volume.mean()), rel_tol=0.05)


def test_psf_blur_bad_input_raises():
    with pytest.raises(ValueError, match="`fwhm_mm` must be 2 finite values >= 0 mm"):
        psf_blur(np.zeros((4, 4)), -1.0, spacing_mm=(1.0, 1.0))
    with pytest.raises(ValueError, match="`image` contains NaN or inf"):
        psf_blur(np.full((4, 4), np.inf), 1.0, spacing_mm=(1.0, 1.0))


def test_psf_blur_wrong_fwhm_length_raises():
    with pytest.raises(ValueError, match=r"`fwhm_mm` must be one value or 2 values \(one per spatial axis\)"):
        psf_blur(np.zeros((4, 4)), (1.0, 2.0, 3.0), spacing_mm=(1.0, 1.0))
    with pytest.raises(ValueError, match="`edge` must be 'replicate' or 'reflect', got 'wrap'"):
        psf_blur(np.zeros((4, 4)), 1.0, spacing_mm=(1.0, 1.0), edge="wrap")


def test_fwhm_to_sigma_anisotropic():
    sigma = fwhm_to_sigma_voxels((6.0, 6.0), (2.0, 0.5))
    # sigma = FWHM / (2 sqrt(2 ln 2)) / spacing.
    assert sigma == pytest.approx((3.0 / 2.354820045, 12.0 / 2.354820045), rel=1e-9)


@pytest.mark.parametrize(("edge", "scipy_mode"), [("replicate", "nearest"), ("reflect", "mirror")])
def test_gaussian_filter_edges_match_scipy(edge, scipy_mode):
    signal = np.random.default_rng(0).normal(size=(3, 17))
    out = gaussian_filter(torch.from_numpy(signal), [1.3], edge=edge).numpy()
    weights = gaussian_kernel_1d(1.3).numpy()
    expected = ndimage.convolve1d(signal, weights, axis=-1, mode=scipy_mode)
    # Same weights, summed in another order: float64 round-off only.
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)


def test_gaussian_filter_reflect_on_short_axis_replicates():
    signal = torch.tensor([[1.0, 3.0, 2.0]], dtype=torch.float64)
    out = gaussian_filter(signal, [0.0, 2.0], edge="reflect")
    # Radius 8 exceeds the axis, where reflect padding cannot reach: edge values repeat.
    expected = ndimage.convolve1d(signal.numpy(), gaussian_kernel_1d(2.0).numpy(), axis=-1, mode="nearest")
    np.testing.assert_allclose(out.numpy(), expected, rtol=0, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    sigma=st.lists(st.floats(0.0, 4.0), min_size=2, max_size=2),
    edge=st.sampled_from(["replicate", "reflect"]),
    value=st.floats(-1e3, 1e3),
    shape=st.tuples(st.integers(1, 9), st.integers(1, 9)),
)
def test_gaussian_filter_keeps_constant(sigma, edge, value, shape):
    image = torch.full((2, *shape), value, dtype=torch.float64)
    out = gaussian_filter(image, sigma, edge=edge)
    # Normalised weights sum to 1 within float64 round-off, scaled by |value|.
    assert torch.allclose(out, image, rtol=1e-12, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(sigma=st.floats(0.1, 3.0), a=st.floats(-5, 5), b=st.floats(-5, 5), seed=st.integers(0, 2**16))
def test_gaussian_filter_is_linear(sigma, a, b, seed):
    generator = torch.Generator().manual_seed(seed)
    x, y = torch.randn(2, 5, 11, generator=generator, dtype=torch.float64)
    combined = gaussian_filter(a * x + b * y, [sigma, sigma], edge="reflect")
    separate = a * gaussian_filter(x, [sigma, sigma], edge="reflect") + b * gaussian_filter(y, [sigma, sigma], edge="reflect")
    # float64 round-off of a few dozen products of magnitude <= 5 * 5.
    assert torch.allclose(combined, separate, rtol=0, atol=1e-11)


def test_gaussian_filter_bad_input_raises():
    with pytest.raises(ValueError, match=r"`sigma_voxels` must be finite and >= 0, got \[1.0, -1.0\]"):
        gaussian_filter(torch.zeros(4, 4), [1.0, -1.0])
    with pytest.raises(ValueError, match="`sigma_voxels` has 3 values but `data` has only 2 axes"):
        gaussian_filter(torch.zeros(4, 4), [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="`edge` must be 'replicate' or 'reflect'"):
        gaussian_filter(torch.zeros(4, 4), [1.0], edge="mirror")


def test_convolve_kernel_matches_shift():
    image = torch.arange(25, dtype=torch.float64).reshape(5, 5)
    kernel = torch.zeros(3, 3, dtype=torch.float64)
    kernel[1, 2] = 1.0
    out = convolve_kernel(image, kernel)
    # Convolution with a delta one column right shifts the image right.
    assert torch.equal(out[:, 1:], image[:, :-1])


def test_convolve_kernel_even_raises():
    with pytest.raises(ValueError, match="`kernel` must have 1-3 axes of odd size"):
        convolve_kernel(np.zeros((4, 4)), np.ones((2, 2)))


def test_rect_downsample_partial_volume():
    image = torch.zeros(4, 6, dtype=torch.float64)
    image[:, 0] = 3.0
    coarse, spacing = downsample(image, (1, 3), spacing_mm=(1.0, 0.5))
    assert spacing == (1.0, 1.5)
    assert torch.allclose(coarse, torch.tensor([[1.0, 0.0]] * 4, dtype=torch.float64))


def test_gaussian_downsample_keeps_uniform():
    image = torch.full((8, 8), 2.5, dtype=torch.float64)
    coarse, _ = downsample(image, 2, spacing_mm=(1.0, 1.0), profile="gaussian")
    assert coarse.shape == (4, 4)
    assert torch.allclose(coarse, image[:4, :4])


def test_downsample_indivisible_raises():
    with pytest.raises(ValueError, match="must be divisible by `factors`"):
        downsample(np.zeros((5, 4)), 2, spacing_mm=(1.0, 1.0))


def test_degrade_restores_shape_and_linear_ramp():
    ramp = torch.arange(12, dtype=torch.float64)[None, :].expand(4, 12).contiguous()
    out = degrade_resolution(ramp, (1, 2), spacing_mm=(1.0, 1.0))
    assert out.shape == ramp.shape
    # Block averaging then linear interpolation reproduces a linear ramp
    # away from the replicated edge samples.
    assert torch.allclose(out[:, 1:-1], ramp[:, 1:-1])


def test_degrade_identity_factor_one():
    image = np.arange(6.0).reshape(2, 3)
    assert degrade_resolution(image, 1, spacing_mm=(1.0, 1.0)) is image


def test_upsample_nearest_numpy():
    out = upsample_to_shape(np.array([[1.0, 2.0]]), (2, 4), mode="nearest")
    assert np.array_equal(out, [[1, 1, 2, 2], [1, 1, 2, 2]])
