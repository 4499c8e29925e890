"""Tissue tables: every value has a source; spot checks against the published values."""

from __future__ import annotations

import numpy as np
import pytest

from medaug.phantoms import (
    hounsfield_units,
    iodine_solution,
    linear_attenuation,
    mass_attenuation,
    mr_field_strengths,
    mr_parameter,
    mr_parameters,
    mr_tissue_names,
    mr_tissue_table,
    xray_material,
    xray_material_names,
    xray_material_table,
)

REQUIRED_TISSUES = {
    "csf", "grey_matter", "white_matter", "fat", "muscle", "skin", "bone_marrow", "blood", "lesion",
}
REQUIRED_MATERIALS = {
    "water", "soft_tissue", "adipose", "cortical_bone", "lung", "air", "blood", "iodine_contrast",
    "titanium",
}


def _entries(tissue: dict) -> list[dict]:
    entries = [tissue["proton_density"]]
    for parameter in ("t1_ms", "t2_ms", "t2star_ms"):
        entries.extend(tissue[parameter].values())
    return entries


def test_mr_table_lists_required_tissues():
    assert REQUIRED_TISSUES <= set(mr_tissue_names())
    assert mr_tissue_names()[0] == "background"


def test_every_mr_value_has_a_known_source():
    table = mr_tissue_table()
    sources = table["sources"]
    for name, tissue in table["tissues"].items():
        for entry in _entries(tissue):
            assert entry["source"] in sources, (name, entry)
            assert entry["status"] in ("published", "estimate"), (name, entry)
            if entry["status"] == "estimate":
                assert entry.get("basis"), (name, entry)
            else:
                assert sources[entry["source"]]["doi"] or sources[entry["source"]].get("pmid")


def test_every_tissue_has_15_and_3_tesla():
    for tissue in REQUIRED_TISSUES:
        for parameter in ("t1_ms", "t2_ms", "t2star_ms"):
            assert {1.5, 3.0} <= set(mr_field_strengths(tissue, parameter)), (tissue, parameter)


@pytest.mark.parametrize(
    ("tissue", "field", "parameter", "published"),
    [
        # Wright et al. 2008, MPRAGE, abstract: WM 646/838/1126 ms, GM 1197/1607/1939 ms.
        ("white_matter", 1.5, "t1_ms", 646.0),
        ("white_matter", 7.0, "t1_ms", 1126.0),
        ("grey_matter", 3.0, "t1_ms", 1607.0),
        # Cox and Gowland 2010, abstract: frontal GM T2 87, 76, 47 ms; WM 80, 71, 47 ms.
        ("grey_matter", 3.0, "t2_ms", 76.0),
        ("white_matter", 7.0, "t2_ms", 47.0),
        # Zhang et al. 2013: venous blood T1 at 7 T, 2087 ms.
        ("blood", 7.0, "t1_ms", 2087.0),
    ],
)
def test_mr_values_match_sources(tissue, field, parameter, published):
    assert mr_parameter(tissue, parameter, field) == published


def test_mr_t1_is_not_brainweb():
    # BrainWeb's simulator uses WM T1 = 500 ms and GM T1 = 833 ms at 1.5 T;
    # modern in vivo measurements are far longer.
    assert mr_parameters("white_matter", 1.5)["t1_ms"] > 600.0
    assert mr_parameters("grey_matter", 1.5)["t1_ms"] > 1000.0


def test_mr_unavailable_field_raises_with_fields():
    with pytest.raises(ValueError, match=r"not tabulated at 0.55 T; available: 1.5 T, 3 T, 7 T"):
        mr_parameters("white_matter", 0.55)


def test_mr_unknown_tissue_raises():
    with pytest.raises(ValueError, match="unknown tissue 'liver'"):
        mr_parameters("liver", 3.0)


def test_background_has_no_relaxation():
    values = mr_parameters("background", 3.0)
    assert values["proton_density"] == 0.0
    assert values["t1_ms"] is None


def test_xray_table_lists_required_materials():
    assert REQUIRED_MATERIALS <= set(xray_material_names())


def test_every_material_has_source_and_unit_fractions():
    table = xray_material_table()
    for name in table["materials"]:
        entry = table["materials"][name]
        assert entry["source"] in table["sources"], name
        material = xray_material(name)
        assert sum(w for _, w in material.composition) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    ("material", "energy_kev", "nist"),
    [
        # NIST SRD 126, "Water, Liquid": mu/rho with coherent scattering, cm^2/g.
        ("water", 40.0, 0.2683),
        ("water", 60.0, 0.2059),
        ("water", 100.0, 0.1707),
        # NIST SRD 126, "Air, Dry (near sea level)".
        ("air", 60.0, 0.1875),
    ],
)
def test_mass_attenuation_matches_nist(material, energy_kev, nist):
    # xraydb's Elam tables and NIST's XCOM differ by well under 0.5 % here.
    assert mass_attenuation(material, energy_kev) == pytest.approx(nist, rel=5e-3)


def test_hounsfield_of_water_and_air():
    for energy in (40.0, 70.0, 120.0):
        assert hounsfield_units(linear_attenuation("water", energy), energy) == pytest.approx(0.0)
        assert hounsfield_units(linear_attenuation("air", energy), energy) == pytest.approx(-1000.0)


def test_hounsfield_of_tissues_are_plausible():
    energy = 70.0
    bone = hounsfield_units(linear_attenuation("cortical_bone", energy), energy)
    fat = hounsfield_units(linear_attenuation("adipose", energy), energy)
    lung = hounsfield_units(linear_attenuation("lung", energy), energy)
    # Clinical ranges: cortical bone above +1000 HU, fat about -100 to -50 HU,
    # inflated lung about -900 to -600 HU.
    assert bone > 1000.0
    assert -150.0 < fat < -30.0
    assert -900.0 < lung < -600.0


def test_iodine_raises_attenuation_most_above_k_edge():
    plain = iodine_solution(0.0)
    contrast = iodine_solution(10.0)
    below, above = 33.0, 34.0  # the iodine K edge is at 33.17 keV
    gain_below = linear_attenuation(contrast, below) / linear_attenuation(plain, below)
    gain_above = linear_attenuation(contrast, above) / linear_attenuation(plain, above)
    assert gain_above > gain_below > 1.0


def test_iodine_table_entry_matches_builder():
    energies = np.array([50.0, 80.0])
    table = linear_attenuation("iodine_contrast", energies)
    built = linear_attenuation(iodine_solution(10.0), energies)
    np.testing.assert_allclose(table, built, rtol=1e-5)


def test_bad_energy_and_material():
    with pytest.raises(ValueError, match="`energy_kev` must be finite and > 0 keV"):
        mass_attenuation("water", -5.0)
    with pytest.raises(ValueError, match="unknown X-ray material 'unobtainium'"):
        xray_material("unobtainium")
    with pytest.raises(ValueError, match="`concentration_mg_per_ml` must be >= 0"):
        iodine_solution(-1.0)
