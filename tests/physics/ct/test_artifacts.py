"""Artifact models: detector blur, scatter, metal inserts, sparse and limited views."""

import math

import pytest
import torch

from medaug.phantoms import XrayMaterial
from medaug.physics.ct import (
    MM_PER_CM,
    ParallelBeamGeometry,
    ParallelBeamProjector,
    add_scatter,
    counts_to_line_integrals,
    detector_blur,
    disc_mask,
    fbp,
    limited_angle,
    polychromatic_photons,
    sparse_view,
    tube_spectrum,
    uniform_angles,
)

# Pure iron at its NIST density (g/cm^3): a metal outside the phantom table.
IRON = XrayMaterial("iron", (("Fe", 1.0),), 7.874)


def test_detector_blur_zero_is_identity():
    signal = torch.randn(3, 20, dtype=torch.float64)
    assert torch.equal(detector_blur(signal, 0.0, 1.0), signal)


def test_detector_blur_gaussian_width():
    signal = torch.zeros(1, 201, dtype=torch.float64)
    signal[0, 100] = 1.0
    blurred = detector_blur(signal, 4.0, 0.5)[0]
    positions = (torch.arange(201, dtype=torch.float64) - 100) * 0.5
    variance = float((blurred * positions**2).sum() / blurred.sum())
    sigma = 4.0 / (2 * math.sqrt(2 * math.log(2)))
    # A sampled Gaussian's second moment matches sigma^2 to < 0.1 %.
    assert abs(variance / sigma**2 - 1) < 1e-3
    assert math.isclose(float(blurred.sum()), 1.0, rel_tol=1e-12)


def test_detector_blur_bad_fwhm_raises():
    with pytest.raises(ValueError, match="`fwhm_mm` must be >= 0 mm"):
        detector_blur(torch.ones(4), -1.0, 1.0)


def test_scatter_ratio():
    primary = torch.rand(5, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) + 1
    total = add_scatter(primary, 0.2, kernel_fwhm_mm=30.0)
    scatter = total - primary
    assert torch.allclose(scatter.mean(-1), 0.2 * primary.mean(-1), rtol=1e-12)
    assert torch.equal(add_scatter(primary, 0.0), primary)


def test_disc_mask_area():
    mask = disc_mask((64, 64), (3.0, -2.0), 10.0, spacing_mm=0.5, supersample=8)
    # Pixel-fraction area approximates pi r^2 to about 0.1 %.
    assert abs(float(mask.sum()) * 0.25 / (math.pi * 100) - 1) < 2e-3


def test_metal_starves_and_streaks():
    n = 64
    geometry = ParallelBeamGeometry(uniform_angles(90), n, detector_spacing_mm=2.0)
    projector = ParallelBeamProjector(geometry, (n, n), spacing_mm=2.0)
    body = disc_mask((n, n), (0.0, 0.0), 55.0, spacing_mm=2.0)
    metal = disc_mask((n, n), (15.0, 0.0), 6.0, spacing_mm=2.0) + disc_mask(
        (n, n), (-15.0, 0.0), 6.0, spacing_mm=2.0
    )
    lengths = {
        "water": projector(body - metal) / MM_PER_CM,
        IRON: projector(metal) / MM_PER_CM,
    }
    reading = polychromatic_photons(lengths, tube_spectrum(120.0), 1e4)
    counts = torch.poisson(reading, generator=torch.Generator().manual_seed(4))
    line_integrals, report = counts_to_line_integrals(counts, 1e4)
    image = fbp(line_integrals * MM_PER_CM, geometry, (n, n), spacing_mm=2.0)
    assert report.starved_rays > 0
    assert bool(torch.isfinite(image).all())
    # Between the two inserts the water (about 0.19 1/cm) is corrupted by
    # dark streaks far beyond quantum noise.
    between = image[28:36, 30:34]
    assert float(between.mean()) < 0.15


def test_sparse_and_limited_geometries():
    geometry = ParallelBeamGeometry(uniform_angles(180), 32)
    assert len(sparse_view(geometry, 6).angles_deg) == 30
    limited = limited_angle(geometry, 90.0)
    assert max(limited.angles_deg) < 90.0
    assert len(limited.angles_deg) == 90
    with pytest.raises(ValueError, match="no view angle lies within"):
        limited_angle(geometry, 0.4, start_deg=0.5)
