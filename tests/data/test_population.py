"""Tests for medaug.data.population: size distributions, ageing, lesions, Dw and CT noise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from medaug.data.population import (
    OUTER_CSF_WIDENING_MM_PER_DECADE,
    SULCAL_CSF_WIDENING_MM_PER_DECADE,
    age_changes,
    ct_noise_sigma_hu,
    derive_population,
    draw_body_size,
    draw_head_size,
    draw_lesions,
    effective_diameter_mm,
    water_equivalent_diameter_mm,
)
from medaug.data.profiles import load_profile_library
from medaug.phantoms import HeadParameters, procedural_head

PIXEL_MM = 1.0


def _disk(n: int, diameter_px: float, value: float, background: float = -1000.0) -> np.ndarray:
    y, x = np.mgrid[0:n, 0:n] - (n - 1) / 2
    return np.where(x**2 + y**2 <= (diameter_px / 2) ** 2, value, background)


def test_water_equivalent_diameter_of_water_disk():
    image = _disk(256, 200.0, 0.0)
    # Pixelating a 200-pixel disk changes its area by well under 0.5%.
    assert water_equivalent_diameter_mm(image, PIXEL_MM**2) == pytest.approx(200.0, rel=5e-3)


def test_water_equivalent_diameter_scales_with_density():
    image = _disk(256, 200.0, -500.0)
    region = image > -1000.0
    # (mean HU / 1000 + 1) = 0.5 shrinks Dw by sqrt(0.5) (AAPM Report 220).
    expected = 200.0 * math.sqrt(0.5)
    assert water_equivalent_diameter_mm(image, PIXEL_MM**2, mask=region) == pytest.approx(expected, rel=5e-3)


def test_water_equivalent_diameter_bad_input():
    with pytest.raises(ValueError, match="`image_hu` must be a 2D slice"):
        water_equivalent_diameter_mm(np.zeros((2, 2, 2)), 1.0)
    with pytest.raises(ValueError, match="`pixel_area_mm2` must be > 0, got 0"):
        water_equivalent_diameter_mm(np.zeros((4, 4)), 0)
    with pytest.raises(ValueError, match="the patient region is empty"):
        water_equivalent_diameter_mm(np.full((4, 4), -1000.0), 1.0)


def test_effective_diameter_of_circle():
    assert effective_diameter_mm(250.0, 250.0) == 250.0
    with pytest.raises(ValueError, match="must be > 0"):
        effective_diameter_mm(0.0, 10.0)


def test_head_size_means_match_table(rng):
    table = load_profile_library().population["head"]
    draws = [draw_head_size(rng, "male") for _ in range(2000)]
    for key in ("head_length_mm", "head_breadth_mm", "head_circumference_mm"):
        values = np.array([d[key] for d in draws])
        mean, sd = table["male"][key]["mean"], table["male"][key]["sd"]
        # 4 standard errors: fails by chance about once in 16,000 runs.
        assert values.mean() == pytest.approx(mean, abs=4 * sd / math.sqrt(values.size))
        assert values.std() == pytest.approx(sd, rel=0.1)  # truncation at 3 SD shrinks SD by ~1.5%


def test_head_table_geometrically_consistent():
    table = load_profile_library().population["head"]
    for sex in ("male", "female"):
        length = table[sex]["head_length_mm"]["mean"]
        breadth = table[sex]["head_breadth_mm"]["mean"]
        # Ellipse perimeter from length and breadth (Ramanujan's second
        # approximation); the tape runs over the brow and the occiput, a few
        # percent longer than the ellipse through the same diameters.
        h = ((length - breadth) / (length + breadth)) ** 2
        perimeter = math.pi * (length + breadth) / 2 * (1 + 3 * h / (10 + math.sqrt(4 - 3 * h)))
        assert table[sex]["head_circumference_mm"]["mean"] == pytest.approx(perimeter, rel=0.05)
    assert table["male"]["head_circumference_mm"]["mean"] > table["female"]["head_circumference_mm"]["mean"]


def test_body_size_in_limits(rng):
    low, high = load_profile_library().population["water_equivalent_diameter_mm"]["body"]
    for _ in range(200):
        size = draw_body_size(rng, "female")
        assert low <= size["water_equivalent_diameter_mm"] <= high
        assert size["water_equivalent_diameter_mm"] == pytest.approx(size["waist_circumference_mm"] / math.pi)


def test_bad_sex():
    with pytest.raises(ValueError, match="`sex` must be one of"):
        draw_head_size(np.random.default_rng(0), "other")


def test_age_changes_trends():
    young, old = age_changes(25.0), age_changes(85.0)
    assert old["cortical_thickness_mm"] < young["cortical_thickness_mm"]
    assert old["ventricle_scale"] > young["ventricle_scale"]
    aging = load_profile_library().population["aging"]
    assert age_changes(aging["reference_age_years"]) == {
        "cortical_thickness_mm": aging["cortical_thickness_mm_at_reference"],
        "ventricle_scale": 1.0,
        "sulcal_csf_mm": 1.2,
        "csf_thickness_mm": 3.0,
    }


def test_age_changes_csf_widths_start_at_head_defaults():
    reference = load_profile_library().population["aging"]["reference_age_years"]
    changes = age_changes(reference)
    defaults = HeadParameters()

    assert changes["sulcal_csf_mm"] == defaults.sulcal_csf_mm
    assert changes["csf_thickness_mm"] == defaults.csf_thickness_mm


def test_age_changes_csf_widens_linearly():
    young, old = age_changes(30.0), age_changes(80.0)

    # 50 years at the stated rates per decade.
    assert old["sulcal_csf_mm"] - young["sulcal_csf_mm"] == pytest.approx(5 * SULCAL_CSF_WIDENING_MM_PER_DECADE)
    assert old["csf_thickness_mm"] - young["csf_thickness_mm"] == pytest.approx(5 * OUTER_CSF_WIDENING_MM_PER_DECADE)
    # The widths carry no spread of their own, so a drawn subject keeps the mean widths.
    drawn = age_changes(80.0, np.random.default_rng(2))
    assert drawn["sulcal_csf_mm"] == old["sulcal_csf_mm"]
    assert drawn["csf_thickness_mm"] == old["csf_thickness_mm"]


def _csf_volume_ml(changes: dict[str, float], seed: int = 3) -> float:
    """Return the CSF volume (mL) of a procedural 3D head with ``changes``, on 4.6 mm voxels."""
    head = procedural_head(np.random.default_rng(seed), HeadParameters(**changes, lesion_count=(0, 0)), ndim=3)
    labels = head.label_map((48, 48, 48), 220.0).numpy()
    return float(np.sum(labels == head.label_of("csf"))) * (220.0 / 48) ** 3 / 1000.0


def test_old_head_has_more_csf_than_young():
    young = _csf_volume_ml(age_changes(30.0))
    old_changes = age_changes(80.0)
    old = _csf_volume_ml(old_changes)
    old_without_widening = _csf_volume_ml(dict(old_changes, sulcal_csf_mm=1.2, csf_thickness_mm=3.0))

    # The widths add about 165 mL at these voxels, far above the few mL of voxelisation error.
    assert old > young + 100.0
    # The CSF widening alone, with the ventricles and cortex of age 80, adds CSF.
    assert old > old_without_widening + 100.0


def test_age_changes_reproducible():
    a = age_changes(60.0, np.random.default_rng(5))
    b = age_changes(60.0, np.random.default_rng(5))
    assert a == b
    assert a != age_changes(60.0)


def test_age_out_of_range():
    with pytest.raises(ValueError, match=r"`age_years` must lie in \[18, 95\], got 120"):
        age_changes(120.0)


@pytest.mark.parametrize("load", ["none", "low", "moderate", "high"])
def test_lesions_within_band(load, rng):
    table = load_profile_library().population["lesions"]
    low, high = table["loads"][load]["count"]
    smallest, largest = table["diameter_range_mm"]
    for _ in range(20):
        lesions = draw_lesions(rng, load)
        assert low <= lesions["lesion_count"] <= high
        assert len(lesions["lesion_diameters_mm"]) == lesions["lesion_count"]
        assert all(smallest <= d <= largest for d in lesions["lesion_diameters_mm"])


def test_lesions_unknown_load(rng):
    with pytest.raises(ValueError, match="`load` must be one of"):
        draw_lesions(rng, "extreme")


def test_derive_population_keeps_declared(rng):
    derived = derive_population({"age_years": 70.0, "sex": "female", "region": "head"}, rng)
    assert "sex" not in derived
    assert {"head_length_mm", "cortical_thickness_mm", "ventricle_scale"} <= set(derived)
    assert derive_population({"contrast": "t2"}, rng) == {}


def _water_cylinder_noise(diameter_mm: float, photons: float, rng: np.random.Generator, repeats: int = 4) -> float:
    """Noise (1/mm) at the centre of FBP reconstructions of a water disk with Poisson counts.

    Minimal CT model: monoenergetic parallel-beam line integrals of mu,
    ``photons`` incident per ray, Poisson counts, log transform, ramp-filtered
    backprojection (scikit-image).
    """
    from skimage.transform import iradon, radon

    n, pixel_mm, mu = 96, 2.5, 0.02
    mu_map = np.where(_disk(n, diameter_mm / pixel_mm, 1.0, 0.0) > 0, mu, 0.0)
    angles = np.linspace(0.0, 180.0, 120, endpoint=False)
    line_integrals = radon(mu_map, theta=angles, circle=True) * pixel_mm
    centre = _disk(n, 12.0, 1.0, 0.0) > 0
    variances = []
    for _ in range(repeats):
        counts = rng.poisson(photons * np.exp(-line_integrals))
        noisy = -np.log(np.maximum(counts, 1) / photons)
        noise_image = iradon(noisy - line_integrals, theta=angles, filter_name="ramp", circle=True) / pixel_mm
        variances.append(noise_image[centre].var())
    return float(np.sqrt(np.mean(variances)))


def test_ct_noise_scaling_matches_simulation(rng):
    mu = 0.02
    reference = _water_cylinder_noise(120.0, 2e5, rng)
    larger = _water_cylinder_noise(200.0, 2e5, rng)
    quarter_dose = _water_cylinder_noise(120.0, 5e4, rng)
    predicted_larger = ct_noise_sigma_hu(200.0, 1.0, mu_water_per_mm=mu, reference_sigma_hu=reference,
                                         reference_diameter_mm=120.0, reference_mas=1.0)
    predicted_quarter = ct_noise_sigma_hu(120.0, 0.25, mu_water_per_mm=mu, reference_sigma_hu=reference,
                                          reference_diameter_mm=120.0, reference_mas=1.0)
    # Four reconstructions of ~100 correlated centre pixels estimate each
    # sigma to about 5% (seen over seeds); a ratio of two is checked to 15%.
    assert larger / reference == pytest.approx(predicted_larger / reference, rel=0.15)
    assert quarter_dose / reference == pytest.approx(predicted_quarter / reference, rel=0.15)


@given(diameter=st.floats(50.0, 500.0), mas=st.floats(1.0, 1000.0))
def test_ct_noise_monotone(diameter, mas):
    kwargs = {"mu_water_per_mm": 0.02, "reference_sigma_hu": 10.0, "reference_diameter_mm": 300.0, "reference_mas": 200.0}
    base = ct_noise_sigma_hu(diameter, mas, **kwargs)
    assert ct_noise_sigma_hu(diameter * 1.05, mas, **kwargs) > base
    assert ct_noise_sigma_hu(diameter, mas * 1.05, **kwargs) < base
    assert ct_noise_sigma_hu(diameter, mas * 4, **kwargs) == pytest.approx(base / 2)


def test_ct_noise_bad_input():
    kwargs = {"mu_water_per_mm": 0.02, "reference_sigma_hu": 10.0, "reference_diameter_mm": 300.0, "reference_mas": 200.0}
    with pytest.raises(ValueError, match="`mas` must be > 0, got 0"):
        ct_noise_sigma_hu(300.0, 0.0, **kwargs)
    with pytest.raises(ValueError, match="`water_equivalent_diameter_mm` must be > 0"):
        ct_noise_sigma_hu(-1.0, 10.0, **kwargs)
