"""Analytic k-space of primitives against closed forms, and rasterised FFTs converging to it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import special

from medaug.phantoms import (
    box,
    cylinder,
    ellipse,
    ellipsoid,
    gaussian_blob,
    rotation_z,
    shepp_logan,
)
from medaug.phantoms.functional import kspace_primitives
from medaug.phantoms.functional.fourier import bessel_j1


def _closed_form_ellipses(table_rows, k):
    """Shepp-Logan k-space written out independently with scipy's J1, float64."""
    total = np.zeros(len(k), dtype=complex)
    for cx, cy, ax, ay, angle, value in table_rows:
        theta = math.radians(angle)
        # LPS frame: y flipped, so the centre is (cx, -cy) and the angle -theta.
        center = np.array([cx, -cy])
        rotation = np.array([[math.cos(-theta), -math.sin(-theta)], [math.sin(-theta), math.cos(-theta)]])
        local = k @ rotation * np.array([ax, ay])
        rho = np.linalg.norm(local, axis=1)
        safe = np.where(rho == 0, 1.0, rho)
        disk = np.where(rho == 0, math.pi, special.j1(2 * math.pi * safe) / safe)
        total += value * ax * ay * disk * np.exp(-2j * math.pi * (k @ center))
    return total


def _modified_rows():
    from medaug.phantoms import shepp_logan_table

    return shepp_logan_table("modified_2d")["ellipses"]


def test_shepp_logan_kspace_matches_closed_form_float64(rng):
    phantom = shepp_logan("modified_2d", scale_mm=1.0)
    k = rng.uniform(-40.0, 40.0, size=(2000, 2))
    k[0] = 0.0

    analytic = phantom.kspace(k)
    expected = _closed_form_ellipses(_modified_rows(), k)

    # Same formula evaluated by torch and scipy: medaug's J1 agrees with
    # scipy's to about 1e-12, the rest is float64 round-off.
    np.testing.assert_allclose(analytic, expected, rtol=0, atol=1e-11 * np.abs(expected).max())
    assert analytic.dtype == np.complex128


def test_shepp_logan_kspace_float32_precision(rng):
    phantom = shepp_logan("modified_2d", scale_mm=1.0)
    k = rng.uniform(-40.0, 40.0, size=(2000, 2))

    single = phantom.kspace(k.astype(np.float32))
    double = phantom.kspace(k)

    # float32 carries about 7 digits; phases 2 pi k.c reach ~150 rad, so the
    # error relative to the peak stays below about 1e-5.
    assert single.dtype == np.complex64
    assert np.abs(single - double).max() < 2e-5 * np.abs(double).max()


def test_kspace_dc_is_integral():
    shapes = [
        ellipse((1.0, 2.0), (3.0, 2.0), 30.0, value=2.0),
        box((0.0, 0.0), (1.0, 2.0), 10.0, value=-1.0),
        gaussian_blob((0.5, 0.5), (1.0, 2.0), value=3.0),
    ]
    dc = kspace_primitives(shapes, torch.zeros(1, 2, dtype=torch.float64)).item()

    # Areas: ellipse pi a b, rectangle 4 a b, Gaussian 2 pi s0 s1 (peak 1).
    expected = 2.0 * math.pi * 6.0 - 1.0 * 8.0 + 3.0 * 2.0 * math.pi * 2.0
    assert dc.real == pytest.approx(expected, rel=1e-12)
    assert dc.imag == pytest.approx(0.0, abs=1e-12)


def test_kspace_3d_dc_is_volume():
    shapes = [
        ellipsoid((0.0, 1.0, 2.0), (1.0, 2.0, 3.0), rotation_z(20.0)),
        cylinder((0.0, 0.0, 0.0), (1.0, 2.0), 3.0, value=0.5),
        box((1.0, 1.0, 1.0), (1.0, 1.0, 2.0)),
    ]
    dc = kspace_primitives(shapes, torch.zeros(1, 3, dtype=torch.float64)).item()

    expected = 4.0 / 3.0 * math.pi * 6.0 + 0.5 * math.pi * 2.0 * 6.0 + 8.0 * 2.0
    assert dc.real == pytest.approx(expected, rel=1e-12)


def test_ellipsoid_kspace_closed_form(rng):
    shape = ellipsoid((1.0, -2.0, 0.5), (2.0, 3.0, 4.0), rotation_z(35.0), value=1.5)
    k = rng.uniform(-2.0, 2.0, size=(500, 3))

    analytic = kspace_primitives([shape], torch.as_tensor(k)).numpy()

    local = k @ rotation_z(35.0) * np.array([2.0, 3.0, 4.0])
    x = 2 * math.pi * np.linalg.norm(local, axis=1)
    ball = 4 * math.pi * (np.sin(x) - x * np.cos(x)) / x**3
    expected = 1.5 * 24.0 * ball * np.exp(-2j * math.pi * (k @ np.array([1.0, -2.0, 0.5])))
    np.testing.assert_allclose(analytic, expected, rtol=1e-10, atol=1e-12)


def test_bessel_j1_matches_scipy():
    x = torch.linspace(-300.0, 300.0, 60001, dtype=torch.float64)
    values = bessel_j1(x).numpy()

    # 1e-12 absolute: the series and Hankel's expansion both reach it at x = 12.
    np.testing.assert_allclose(values, special.j1(x.numpy()), rtol=0, atol=1e-12)


def test_ellipsoid_series_joins_closed_form():
    shape = [ellipsoid((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))]
    # x = 2 pi rho crosses the series threshold 0.2 at rho = 0.0318.
    rho = torch.tensor([0.0318, 0.03184, 0.0319], dtype=torch.float64)
    k = torch.stack([rho, torch.zeros_like(rho), torch.zeros_like(rho)], dim=1)

    values = kspace_primitives(shape, k).real.numpy()
    x = 2 * math.pi * rho.numpy()
    exact = 4 * math.pi * (np.sin(x) - x * np.cos(x)) / x**3
    np.testing.assert_allclose(values, exact, rtol=1e-12)


def _raster_dft(image: np.ndarray, spacing: float) -> np.ndarray:
    """Centred DFT of a raster, scaled to approximate the continuous transform."""
    shifted = np.fft.ifftshift(image)
    return np.fft.fftshift(np.fft.fft2(shifted)) * spacing**2


def _grid_k(n: int, fov: float) -> np.ndarray:
    frequencies = (np.arange(n) - n // 2) / fov
    ky, kx = np.meshgrid(frequencies, frequencies, indexing="ij")
    return np.stack([kx, ky], axis=-1)


def test_raster_fft_converges_to_analytic():
    n, fov = 128, 256.0
    spacing = fov / n
    phantom = shepp_logan("modified_2d", scale_mm=100.0)
    k = _grid_k(n, fov)
    analytic = phantom.kspace(k)
    # Area averaging over a pixel multiplies the transform by sinc(kx s) sinc(ky s).
    target = analytic * np.sinc(k[..., 0] * spacing) * np.sinc(k[..., 1] * spacing)
    central = (np.abs(k[..., 0]) < 0.25 / spacing) & (np.abs(k[..., 1]) < 0.25 / spacing)

    errors = []
    for supersample in (1, 2, 4, 8):
        image = phantom.rasterize((n, n), fov, supersample=supersample, dtype=torch.float64)
        dft = _raster_dft(image.numpy()[0], spacing)
        errors.append(np.linalg.norm((dft - target)[central]) / np.linalg.norm(target[central]))

    # Point sampling (1) misplaces edges; finer sub-sampling approaches the
    # exact pixel average, leaving only aliasing from beyond the grid.
    assert all(later < earlier for earlier, later in zip(errors, errors[1:]))
    assert errors[-1] < 0.25 * errors[0]


def test_coil_kspace_equals_shifted_sum(rng):
    shape = [ellipse((3.0, -1.0), (5.0, 2.0), 20.0)]
    frequencies = torch.tensor([[0.0, 0.0], [0.01, -0.02]], dtype=torch.float64)
    coefficients = torch.tensor([[1.0, 0.5j], [0.2, -1.0]], dtype=torch.complex128)
    k = torch.as_tensor(rng.uniform(-0.5, 0.5, size=(50, 2)))

    coils = kspace_primitives(shape, k, coefficients=coefficients, frequencies=frequencies)

    # FT[exp(2 pi i q.x) f](k) = F(k - q).
    plain_0 = kspace_primitives(shape, k - frequencies[0])
    plain_1 = kspace_primitives(shape, k - frequencies[1])
    expected = coefficients[:, :1] * plain_0 + coefficients[:, 1:] * plain_1
    torch.testing.assert_close(coils, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_k_raises(bad):
    phantom = shepp_logan("modified_2d")
    k = np.zeros((3, 2))
    k[1, 0] = bad
    with pytest.raises(ValueError, match="`k` must be finite"):
        phantom.kspace(k)


def test_wrong_k_shape_raises():
    with pytest.raises(ValueError, match=r"`k` must be shaped \(\.\.\., 2\)"):
        shepp_logan("modified_2d").kspace(np.zeros((4, 3)))
