import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from medaug.physics.mri.fft import ifftnc
from medaug.physics.mri.noise import (
    add_kspace_noise,
    noncentral_chi_mean,
    rician_mean,
    rician_std,
    sigma_from_snr,
)


def _generator(seed):
    return torch.Generator().manual_seed(seed)


def test_background_magnitude_is_rayleigh_over_a_million_samples():
    sigma = 0.7
    kspace = torch.zeros(1000, 1000, dtype=torch.complex128)
    noisy = add_kspace_noise(kspace, sigma, generator=_generator(0))
    magnitude = ifftnc(noisy).abs().ravel()
    # 1e6 samples: standard error of the mean is 0.655 sigma / 1000, about 0.07 %;
    # 0.5 % leaves a wide margin.
    assert float(magnitude.mean()) == pytest.approx(sigma * math.sqrt(math.pi / 2), rel=5e-3)
    assert float(magnitude.std()) == pytest.approx(sigma * math.sqrt(2 - math.pi / 2), rel=5e-3)


def test_kspace_noise_has_requested_component_std():
    noisy = add_kspace_noise(torch.zeros(200_000, dtype=torch.complex64), 2.0, generator=_generator(1))
    # 2e5 samples per component: relative standard error of a std is about 0.16 %.
    assert float(noisy.real.std()) == pytest.approx(2.0, rel=1e-2)
    assert float(noisy.imag.std()) == pytest.approx(2.0, rel=1e-2)


@pytest.mark.parametrize("num_coils", [8, 32])
def test_rss_of_coils_matches_noncentral_chi_mean(num_coils):
    sigma = 1.0
    signal = 3.0
    samples = 30_000
    generator = _generator(num_coils)
    # Distribute the signal over the coils so the noise-free RSS equals `signal`.
    weights = torch.rand(num_coils, 1, dtype=torch.float64, generator=generator) + 0.5
    weights = weights / weights.norm()
    clean = (signal * weights).to(torch.complex128).expand(num_coils, samples)
    noisy = add_kspace_noise(clean, sigma, generator=generator)
    rss = noisy.abs().pow(2).sum(0).sqrt()
    expected = float(noncentral_chi_mean(signal, sigma, num_coils))
    # Standard error of the mean is about 0.7 sigma / sqrt(3e4) = 0.4 % of sigma, under 0.1 %
    # of the mean (about 4 to 8 sigma); the 1 % tolerance is well above it.
    assert float(rss.mean()) == pytest.approx(expected, rel=1e-2)


@pytest.mark.parametrize("num_coils", [1, 8, 32])
def test_noncentral_chi_mean_matches_numerical_integral(num_coils):
    sigma, signal = 1.3, 2.0
    # RSS^2 / sigma^2 is non-central chi-squared with 2n degrees of freedom.
    dist = stats.ncx2(df=2 * num_coils, nc=(signal / sigma) ** 2)
    value, _ = integrate.quad(lambda q: math.sqrt(q) * dist.pdf(q), 0, np.inf, limit=200)
    assert float(noncentral_chi_mean(signal, sigma, num_coils)) == pytest.approx(sigma * value, rel=1e-7)


def test_rician_closed_forms_at_zero_signal():
    assert float(rician_mean(0.0, 1.0)) == pytest.approx(math.sqrt(math.pi / 2), rel=1e-12)
    assert float(rician_std(0.0, 1.0)) == pytest.approx(math.sqrt(2 - math.pi / 2), rel=1e-12)
    # At high SNR the Rician mean tends to sqrt(A^2 + sigma^2).
    assert float(rician_mean(100.0, 1.0)) == pytest.approx(math.sqrt(100**2 + 1), rel=1e-6)


def test_coil_covariance_is_reproduced():
    covariance = torch.tensor([[1.0, 0.5j], [-0.5j, 2.0]], dtype=torch.complex128)
    noisy = add_kspace_noise(
        torch.zeros(2, 200_000, dtype=torch.complex128), 1.0,
        generator=_generator(3), covariance=covariance, coil_axis=0,
    )
    measured = noisy @ noisy.conj().T / noisy.shape[1]
    # E[n n^H] = 2 sigma^2 Psi; 2e5 samples give about 0.3 % error per entry.
    assert torch.allclose(measured, 2 * covariance, atol=0.03)


def test_noise_respects_mask_and_zero_sigma():
    mask = torch.tensor([True, False, True])
    noisy = add_kspace_noise(torch.zeros(4, 3, dtype=torch.complex64), 1.0, generator=_generator(4), mask=mask)
    assert torch.count_nonzero(noisy[:, 1]) == 0
    assert torch.count_nonzero(noisy[:, 0]) == 4
    clean = torch.ones(3, dtype=torch.complex64)
    assert torch.equal(add_kspace_noise(clean, 0.0, generator=_generator(5)), clean)


def test_noise_in_place_equals_copy():
    mask = torch.rand(6, 1, 16, generator=_generator(6)) < 0.5
    kspace = torch.randn(6, 4, 16, dtype=torch.complex64, generator=_generator(7)) * mask
    copy = add_kspace_noise(kspace, 0.3, generator=_generator(8), mask=mask)
    target = kspace.clone()
    result = add_kspace_noise(target, 0.3, generator=_generator(8), mask=mask, out=target)
    assert result is target
    assert torch.equal(target, copy)
    other = torch.empty_like(kspace)
    assert torch.equal(add_kspace_noise(kspace, 0.3, generator=_generator(8), mask=mask, out=other), copy)


@pytest.mark.parametrize(
    ("shape", "mask_shape"),
    [
        ((3, 40, 50_000), (50_000,)),  # rows of a line mask, several rows per block of draws
        ((2, 64, 64, 32), (64, 64, 1)),  # a phase-encode plane mask, constant along the readout
        ((1_200_000,), None),  # dense, longer than one block of draws
    ],
)
def test_noise_fills_sampled_points_only(shape, mask_shape):
    generator = _generator(11)
    mask = None if mask_shape is None else torch.rand(mask_shape, generator=generator) < 0.3
    noisy = add_kspace_noise(torch.zeros(shape, dtype=torch.complex64), 0.5, generator=generator, mask=mask)
    sampled = torch.ones(shape, dtype=torch.bool) if mask is None else mask.expand(shape)
    assert bool((noisy[sampled] != 0).all())
    assert torch.count_nonzero(noisy[~sampled]) == 0
    values = torch.view_as_real(noisy[sampled])
    # At least 7e4 samples per component: the relative standard error of a
    # std is under 0.3 %, so 1 % is more than 3 standard errors.
    assert float(values[:, 0].std()) == pytest.approx(0.5, rel=1e-2)
    assert float(values[:, 1].std()) == pytest.approx(0.5, rel=1e-2)
    # Real and imaginary parts are independent: the standard error of the
    # correlation is under 0.4 %, so 2 % is more than 5 standard errors.
    assert abs(float(torch.corrcoef(values.T)[0, 1])) < 2e-2


def test_noise_empty_mask_and_covariance():
    kspace = torch.ones(2, 5, 6, dtype=torch.complex128)
    empty = torch.zeros(6, dtype=torch.bool)
    assert torch.equal(add_kspace_noise(kspace, 1.0, generator=_generator(0), mask=empty), kspace)
    lines = torch.arange(6) % 2 == 0
    noisy = add_kspace_noise(
        kspace, 1.0, generator=_generator(1), mask=lines,
        covariance=torch.eye(2, dtype=torch.complex128), coil_axis=0,
    )
    assert torch.equal(noisy[..., ~lines], kspace[..., ~lines])
    assert bool((noisy[..., lines] != kspace[..., lines]).all())


def test_noise_rejects_bad_mask_and_out():
    kspace = torch.zeros(4, 3, dtype=torch.complex64)
    with pytest.raises(TypeError, match="`mask` must be a bool tensor, got torch.float32"):
        add_kspace_noise(kspace, 1.0, generator=_generator(0), mask=torch.ones(3))
    with pytest.raises(ValueError, match="`mask` shape \\(5,\\) does not broadcast to the k-space shape \\(4, 3\\)"):
        add_kspace_noise(kspace, 1.0, generator=_generator(0), mask=torch.ones(5, dtype=torch.bool))
    with pytest.raises(ValueError, match="`mask` shape \\(2, 4, 3\\) does not broadcast"):
        add_kspace_noise(kspace, 1.0, generator=_generator(0), mask=torch.ones(2, 4, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="`out` must match `kspace`"):
        add_kspace_noise(kspace, 1.0, generator=_generator(0), out=torch.zeros(4, 3, dtype=torch.complex128))
    with pytest.raises(ValueError, match="`out` must be contiguous"):
        add_kspace_noise(kspace, 1.0, generator=_generator(0), out=torch.zeros(3, 4, dtype=torch.complex64).T)
    with pytest.raises(TypeError, match="`out` must be a torch tensor"):
        add_kspace_noise(kspace, 1.0, generator=_generator(0), out=np.zeros((4, 3), np.complex64))
    with pytest.raises(ValueError, match="`coil_axis` 2 is out of range"):
        add_kspace_noise(kspace, 1.0, generator=_generator(0), covariance=torch.eye(2), coil_axis=2)


def test_noise_reproducible_from_seed():
    k = torch.zeros(10, dtype=torch.complex64)
    a = add_kspace_noise(k, 1.0, generator=np.random.default_rng(9))
    b = add_kspace_noise(k, 1.0, generator=np.random.default_rng(9))
    c = add_kspace_noise(k, 1.0, generator=np.random.default_rng(10))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_sigma_from_snr_definitions():
    image = torch.tensor([0.0, 0.05, 2.0, 4.0])
    assert sigma_from_snr(image, 10.0) == pytest.approx(0.3)
    assert sigma_from_snr(image, 10.0, definition="peak") == pytest.approx(0.4)
    rms = math.sqrt((0.05**2 + 4 + 16) / 4)
    assert sigma_from_snr(image, 10.0, definition="rms") == pytest.approx(rms / 10)
    support = torch.tensor([False, True, False, False])
    assert sigma_from_snr(image, 1.0, support=support) == pytest.approx(0.05)
    assert sigma_from_snr(image, math.inf) == 0.0


def test_noise_rejects_bad_input():
    with pytest.raises(ValueError, match="`snr` must be > 0, got -5.0"):
        sigma_from_snr(torch.ones(3), -5.0)
    with pytest.raises(ValueError, match="`definition` must be one of"):
        sigma_from_snr(torch.ones(3), 5.0, definition="median")
    with pytest.raises(TypeError, match="`kspace` must be a complex tensor"):
        add_kspace_noise(torch.zeros(3), 1.0, generator=_generator(0))
    with pytest.raises(ValueError, match="`sigma` must be finite and >= 0"):
        add_kspace_noise(torch.zeros(3, dtype=torch.complex64), -1.0, generator=_generator(0))
    with pytest.raises(ValueError, match="`coil_axis` is required"):
        add_kspace_noise(torch.zeros(2, 3, dtype=torch.complex64), 1.0, generator=_generator(0),
                         covariance=torch.eye(2, dtype=torch.complex64))
    with pytest.raises(ValueError, match="positive definite"):
        add_kspace_noise(torch.zeros(2, 3, dtype=torch.complex64), 1.0, generator=_generator(0),
                         covariance=-torch.eye(2, dtype=torch.complex64), coil_axis=0)
    with pytest.raises(TypeError, match="`generator` must be"):
        add_kspace_noise(torch.zeros(3, dtype=torch.complex64), 1.0, generator=3)
