import math

import hypothesis.strategies as st
import pytest
import torch
from hypothesis import given, settings

from medaug.physics.mri.artifacts import (
    bias_field_terms,
    kspace_spikes,
    nyquist_ghosting,
    partial_fourier,
    polynomial_bias_field,
    readout_off_resonance,
    truncate_kspace,
)
from medaug.physics.mri.fft import fftnc, ifftnc


def _random(shape, seed, dtype=torch.complex128):
    return torch.randn(shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def _disc(n=32, radius=6):
    y, x = torch.meshgrid(torch.arange(n) - n // 2, torch.arange(n) - n // 2, indexing="ij")
    return ((y**2 + x**2) <= radius**2).to(torch.complex128)


def test_artifacts_identity_at_zero_strength():
    k = _random((2, 16, 15), 0)
    assert nyquist_ghosting(k, phase_deg=0.0) is k
    assert torch.equal(kspace_spikes(k, torch.tensor([[1, 2]]), torch.zeros(1, dtype=torch.complex128)), k)
    assert truncate_kspace(k, 1.0) is k
    assert partial_fourier(k, 1.0) is k
    image = _random((16, 15), 1)
    assert torch.equal(readout_off_resonance(image, torch.zeros(16, 15), dwell_time_ms=0.01), fftnc(image))
    assert torch.equal(polynomial_bias_field((4, 5), torch.zeros(5), order=2), torch.ones(4, 5))


def test_nyquist_ghost_has_closed_form_amplitude():
    image = _disc()
    phase = 40.0
    ghosted = ifftnc(nyquist_ghosting(fftnc(image), phase_deg=phase, phase_axis=-2))
    # Rolling by N/2 brings the ghost to the centre rows and the object to the edges.
    ghost = ghosted.roll(16, dims=-2)
    # Odd lines times e^{i phi}: the image is (1 + e^{i phi})/2 x plus a
    # half-FOV copy weighted (1 - e^{i phi})/2, whose magnitude is |sin(phi/2)|.
    ratio = float(ghost[10:23].abs().max() / image.abs().max())
    assert ratio == pytest.approx(abs(math.sin(math.radians(phase) / 2)), rel=1e-9)


def test_spike_adds_a_plane_wave():
    k = fftnc(_disc())
    spiky = kspace_spikes(k, torch.tensor([[16, 20]]), torch.tensor([0.5 + 0j]))
    difference = spiky - k
    assert torch.count_nonzero(difference) == 1
    assert complex(difference[16, 20]) == pytest.approx(0.5 * float(k.abs().max()))
    # In image space a single spike is a plane wave of constant magnitude.
    wave = ifftnc(difference).abs()
    assert torch.allclose(wave, wave.mean().expand_as(wave), rtol=1e-9)


def test_truncation_keeps_central_box():
    k = torch.ones(10, 9, dtype=torch.complex64)
    kept = truncate_kspace(k, 0.5).abs()
    assert kept.sum() == 5 * 4
    # round(4.5) = 4 columns; both boxes start n // 2 - keep // 2 before the end.
    assert torch.equal(kept[3:8, 2:6], torch.ones(5, 4))


def test_truncation_causes_gibbs_overshoot():
    n = 256
    edge = torch.zeros(1, n, dtype=torch.complex128)
    edge[0, n // 4 : 3 * n // 4] = 1
    ringing = ifftnc(truncate_kspace(fftnc(edge, -1), 0.25, axes=(-1,)), -1).real
    # Gibbs: about 9 % overshoot of a unit step, for any truncation.
    assert float(ringing.max()) == pytest.approx(1.0895, abs=0.01)


def test_partial_fourier_zeroes_leading_lines():
    k = torch.ones(3, 10, 4, dtype=torch.complex64)
    result = partial_fourier(k, 0.6, axis=-2)
    assert torch.count_nonzero(result[:, :4]) == 0
    assert torch.equal(result[:, 4:], k[:, 4:])


def test_readout_off_resonance_shifts_along_readout():
    n, dwell_ms = 32, 0.02
    image = torch.zeros(8, n, dtype=torch.complex128)
    image[:, n // 2] = 1
    # df * n * dwell = 2 pixels: 2 / (32 * 0.02e-3 s) = 3125 Hz.
    frequency = torch.full((8, n), 2.0 / (n * dwell_ms * 1e-3), dtype=torch.float64)
    kspace = readout_off_resonance(image, frequency, dwell_time_ms=dwell_ms, num_segments=n)
    shifted = ifftnc(kspace)
    # With one segment per readout sample the result is exact: a 2-pixel
    # shift times the phase of the echo-centre convention.
    assert torch.allclose(shifted.abs(), image.roll(2, dims=-1).abs(), atol=1e-10)


def test_readout_off_resonance_segments_converge():
    image = _random((8, 32), 2)
    frequency = torch.linspace(-300, 300, 32, dtype=torch.float64).expand(8, 32)
    exact = readout_off_resonance(image, frequency, dwell_time_ms=0.05, num_segments=32)
    coarse = readout_off_resonance(image, frequency, dwell_time_ms=0.05, num_segments=8)
    # 8 segments over 1.6 ms at up to 300 Hz: phase steps of 0.2 rad, linear interpolation error < 1 %.
    assert float((coarse - exact).norm() / exact.norm()) < 0.01


def test_bias_field_terms_and_values():
    assert len(bias_field_terms(3, 2)) == 9
    assert bias_field_terms(2, 2) == [(0, 1), (1, 0), (0, 2), (1, 1), (2, 0)]
    field = polynomial_bias_field((5, 3), torch.tensor([0.0, 0.0, 0.0, 0.0, 0.2]), order=2)
    # Degree (2, 0): P2(y) = (3 y^2 - 1) / 2 on y in [-1, 1].
    y = torch.linspace(-1, 1, 5)
    assert torch.allclose(field[:, 1], torch.exp(0.2 * (3 * y**2 - 1) / 2), atol=1e-6)


def test_artifacts_reject_bad_input():
    k = torch.ones(8, 8, dtype=torch.complex64)
    with pytest.raises(TypeError, match="`kspace` must be a complex tensor"):
        nyquist_ghosting(k.real, phase_deg=10)
    with pytest.raises(ValueError, match="`fraction` must be in \\(0, 1\\]"):
        truncate_kspace(k, 0.0)
    with pytest.raises(ValueError, match="`fraction` must be in \\[0.5, 1\\]"):
        partial_fourier(k, 0.3)
    with pytest.raises(ValueError, match="`positions` column 0 must be in \\[0, 7\\]"):
        kspace_spikes(k, torch.tensor([[9, 0]]), torch.ones(1, dtype=torch.complex64))
    with pytest.raises(ValueError, match="`amplitudes` must be shaped \\(1,\\)"):
        kspace_spikes(k, torch.tensor([[1, 0]]), torch.ones(2, dtype=torch.complex64))
    with pytest.raises(ValueError, match="`dwell_time_ms` must be > 0"):
        readout_off_resonance(k, torch.zeros(8, 8), dwell_time_ms=0)
    with pytest.raises(ValueError, match="`coefficients` must have 2 values"):
        polynomial_bias_field((4, 4), torch.zeros(3), order=1)
    with pytest.raises(ValueError, match="`phase_axis` and `readout_axis` must differ"):
        nyquist_ghosting(k, phase_deg=5.0, phase_axis=-1, readout_axis=-1)


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(1, 7), min_size=2, max_size=3).map(tuple),
    order=st.integers(1, 4),
    seed=st.integers(0, 2**31 - 1),
)
def test_legendre_sum_equals_numpy_legendre_series(shape, order, seed):
    import numpy as np
    from numpy.polynomial import legendre

    from medaug.physics.mri.artifacts import legendre_sum

    terms = bias_field_terms(len(shape), order)
    coefficients = np.random.default_rng(seed).uniform(-1, 1, len(terms)).tolist()
    grids = np.meshgrid(*[np.linspace(-1, 1, n) if n > 1 else np.zeros(1) for n in shape], indexing="ij")
    expected = np.zeros(shape)
    for value, degrees in zip(coefficients, terms):
        term = np.ones(shape)
        for axis, degree in enumerate(degrees):
            term = term * legendre.legval(grids[axis], [0] * degree + [1])
        expected += value * term
    np.testing.assert_allclose(legendre_sum(shape, coefficients, terms), expected, atol=1e-12)
