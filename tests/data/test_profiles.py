"""Tests for medaug.data.profiles: sourced profile values, SNR scaling, kernels, bad profiles."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from medaug.data.profiles import (
    GYROMAGNETIC_RATIO_MHZ_PER_T,
    ContrastProfile,
    ProfilesConfig,
    classify_contrast,
    flair_null_inversion_time_ms,
    kernel_frequency_response,
    load_profile_library,
    relative_snr,
)


@pytest.fixture(scope="module")
def library():
    return load_profile_library()


def test_every_profile_names_a_listed_reference(library):
    entries = [
        *[(p.source, library.mri.references) for p in library.mri.field_strengths],
        *[(p.source, library.mri.references) for p in library.mri.coils.values()],
        *[(p.source, library.mri.references) for p in library.mri.contrasts.values()],
        *[(p.source, library.ct.references) for p in library.ct.kernels.values()],
        *[(p.source, library.ct.references) for p in library.ct.dose.values()],
    ]
    for source, references in entries:
        assert source in references
        assert references[source].citation
    for key in ("head", "body", "aging", "lesions"):
        section = library.population[key]
        sources = [v for k, v in section.items() if k.endswith("source")]
        assert sources
        for source in sources:
            assert library.reference(source).citation


def test_reference_dois_are_well_formed(library):
    # A DOI is "10.", a registrant code of 4-9 digits, "/" and a suffix without spaces.
    keys = [*library.mri.references, *library.ct.references, *library.population["references"]]
    dois = {key: library.reference(key).doi for key in keys}
    assert any(dois.values())
    for key, doi in dois.items():
        if doi is not None:
            assert re.fullmatch(r"10\.\d{4,9}/\S+", doi), f"{key}: {doi!r}"


def test_required_field_strengths(library):
    assert library.field_strengths_t == (0.55, 1.5, 3.0, 7.0)


def test_larmor_frequency_matches_gyromagnetic_ratio(library):
    for profile in library.mri.field_strengths:
        # Rounded to 0.01 MHz in the YAML file.
        assert profile.larmor_mhz == pytest.approx(GYROMAGNETIC_RATIO_MHZ_PER_T * profile.field_strength_t, abs=0.01)


def test_coils_span_8_to_64_channels_both_geometries(library):
    channels = {coil.channels for coil in library.mri.coils.values()}
    geometries = {coil.geometry for coil in library.mri.coils.values()}
    assert min(channels) == 8
    assert max(channels) == 64
    assert geometries == {"head", "body"}


@pytest.mark.parametrize(
    ("tr_ms", "te_ms", "ti_ms", "flip_deg"),
    [
        (2300.0, 2.98, 900.0, 9.0),  # ADNI 3 T MPRAGE, Siemens protocol
        (2400.0, 3.6, 1000.0, 8.0),  # ADNI 1.5 T MPRAGE, Siemens protocol
    ],
)
def test_adni_mprage_lies_in_t1_ir_gre(library, tr_ms, te_ms, ti_ms, flip_deg):
    profile = library.mri.contrasts["t1_ir_gre"]
    assert classify_contrast(tr_ms, te_ms, ti_ms) == "t1_ir_gre"
    assert profile.flip_deg[0] <= flip_deg <= profile.flip_deg[1]


def test_flair_ti_range_contains_csf_null(library):
    flair = library.mri.contrasts["flair"]
    # CSF T1 is close to that of pure water at body temperature, about 3.5-4.5 s at 1.5-3 T.
    for t1_csf in (3500.0, 4500.0):
        for tr in flair.tr_ms:
            null = flair_null_inversion_time_ms(t1_csf, tr)
            assert flair.ti_ms[0] <= null <= flair.ti_ms[1]


def test_flair_null_closed_form():
    # Mz(TI) = M0 (1 - 2 exp(-TI/T1) + exp(-TR/T1)) must vanish at the returned TI.
    t1, tr = 4000.0, 9000.0
    ti = flair_null_inversion_time_ms(t1, tr)
    assert 1 - 2 * math.exp(-ti / t1) + math.exp(-tr / t1) == pytest.approx(0.0, abs=1e-12)


def test_inversion_times_below_repetition_times(library):
    for profile in library.mri.contrasts.values():
        assert profile.te_ms[1] < profile.tr_ms[0]
        if profile.ti_ms is not None:
            assert profile.ti_ms[1] < profile.tr_ms[0]


def test_ct_tube_voltages_cover_70_to_140(library):
    values = library.ct.tube_voltage_kvp.values
    assert min(values) == 70.0
    assert max(values) == 140.0


def test_ct_dose_maxima_are_acr_reference_values(library):
    # ACR CT accreditation reference CTDIvol: adult head 75 mGy, adult abdomen 25 mGy.
    assert library.ct.dose["head"].ctdivol_mgy[1] == 75.0
    assert library.ct.dose["body"].ctdivol_mgy[1] == 25.0


def test_kernel_responses_closed_forms():
    x = np.array([0.0, 0.5, 1.0, 1.5])
    # Closed forms of |x| W(x) at x = 0, 1/2, 1 and beyond the cut-off.
    expected = {
        "ram_lak": [0.0, 0.5, 1.0, 0.0],
        "shepp_logan": [0.0, 0.5 * math.sin(math.pi / 4) / (math.pi / 4), 2 / math.pi, 0.0],
        "cosine": [0.0, 0.5 * math.cos(math.pi / 4), 0.0, 0.0],
        "hann": [0.0, 0.25, 0.0, 0.0],
    }
    for kernel, values in expected.items():
        np.testing.assert_allclose(kernel_frequency_response(kernel, x), values, atol=1e-12)


def test_kernel_rank_orders_mid_frequency_response(library):
    ranked = sorted(library.ct.kernels, key=lambda k: library.ct.kernels[k].sharpness_rank)
    responses = [float(kernel_frequency_response(k, [0.5])[0]) for k in ranked]
    assert responses == sorted(responses)
    assert len(set(responses)) == len(responses)


def test_kernel_unknown_name():
    with pytest.raises(ValueError, match="`kernel` must be one of"):
        kernel_frequency_response("b30f", [0.1])


def _sense_snr(field_t: float, rate: int, rng: np.random.Generator, replicas: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Simulate SENSE with 4 coils; return per-pixel SNR map and the analytic g-factor map.

    Signal voltage scales as B0^2 (magnetisation x Larmor frequency) and
    body noise as B0 (Hoult and Lauterbur 1979). k-space is sampled on a
    unitary DFT grid, every ``rate``-th phase-encoding line kept, with
    i.i.d. complex Gaussian noise per sample; SENSE unfolds each aliased
    pixel by least squares (Pruessmann et al. 1999).
    """
    n = 32
    y, x = np.mgrid[0:n, 0:n] / n - 0.5
    image = (x**2 + y**2 < 0.16).astype(float) * (1.0 + 0.5 * x)
    centres = [(-0.6, 0.0), (0.6, 0.0), (0.0, -0.6), (0.0, 0.6)]
    coils = np.stack([np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 0.3) * np.exp(1j * np.pi * (cx + cy)) for cx, cy in centres])
    signal_scale, noise_sigma = field_t**2, field_t

    kspace = np.fft.fft(coils * image * signal_scale, axis=1, norm="ortho")[:, ::rate, :]
    noise = noise_sigma * (rng.standard_normal((replicas, *kspace.shape)) + 1j * rng.standard_normal((replicas, *kspace.shape))) / np.sqrt(2)
    aliased = np.fft.ifft(kspace + noise, axis=2, norm="ortho")  # rows: (replica, coil, ky/R, x)

    rows = n // rate
    recon = np.zeros((replicas, n, n), dtype=complex)
    g_map = np.ones((n, n))
    for row in range(rows):
        for column in range(n):
            sens = coils[:, row::rows, column]  # (coils, R): the pixels folded onto this one
            gram = sens.conj().T @ sens
            unfold = np.sqrt(rate) * np.linalg.solve(gram, sens.conj().T)
            recon[:, row::rows, column] = (unfold @ aliased[:, :, row, column].T).T
            g_map[row::rows, column] = np.sqrt(np.real(np.diag(np.linalg.inv(gram)) * np.diag(gram)))
    snr = np.abs(recon.mean(axis=0)) / recon.std(axis=0)
    return snr, g_map


def test_snr_scales_with_field_and_acceleration(rng):
    inside = np.zeros((32, 32), dtype=bool)
    inside[10:22, 10:22] = True
    snr = {}
    for field in (0.55, 1.5, 3.0, 7.0):
        snr[field, 1], _ = _sense_snr(field, 1, rng)
    snr[3.0, 2], g_map = _sense_snr(3.0, 2, rng)

    # 300 replicas give a per-pixel noise std with ~4% error; averaging the
    # ratio over 144 pixels brings it to well under 5%.
    reference = snr[1.5, 1][inside]
    for field in (0.55, 3.0, 7.0):
        measured = np.median(snr[field, 1][inside] / reference)
        assert measured == pytest.approx(relative_snr(field, 1.0), rel=0.05)
    measured = snr[3.0, 2][inside] / snr[3.0, 1][inside]
    predicted = relative_snr(3.0, 2.0, g_factor=g_map[inside]) / relative_snr(3.0, 1.0)
    assert np.median(measured / predicted) == pytest.approx(1.0, rel=0.05)
    assert np.all(g_map >= 1.0 - 1e-9)


@given(
    field=st.floats(0.1, 11.7),
    rate=st.floats(1.0, 8.0),
    g=st.floats(1.0, 3.0),
)
def test_relative_snr_monotone(field, rate, g):
    base = relative_snr(field, rate, g_factor=g)
    assert relative_snr(field * 1.1, rate, g_factor=g) > base
    assert relative_snr(field, rate * 1.1, g_factor=g) < base
    assert relative_snr(field, rate, g_factor=g * 1.1) < base


def test_relative_snr_matches_physics_protocols():
    from medaug.physics.mri import AcquisitionProtocol
    from medaug.physics.mri import relative_snr as protocol_snr

    reference = AcquisitionProtocol(1.5, 1.0, 240.0)
    protocol = AcquisitionProtocol(3.0, 2.0, 240.0, acceleration=4.0, g_factor=1.3)
    # Both evaluate the same float64 formula in a different order.
    assert relative_snr(3.0, 4.0, g_factor=1.3, voxel_volume_ratio=2.0) == pytest.approx(
        protocol_snr(protocol, reference), rel=1e-14
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"field_strength_t": 0.0}, "`field_strength_t` must be > 0 T, got 0.0"),
        ({"field_strength_t": 3.0, "acceleration": 0.5}, "`acceleration` must be >= 1, got 0.5"),
        ({"field_strength_t": 3.0, "g_factor": 0.9}, "`g_factor` must be >= 1, got 0.9"),
        ({"field_strength_t": 3.0, "voxel_volume_ratio": 0.0}, "`voxel_volume_ratio` must be > 0, got 0.0"),
        ({"field_strength_t": 3.0, "reference_field_t": -1.0}, "`reference_field_t` must be > 0 T, got -1.0"),
    ],
)
def test_relative_snr_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        relative_snr(**kwargs)


def test_unknown_field_strength_names_key():
    with pytest.raises(ValidationError, match=r"field_strengths_t\n.*item 1: unknown field strength 2.0 T"):
        ProfilesConfig.model_validate({"field_strengths_t": [1.5, 2.0]})


def test_te_longer_than_tr_names_key():
    with pytest.raises(ValidationError, match=r"`contrasts.t2.te_ms`: TE must be shorter than TR"):
        ProfilesConfig.model_validate({"contrasts": {"t2": {"tr_ms": [50, 100]}}})


def test_ti_longer_than_tr_names_key():
    with pytest.raises(ValidationError, match=r"`contrasts.flair.ti_ms`: TI must be shorter than TR"):
        ProfilesConfig.model_validate({"contrasts": {"flair": {"ti_ms": [5000, 7000]}}})


def test_inversion_recovery_needs_ti():
    flair = load_profile_library().mri.contrasts["flair"].model_dump()
    flair["ti_ms"] = None
    with pytest.raises(ValidationError, match="needs a `ti_ms` range"):
        ContrastProfile.model_validate(flair)


def test_unknown_coil_names_key():
    with pytest.raises(ValidationError, match=r"coils\n.*item 0: unknown coil 'head_96'"):
        ProfilesConfig.model_validate({"coils": ["head_96"]})


def test_reversed_range_rejected():
    with pytest.raises(ValidationError, match=r"(?s)contrasts.t2.flip_deg.*min <= max"):
        ProfilesConfig.model_validate({"contrasts": {"t2": {"flip_deg": [90, 10]}}})


def test_profiles_config_restricts_and_overrides():
    resolved = ProfilesConfig(field_strengths_t=(1.5, 3.0), coils=("head_32",), contrasts={"t2": {"te_ms": [90, 110]}}).resolve()
    assert resolved.field_strengths_t == (1.5, 3.0)
    assert list(resolved.mri.coils) == ["head_32"]
    assert resolved.mri.contrasts["t2"].te_ms == (90.0, 110.0)
    assert resolved.mri.contrasts["t2"].tr_ms == load_profile_library().mri.contrasts["t2"].tr_ms


def test_classify_contrast_no_match():
    assert classify_contrast(4000.0, 240.0) is None
    assert classify_contrast(None, 10.0) is None


def test_flair_nulls_tissue_table_csf(library):
    tissues = pytest.importorskip("medaug.phantoms.tissues")
    flair = library.mri.contrasts["flair"]
    fields = tissues.mr_field_strengths("csf", "t1_ms")
    assert fields
    for field in fields:
        t1_csf = tissues.mr_parameter("csf", "t1_ms", field)
        for tr in flair.tr_ms:
            null = flair_null_inversion_time_ms(t1_csf, tr)
            assert flair.ti_ms[0] <= null <= flair.ti_ms[1]


def test_tissue_table_fields_are_profile_fields(library):
    tissues = pytest.importorskip("medaug.phantoms.tissues")
    for tissue in ("grey_matter", "white_matter", "csf"):
        for field in tissues.mr_field_strengths(tissue, "t1_ms"):
            assert field in library.field_strengths_t
