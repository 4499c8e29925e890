"""Each sampled factor changes the simulated data as its physics predicts."""

import math

import numpy as np
import pytest
import torch

from medaug.core.fields import Image
from medaug.core.sample import Sample
from medaug.data.config import parse_config
from medaug.data.errors import ConfigError
from medaug.data.pipeline import Pipeline
from medaug.data.steps import factors as factor_rules

pytest.importorskip("medaug.phantoms.generators.head")

from medaug.phantoms import mr_parameters  # noqa: E402
from medaug.phantoms.generators.head import HEAD_LABELS  # noqa: E402


def head_source(contrast, shape=(96, 96), **options):
    data = {"seed": 0, "source": {"type": "phantom", "generator": "procedural_head", "shape": list(shape),
                                  "fov_mm": 240, "contrast": contrast, **options}}
    return parse_config(data).source


def make(source, factors, seed=3):
    return source.make(np.random.default_rng(seed), 0, factors)


def tissue_value(sample, tissue):
    """Median image value over a tissue's interior voxels (whose 3 x 3 neighbours share the label).

    Interior voxels are filled by the tissue alone, so they carry its
    signal without partial volume.
    """
    from scipy.ndimage import binary_erosion

    mask = binary_erosion((sample["label"].data[0] == HEAD_LABELS.index(tissue)).numpy())
    assert mask.any(), f"no interior {tissue} voxel"
    return float(sample["image"].data[0][torch.from_numpy(mask)].median())


def tissue_count(sample, tissue):
    return int((sample["label"].data[0] == HEAD_LABELS.index(tissue)).sum())


# Closed-form signal equations evaluated independently of the code under test.
def spin_echo(p, tr, te):
    return p["proton_density"] * (1 - math.exp(-tr / p["t1_ms"])) * math.exp(-te / p["t2_ms"])


def inversion_recovery(p, tr, te, ti, decay="t2_ms"):
    return p["proton_density"] * abs(1 - 2 * math.exp(-ti / p["t1_ms"]) + math.exp(-tr / p["t1_ms"])) \
        * math.exp(-te / p[decay])


def flash(p, tr, te, flip_deg):
    e1, a = math.exp(-tr / p["t1_ms"]), math.radians(flip_deg)
    return p["proton_density"] * math.sin(a) * (1 - e1) / (1 - math.cos(a) * e1) * math.exp(-te / p["t2star_ms"])


# Float32 signal maps against float64 closed forms: 1e-5 relative.
REL = 1e-5


@pytest.mark.parametrize("field", [1.5, 3.0])
def test_field_strength_sets_relaxation_times(field):
    sample = make(head_source({"type": "spin_echo", "tr_ms": 500, "te_ms": 15}), {"field_strength_t": field})
    expected = spin_echo(mr_parameters("white_matter", field), 500, 15)
    assert tissue_value(sample, "white_matter") == pytest.approx(expected, rel=REL)


def test_higher_field_darkens_white_matter_on_t1_weighting():
    # T1 grows with B0, so a short-TR spin echo recovers less white-matter magnetisation at 3 T.
    source = head_source({"type": "spin_echo", "tr_ms": 500, "te_ms": 15})
    low, high = (tissue_value(make(source, {"field_strength_t": b}), "white_matter") for b in (1.5, 3.0))
    assert high < low


def test_sampled_field_reaches_phantom_through_pipeline():
    config = {"seed": 4, "source": {"type": "phantom", "shape": [48, 48], "fov_mm": 240,
                                    "contrast": {"type": "spin_echo", "tr_ms": 500, "te_ms": 15}},
              "sampling": {"factors": {"field_strength_t": {"choices": [1.5]}}}}
    sample = Pipeline.from_config(parse_config(config))(0)
    assert sample.metadata["factors"]["field_strength_t"] == 1.5
    expected = spin_echo(mr_parameters("white_matter", 1.5), 500, 15)
    assert tissue_value(sample, "white_matter") == pytest.approx(expected, rel=REL)


def test_flair_contrast_nulls_csf():
    factors = {"contrast": "flair", "sequence": "inversion_recovery_spin_echo",
               "tr_ms": 9000.0, "te_ms": 100.0, "ti_ms": 2500.0}
    sample = make(head_source({"type": "spin_echo"}), factors)
    csf = mr_parameters("csf", 3.0)
    assert tissue_value(sample, "csf") == pytest.approx(inversion_recovery(csf, 9000, 100, 2500), rel=REL)
    assert tissue_value(sample, "csf") < tissue_value(sample, "white_matter")


def test_t2_contrast_makes_csf_bright():
    factors = {"contrast": "t2", "sequence": "fast_spin_echo", "tr_ms": 4000.0, "te_ms": 100.0}
    sample = make(head_source({"type": "spin_echo"}), factors)
    assert tissue_value(sample, "csf") == pytest.approx(spin_echo(mr_parameters("csf", 3.0), 4000, 100), rel=REL)
    assert tissue_value(sample, "csf") > tissue_value(sample, "white_matter")


def test_mprage_contrast_orders_tissues():
    factors = {"contrast": "t1_ir_gre", "sequence": "inversion_recovery_gradient_echo",
               "tr_ms": 2300.0, "te_ms": 3.0, "ti_ms": 900.0, "flip_deg": 9.0}
    sample = make(head_source({"type": "spin_echo"}), factors)
    # The cortex is thinner than 3 pixels, so grey matter is compared by its median over all its voxels.
    grey = float(sample["image"].data[0][sample["label"].data[0] == HEAD_LABELS.index("grey_matter")].median())
    assert tissue_value(sample, "white_matter") > grey > tissue_value(sample, "csf")
    wm = mr_parameters("white_matter", 3.0)
    expected = inversion_recovery(wm, 2300, 3, 900, "t2star_ms")
    assert tissue_value(sample, "white_matter") == pytest.approx(expected, rel=REL)


@pytest.mark.parametrize("timing", [{"tr_ms": 30.0, "te_ms": 5.0, "flip_deg": 10.0},
                                    {"tr_ms": 30.0, "te_ms": 5.0, "flip_deg": 40.0},
                                    {"tr_ms": 60.0, "te_ms": 12.0, "flip_deg": 25.0}])
def test_timing_factors_follow_flash_equation(timing):
    sample = make(head_source({"type": "gradient_echo"}), timing)
    expected = flash(mr_parameters("white_matter", 3.0), timing["tr_ms"], timing["te_ms"], timing["flip_deg"])
    assert tissue_value(sample, "white_matter") == pytest.approx(expected, rel=REL)


def test_inversion_time_factor_moves_null_point():
    # TI = T1 (ln 2 - ln(1 + exp(-TR/T1))) nulls a tissue; at that TI white matter is near 0.
    wm = mr_parameters("white_matter", 3.0)
    null_ti = wm["t1_ms"] * (math.log(2) - math.log(1 + math.exp(-5000 / wm["t1_ms"])))
    source = head_source({"type": "inversion_recovery", "tr_ms": 5000, "te_ms": 10, "ti_ms": 100})
    nulled = make(source, {"ti_ms": null_ti})
    assert tissue_value(nulled, "white_matter") == pytest.approx(0.0, abs=1e-5)
    assert tissue_value(make(source, {}), "white_matter") > 0.1


def test_kvp_lowers_bone_hounsfield():
    # Bone attenuation falls faster with energy than water's (photoelectric effect), so its HU drop.
    source = head_source({"type": "hounsfield"})
    low, high = (tissue_value(make(source, {"kvp": kvp}), "cortical_bone") for kvp in (80.0, 140.0))
    assert low > high > 500


def test_head_size_factors_scale_head_area():
    source = head_source({"type": "none"})
    small = make(source, {"head_breadth_mm": 140.0, "head_length_mm": 180.0})
    large = make(source, {"head_breadth_mm": 170.0, "head_length_mm": 215.0})
    area = [int((s["label"].data > 0).sum()) for s in (small, large)]
    # The head's area grows as breadth x length; pixelation of the outline costs under 3 %.
    assert area[1] / area[0] == pytest.approx((170 * 215) / (140 * 180), rel=0.03)


def test_ageing_factors_enlarge_ventricles_and_thin_cortex():
    source = head_source({"type": "none"})
    young = make(source, {"ventricle_scale": 1.0, "cortical_thickness_mm": 3.0})
    old = make(source, {"ventricle_scale": 1.6, "cortical_thickness_mm": 2.0})
    assert tissue_count(old, "csf") > tissue_count(young, "csf")
    assert tissue_count(old, "grey_matter") < tissue_count(young, "grey_matter")


def test_sulcal_widening_factors_add_csf():
    source = head_source({"type": "none"})
    young = make(source, {"sulcal_csf_mm": 1.2, "csf_thickness_mm": 3.0})
    old = make(source, {"sulcal_csf_mm": 2.4, "csf_thickness_mm": 4.5})
    assert tissue_count(old, "csf") > tissue_count(young, "csf")
    assert tissue_count(old, "grey_matter") < tissue_count(young, "grey_matter")


def test_lesion_factors_set_lesion_count():
    source = head_source({"type": "none"})
    lesion = HEAD_LABELS.index("lesion")
    clean = make(source, {"lesion_count": 0})
    loaded = make(source, {"lesion_count": 6, "lesion_diameters_mm": [10.0, 12.0, 14.0]})
    assert int((clean["label"].data == lesion).sum()) == 0
    assert int((loaded["label"].data == lesion).sum()) > 0


def test_lesion_factors_fix_count_and_radii():
    from medaug.phantoms import HeadParameters

    parameters = factor_rules.head_parameters({"lesion_count": 3, "lesion_diameters_mm": [6.0, 10.0, 8.0]},
                                              HeadParameters())
    assert parameters.lesion_count == (3, 3)
    assert parameters.lesion_radius_mm == (3.0, 5.0)


def test_water_equivalent_diameter_sizes_ellipses():
    data = {"seed": 0, "source": {"type": "phantom", "generator": "random_ellipses", "shape": [64, 64],
                                  "fov_mm": 400}}
    source = parse_config(data).source
    areas = [int((make(source, {"water_equivalent_diameter_mm": d})["image"].data > 0).sum()) for d in (200, 300)]
    # Every ellipse scales with the radius, so the support grows as its square (pixelation: 5 %).
    assert areas[1] / areas[0] == pytest.approx(1.5**2, rel=0.05)


# MRI step ---------------------------------------------------------------------------------------


def mri_step(**options):
    data = {"seed": 0, "source": {"type": "shapes", "shape": [32, 32], "num_shapes": 1},
            "simulation": [{"type": "mri", "coils": 4, "mask": None, **options}]}
    return parse_config(data).simulation[0]


def disc_sample(factors):
    y, x = np.mgrid[:32, :32] - 15.5
    image = np.where(np.hypot(y, x) < 11, 1.0, 0.0).astype(np.float32)
    return Sample({"image": Image(image[None])}, metadata={"factors": factors})


def test_higher_field_gives_higher_mri_snr():
    step = mri_step(noise={"snr": 20, "reference_field_strength_t": 3.0})
    noise = {}
    for field in (1.5, 3.0):
        noisy = step.simulate(disc_sample({"field_strength_t": field}), np.random.default_rng(0))
        clean = mri_step().simulate(disc_sample({}), np.random.default_rng(0))
        noise[field] = float((noisy["kspace"].data - clean["kspace"].data).real.std())
        assert noisy.history[-1].parameters["snr"] == pytest.approx(20 * field / 3.0)
    # SNR is proportional to B0: half the field doubles the noise (4 coils x 1024 samples: ~2 % error).
    assert noise[1.5] / noise[3.0] == pytest.approx(2.0, rel=0.08)


def test_snr_and_coil_factors_override_options():
    out = mri_step(noise={"snr": 20}).simulate(disc_sample({"snr": 5.0, "coil_channels": 2}),
                                                 np.random.default_rng(0))
    # The disc's mean over its support is 1, so sigma = 1 / SNR.
    assert out.history[-1].parameters["sigma"] == pytest.approx(1 / 5.0, rel=1e-6)
    assert out["kspace"].data.shape[0] == 2


def test_acceleration_factor_sets_sampled_fraction():
    step = mri_step(mask={"type": "random_lines", "acceleration": 2, "center_fraction": 0.1})
    out = step.simulate(disc_sample({"acceleration": 4.0}), np.random.default_rng(0))
    mask = out["kspace"].mask
    # Line masks hold round(W / R) columns of 32, within the 5 % tolerance plus one line.
    assert float(mask.float().mean()) == pytest.approx(1 / 4, abs=0.05)


# CT step ----------------------------------------------------------------------------------------


def ct_step(**options):
    data = {"seed": 0, "source": {"type": "shapes", "shape": [32, 32]},
            "simulation": [{"type": "ct", "views": 90, "i0": 2e4, **options}]}
    return parse_config(data).simulation[0]


def water_disc(radius=0.35, size=32, factors=None):
    y, x = np.mgrid[:size, :size] - size / 2 + 0.5
    image = np.where(np.hypot(y, x) < size * radius, 0.0, -1000.0).astype(np.float32)
    return Sample({"image": Image(image[None])}, metadata={"factors": factors or {}})


def ct_noise(step, sample, seed=1):
    out = step.simulate(sample, np.random.default_rng(seed))
    return float((out["low_dose"].data - out["reference"].data)[0, 12:20, 12:20].std()), out


def test_sharper_kernel_raises_ct_noise():
    smooth, _ = ct_noise(ct_step(), water_disc(factors={"kernel": "hann"}))
    sharp, out = ct_noise(ct_step(), water_disc(factors={"kernel": "ram_lak"}))
    assert out.history[-1].parameters["filter"] == "ramp"
    assert sharp > 1.3 * smooth


def test_mas_factor_scales_ct_noise():
    step = ct_step(reference_mas=100.0)
    low, _ = ct_noise(step, water_disc(factors={"mas": 50.0}))
    high, out = ct_noise(step, water_disc(factors={"mas": 800.0}))
    assert out.history[-1].parameters["i0"] == pytest.approx(2e4 * 8)
    # Noise falls as 1/sqrt(mAs): 16 times the mAs gives a quarter; 64 central pixels give ~15 % error.
    assert low / high == pytest.approx(4.0, rel=0.35)


def test_ctdivol_factor_scales_photons():
    _, out = ct_noise(ct_step(reference_ctdivol_mgy=50.0), water_disc(factors={"ctdivol_mgy": 25.0}))
    assert out.history[-1].parameters["i0"] == pytest.approx(1e4)


def test_kvp_factor_sets_water_attenuation():
    _, out = ct_noise(ct_step(), water_disc(factors={"kvp": 120.0}))
    energy = factor_rules.effective_energy_kev(120.0)
    assert 55 < energy < 75
    assert out.history[-1].parameters["mu_water_per_cm"] == pytest.approx(factor_rules.mu_water_per_cm(energy))


def test_larger_patient_raises_ct_noise():
    # Photons through the centre fall as exp(-mu D): a larger head leaves fewer, so more noise.
    source = head_source({"type": "hounsfield"}, shape=(64, 64))
    step = parse_config({"seed": 0, "source": {"type": "shapes", "shape": [64, 64]},
                         "simulation": [{"type": "ct", "views": 90, "i0": 5e3}]}).simulation[0]
    noise = []
    for breadth, length in ((130.0, 160.0), (175.0, 220.0)):
        sample = make(source, {"head_breadth_mm": breadth, "head_length_mm": length})
        out = step.simulate(sample, np.random.default_rng(2))
        noise.append(float((out["low_dose"].data - out["reference"].data)[0, 26:38, 26:38].std()))
    assert noise[1] > 1.2 * noise[0]


# Config-time checks -----------------------------------------------------------------------------


def sampled_config(factors, **source):
    return {"seed": 0, "source": {"type": "phantom", "shape": [32, 32], "fov_mm": 240,
                                  "contrast": {"type": "spin_echo"}, **source},
            "sampling": {"factors": factors}}


def test_7t_with_head_tissues_names_key():
    with pytest.raises(ConfigError, match=r"`sampling.factors.field_strength_t.choices\[1\]`: the tissue table "
                                          r"has no skin t1_ms.* at 7 T"):
        parse_config(sampled_config({"field_strength_t": {"choices": [3.0, 7.0]}}))


def test_7t_contrast_option_names_key():
    config = sampled_config({})
    config["source"]["contrast"]["field_strength_t"] = 7.0
    with pytest.raises(ConfigError, match=r"`source.contrast.field_strength_t`: the tissue table has no skin"):
        parse_config(config)


def test_7t_label_only_phantom_is_accepted():
    config = sampled_config({"field_strength_t": {"choices": [7.0]}}, contrast={"type": "none"})
    assert parse_config(config).sampling.factors["field_strength_t"].choices == (7.0,)


def test_body_region_rejected_for_head():
    with pytest.raises(ConfigError, match=r"`sampling.factors.region.choices`: region 'body'"):
        parse_config(sampled_config({"region": {"choices": ["head", "body"]}}))


def test_sampled_contrast_needs_mr_image():
    with pytest.raises(ConfigError, match=r"`source.contrast.type`: a sampled `contrast` needs an MR contrast"):
        parse_config(sampled_config({"contrast": {"choices": ["t2"]}}, contrast={"type": "hounsfield"}))


def test_mas_factor_needs_reference():
    config = {"seed": 0, "source": {"type": "shapes", "shape": [16, 16]},
              "simulation": [{"type": "ct", "views": 30}],
              "sampling": {"factors": {"mas": {"range": [100, 400]}}}}
    with pytest.raises(ConfigError, match=r"`simulation\[0\].reference_mas`: is required when the sampling draws"):
        parse_config(config)


def test_protocol_rejects_te_above_tr():
    with pytest.raises(ValueError, match="TE must not exceed TR, got te_ms=90 and tr_ms=50"):
        factor_rules.mr_protocol("spin_echo", tr_ms=500, te_ms=15, ti_ms=None, flip_angle_deg=90,
                                 factors={"tr_ms": 50.0, "te_ms": 90.0})


def test_head_parameters_from_yaml_mapping():
    source = head_source({"type": "none"}, options={"parameters": {"ventricle_scale": 1.6}})
    default = head_source({"type": "none"})
    assert tissue_count(make(source, {}), "csf") > tissue_count(make(default, {}), "csf")
