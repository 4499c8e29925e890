"""Acquisition physics: Beer-Lambert, Poisson counts, log transform, dose and noise scaling."""

import math

import numpy as np
import pytest
import torch

from medaug.physics.ct import (
    MM_PER_CM,
    ParallelBeamGeometry,
    ParallelBeamProjector,
    counts_to_line_integrals,
    fbp,
    incident_photons_for_mas,
    line_integral_variance,
    relative_noise_std,
    sample_counts,
    simulate_transmission,
    transmitted_photons,
    uniform_angles,
)


def test_beer_lambert_closed_form():
    p = torch.tensor([0.0, 1.0, 3.0], dtype=torch.float64)
    expected = 1e4 * torch.exp(-p)
    assert torch.allclose(transmitted_photons(p, 1e4), expected, rtol=1e-15)


def test_poisson_variance_equals_mean():
    expected = torch.full((200_000,), 37.0, dtype=torch.float64)
    counts = sample_counts(expected, generator=torch.Generator().manual_seed(1))
    # 200 000 draws: the sample mean and variance of Poisson(37) have
    # relative standard errors of 0.04 % and 0.3 %; 2 % is over 5 sigma.
    assert abs(float(counts.mean()) / 37 - 1) < 0.02
    assert abs(float(counts.var()) / 37 - 1) < 0.02


def test_electronic_noise_adds_variance():
    expected = torch.full((200_000,), 50.0, dtype=torch.float64)
    counts = sample_counts(expected, generator=torch.Generator().manual_seed(2), electronic_noise_std=5.0)
    # Variance of Poisson(50) + N(0, 5^2) is 75; 3 % is about 9 sigma.
    assert abs(float(counts.var()) / 75 - 1) < 0.03


def test_zero_counts_stay_finite():
    counts = torch.tensor([0.0, -3.0, 10.0, 1e4], dtype=torch.float64)
    line_integrals, report = counts_to_line_integrals(counts, 1e4)
    assert bool(torch.isfinite(line_integrals).all())
    assert report.starved_rays == 2
    assert report.min_counts == -3.0
    assert math.isclose(float(line_integrals[0]), math.log(1e4 / 0.5))
    assert float(line_integrals[3]) == 0.0


def test_starvation_reported_for_dense_object():
    p = torch.full((1000,), 30.0, dtype=torch.float64)
    noisy, report = simulate_transmission(p, 1e4, generator=torch.Generator().manual_seed(3))
    assert report.starved_fraction == 1.0
    assert bool(torch.isfinite(noisy).all())


@pytest.mark.parametrize("i0", [0.0, -5.0, float("nan")])
def test_bad_i0_raises(i0):
    with pytest.raises(ValueError, match="`i0` must be finite and > 0"):
        transmitted_photons(torch.zeros(3), i0)


def test_negative_attenuation_raises():
    with pytest.raises(ValueError, match=r"`line_integrals` must be >= 0 \(negative attenuation\)"):
        transmitted_photons(torch.tensor([0.5, -0.1]), 1e3)


def test_generator_required():
    with pytest.raises(TypeError, match="`generator` must be a torch.Generator"):
        sample_counts(torch.ones(3), generator=np.random.default_rng(0))


def test_same_seed_same_counts():
    expected = torch.full((100,), 20.0)
    first = sample_counts(expected, generator=torch.Generator().manual_seed(9))
    second = sample_counts(expected, generator=torch.Generator().manual_seed(9))
    assert torch.equal(first, second)


def test_line_integral_variance_closed_form():
    variance = line_integral_variance(torch.tensor([1.0], dtype=torch.float64), 1e4, electronic_noise_std=10.0)
    photons = 1e4 * math.exp(-1.0)
    assert math.isclose(float(variance[0]), (photons + 100.0) / photons**2, rel_tol=1e-12)


def test_dose_helpers():
    assert incident_photons_for_mas(200.0, photons_per_mas=1e3) == 2e5
    assert math.isclose(relative_noise_std(0.25), 2.0)
    assert math.isclose(relative_noise_std(1.0, 30.0, mu_water_per_cm=0.2), math.exp(1.0))
    with pytest.raises(ValueError, match="`dose_fraction` must be > 0"):
        relative_noise_std(0.0)


def test_fbp_noise_scales_inverse_sqrt_i0():
    n = 96
    axis = torch.arange(n, dtype=torch.float64) - (n - 1) / 2
    disc = (axis[:, None] ** 2 + axis[None, :] ** 2 <= 40**2).to(torch.float64)
    water = 0.2059 * disc
    geometry = ParallelBeamGeometry(uniform_angles(120), n)
    clean = ParallelBeamProjector(geometry, (n, n))(water) / MM_PER_CM
    roi = (axis[:, None] ** 2 + axis[None, :] ** 2 <= 25**2)

    doses = np.array([1e4, 4e4, 1.6e5])
    stds = []
    for index, i0 in enumerate(doses):
        generator = torch.Generator().manual_seed(100 + index)
        noisy, _ = simulate_transmission(clean.expand(4, -1, -1), float(i0), generator=generator)
        image = fbp((noisy - clean) * MM_PER_CM, geometry, (n, n))
        stds.append(float(image[:, roi].std()))
    slope = np.polyfit(np.log(doses), np.log(stds), 1)[0]
    # Quantum noise gives slope -0.5 exactly; four images of ~1900 ROI
    # pixels estimate each std to about 2 %, well inside +-0.05.
    assert abs(slope + 0.5) < 0.05
