"""Analytic sinograms against the chord-length formula and numerical projections."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from medaug.phantoms import Phantom, box, ellipse, gaussian_blob
from medaug.phantoms.functional import sinogram_primitives


def _chord(a, b, center, angle_deg, phi_deg, t):
    """Chord length of the ellipse along the ray n . x = t, written out independently."""
    theta = math.radians(angle_deg - phi_deg)
    shift = center[0] * math.cos(math.radians(angle_deg)) + center[1] * math.sin(math.radians(angle_deg))
    radius2 = (a * math.cos(theta)) ** 2 + (b * math.sin(theta)) ** 2
    offset = t - shift
    return np.where(
        offset**2 <= radius2, 2 * a * b * np.sqrt(np.clip(radius2 - offset**2, 0, None)) / radius2, 0.0
    )


def test_ellipse_sinogram_equals_chord_length():
    a, b, center, phi = 30.0, 15.0, (10.0, -5.0), 25.0
    angles = np.linspace(0.0, 180.0, 37)
    positions = np.linspace(-50.0, 50.0, 201)

    sinogram = Phantom([ellipse(center, (a, b), phi, value=2.0)]).sinogram(angles, positions)

    expected = np.stack([2.0 * _chord(a, b, center, angle, phi, positions) for angle in angles])
    # Near a tangent ray sqrt(r^2 - t^2) amplifies float64 round-off of r^2 - t^2.
    np.testing.assert_allclose(sinogram, expected, rtol=0, atol=1e-9)


def _numerical_projection(image, spacing, angle_deg, positions):
    """Line integrals through a raster by bilinear sampling along each ray."""
    n = image.shape[0]
    theta = math.radians(angle_deg)
    normal = np.array([math.cos(theta), math.sin(theta)])
    along = np.array([-normal[1], normal[0]])
    steps = np.arange(-n, n) * spacing * 0.5
    points = positions[:, None, None] * normal + steps[None, :, None] * along  # (D, S, 2) mm
    rows = points[..., 1] / spacing + n // 2
    cols = points[..., 0] / spacing + n // 2
    samples = ndimage.map_coordinates(image, [rows.ravel(), cols.ravel()], order=1, cval=0.0)
    return samples.reshape(len(positions), -1).sum(axis=1) * spacing * 0.5


def test_raster_projection_converges_to_analytic():
    phantom = Phantom([ellipse((10.0, -5.0), (30.0, 15.0), 25.0), box((-20.0, 20.0), (8.0, 4.0), 40.0)])
    positions = np.linspace(-45.0, 45.0, 31)
    fov = 128.0
    errors = []
    for n in (64, 128, 256):
        image = phantom.rasterize((n, n), fov, supersample=4, dtype=torch.float64).numpy()[0]
        spacing = fov / n
        for angle in (0.0, 30.0, 90.0):
            analytic = phantom.sinogram(np.array([angle]), positions)[0]
            numerical = _numerical_projection(image, spacing, angle, positions)
            errors.append(np.abs(numerical - analytic).max() / analytic.max())
    coarse, medium, fine = (max(errors[i : i + 3]) for i in (0, 3, 6))

    # Edge errors shrink with the pixel size (first order in spacing).
    assert fine < medium < coarse
    assert fine < 0.03


def test_rectangle_projection_at_zero_degrees():
    shape = [box((0.0, 0.0), (3.0, 2.0))]
    sinogram = sinogram_primitives(shape, [0.0, 90.0], [0.0, 2.9, 3.1])

    # At 0 degrees the ray runs along y through |x| <= 3: chord 2 * 2 mm.
    np.testing.assert_allclose(sinogram[0].numpy(), [4.0, 4.0, 0.0])
    # At 90 degrees the ray runs along x through |y| <= 2: chord 6 mm, none past 2 mm.
    np.testing.assert_allclose(sinogram[1].numpy(), [6.0, 0.0, 0.0])


def test_gaussian_projection_integrates_to_area():
    blob = [gaussian_blob((5.0, -3.0), (4.0, 2.0), 30.0, value=1.5)]
    positions = torch.linspace(-60.0, 60.0, 4001, dtype=torch.float64)
    sinogram = sinogram_primitives(blob, [17.0], positions)

    total = torch.trapezoid(sinogram[0], positions).item()
    assert total == pytest.approx(1.5 * 2 * math.pi * 8.0, rel=1e-9)


@pytest.mark.parametrize(("argument", "value"), [("angles_deg", np.nan), ("positions_mm", np.inf)])
def test_nonfinite_angles_or_positions_raise(argument, value):
    phantom = Phantom([ellipse((0.0, 0.0), (1.0, 1.0))])
    inputs = {"angles_deg": np.array([0.0, 10.0]), "positions_mm": np.array([0.0, 1.0])}
    inputs[argument][0] = value
    with pytest.raises(ValueError, match=f"`{argument}` must be finite"):
        phantom.sinogram(inputs["angles_deg"], inputs["positions_mm"])


def test_sinogram_of_3d_phantom_raises():
    from medaug.phantoms import ellipsoid

    with pytest.raises(ValueError, match="must be 2D for a parallel-beam sinogram"):
        Phantom([ellipsoid((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))]).sinogram(np.zeros(1), np.zeros(1))
