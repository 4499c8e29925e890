"""Polychromatic acquisition: spectra, attenuation tables and beam-hardening cupping."""

import math

import pytest
import torch

from medaug.phantoms import XrayMaterial
from medaug.physics.ct import (
    MM_PER_CM,
    ParallelBeamGeometry,
    ParallelBeamProjector,
    Spectrum,
    attenuation_per_cm,
    counts_to_line_integrals,
    disc_mask,
    fbp,
    monochromatic_spectrum,
    polychromatic_photons,
    tube_spectrum,
    uniform_angles,
)


def test_water_attenuation_matches_nist():
    # NIST XCOM water: 0.2059 1/cm at 60 keV, 0.1707 1/cm at 100 keV; the
    # Elam tables agree within 1 %.
    mu = attenuation_per_cm("water", [60.0, 100.0])
    assert abs(mu[0] / 0.2059 - 1) < 0.01
    assert abs(mu[1] / 0.1707 - 1) < 0.01


def test_bone_denser_than_water():
    assert attenuation_per_cm("cortical_bone", [70.0])[0] > 2 * attenuation_per_cm("water", [70.0])[0]


def test_material_outside_table_matches_nist():
    iron = XrayMaterial("iron", (("Fe", 1.0),), 7.874)
    # NIST XCOM iron: mu/rho = 0.3717 cm^2/g at 100 keV, density 7.874 g/cm^3;
    # the Elam tables agree within 1 %.
    mu = attenuation_per_cm(iron, [100.0])[0]
    assert abs(mu / (0.3717 * 7.874) - 1) < 0.01


def test_tube_spectrum_properties():
    spectrum = tube_spectrum(120.0, filtration_mm_al=3.0)
    assert math.isclose(sum(spectrum.weights), 1.0, rel_tol=1e-12)
    assert max(spectrum.energies_kev) <= 120.0
    # More filtration removes low energies and raises the mean energy.
    assert tube_spectrum(120.0, filtration_mm_al=10.0).mean_energy_kev > spectrum.mean_energy_kev


def test_unknown_material_raises():
    with pytest.raises(ValueError, match="unknown X-ray material 'unobtainium'"):
        attenuation_per_cm("unobtainium", [60.0])


def test_material_of_wrong_type_raises():
    with pytest.raises(TypeError, match="`material` must be a str or XrayMaterial, got int"):
        attenuation_per_cm(7, [60.0])


def test_bad_spectrum_raises():
    with pytest.raises(ValueError, match="energies must be > 0 keV"):
        Spectrum((0.0, 50.0), (1.0, 1.0))


def test_monochromatic_reading_is_beer_lambert():
    lengths = {"water": torch.tensor([0.0, 10.0], dtype=torch.float64)}
    reading = polychromatic_photons(lengths, monochromatic_spectrum(60.0), 1e3)
    mu = attenuation_per_cm("water", [60.0])[0]
    assert torch.allclose(reading, 1e3 * torch.exp(-mu * lengths["water"]), rtol=1e-12)


def test_negative_path_length_raises():
    with pytest.raises(ValueError, match="negative attenuation"):
        polychromatic_photons({"water": torch.tensor([-1.0])}, monochromatic_spectrum(60.0), 1e3)


def _cupping(spectrum):
    n = 96
    geometry = ParallelBeamGeometry(uniform_angles(90), n, detector_spacing_mm=3.0)
    water = disc_mask((n, n), (0.0, 0.0), 135.0, spacing_mm=3.0)
    projector = ParallelBeamProjector(geometry, (n, n), spacing_mm=3.0)
    lengths_cm = projector(water) / MM_PER_CM
    reading = polychromatic_photons({"water": lengths_cm}, spectrum, 1e6)
    line_integrals, _ = counts_to_line_integrals(reading, 1e6)
    image = fbp(line_integrals * MM_PER_CM, geometry, (n, n), spacing_mm=3.0)
    axis = (torch.arange(n, dtype=torch.float64) - (n - 1) / 2) * 3.0
    radius = torch.sqrt(axis[:, None] ** 2 + axis[None, :] ** 2)
    centre = float(image[radius < 20].mean())
    edge = float(image[(radius > 105) & (radius < 120)].mean())
    return centre, edge


def test_beam_hardening_cupping():
    centre, edge = _cupping(tube_spectrum(120.0))
    # A 27 cm water cylinder at 120 kVp cups by several percent; 1 % is
    # well above the FBP ripple of an ideal disc.
    assert centre < 0.99 * edge


def test_monochromatic_no_cupping():
    centre, edge = _cupping(monochromatic_spectrum(70.0))
    # Without hardening only discretisation ripple remains, under 0.5 %.
    assert abs(centre / edge - 1) < 0.005
