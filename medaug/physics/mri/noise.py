"""Thermal noise in k-space, its magnitude statistics, and an SNR scaling model.

SNR definition
--------------
medaug states image SNR as ``SNR = S_ref / sigma``, where ``sigma`` is the
standard deviation of each real component (real and imaginary part) of the
complex image noise, and ``S_ref`` is one of

* ``"mean"``: the mean magnitude over the object support (by default the
  voxels with magnitude >= 10 % of the maximum);
* ``"peak"``: the maximum magnitude;
* ``"rms"``: the root-mean-square magnitude over the whole grid.

The centred FFT is orthonormal, so white k-space noise with per-component
standard deviation ``sigma`` is white image noise with the same ``sigma``
for a fully sampled acquisition. For multi-coil data with sensitivities
normalised to a root-sum-of-squares of 1 (:mod:`~medaug.physics.mri.coils`)
and uncorrelated coils, the optimal coil combination
``sum_c conj(S_c) x_c`` again has per-component noise ``sigma``, so the SNR
above is that of the coil-combined image. Undersampling by ``R`` with
zero-filling keeps ``sigma`` per sampled point but removes ``1 - 1/R`` of
the noise energy. A SENSE reconstruction instead amplifies the noise by
``g sqrt(R)``, see :func:`relative_snr`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from medaug.core.seeding import torch_generator
from medaug.physics.mri.fft import check_complex

__all__ = [
    "SNR_DEFINITIONS",
    "sigma_from_snr",
    "add_kspace_noise",
    "rician_mean",
    "rician_std",
    "noncentral_chi_mean",
    "AcquisitionProtocol",
    "relative_snr",
]

SNR_DEFINITIONS = ("mean", "peak", "rms")


def sigma_from_snr(
    image: torch.Tensor,
    snr: float,
    *,
    definition: str = "mean",
    support: torch.Tensor | None = None,
) -> float:
    """Return the per-component noise standard deviation that gives ``snr``.

    Parameters
    ----------
    image : tensor
        Noise-free image (real or complex); its magnitude defines ``S_ref``.
    snr : float
        Requested SNR (> 0); ``inf`` gives ``sigma = 0``.
    definition : {"mean", "peak", "rms"}, default "mean"
        Reference signal, see the module documentation.
    support : bool tensor, optional
        Object support for ``"mean"``; default: magnitude >= 10 % of the maximum.

    Returns
    -------
    float
        ``sigma = S_ref / snr``.

    Examples
    --------
    >>> sigma_from_snr(torch.tensor([0.0, 2.0, 4.0]), 20.0)
    0.15
    """
    snr = float(snr)
    if math.isnan(snr) or snr <= 0:
        raise ValueError(f"`snr` must be > 0, got {snr}")
    if definition not in SNR_DEFINITIONS:
        raise ValueError(f"`definition` must be one of {SNR_DEFINITIONS}, got {definition!r}")
    magnitude = image.abs().to(torch.float64)
    if definition == "peak":
        reference = magnitude.max()
    elif definition == "rms":
        reference = torch.sqrt(torch.mean(magnitude**2))
    else:
        if support is None:
            support = magnitude >= 0.1 * magnitude.max()
        if support.shape != magnitude.shape or support.dtype != torch.bool:
            raise ValueError(
                f"`support` must be a bool tensor shaped {tuple(magnitude.shape)}, "
                f"got {support.dtype} {tuple(support.shape)}"
            )
        if not bool(support.any()):
            raise ValueError("`support` selects no voxel")
        reference = magnitude[support].mean()
    if float(reference) == 0.0:
        raise ValueError("`image` is zero, so no SNR can be defined")
    return float(reference) / snr


def add_kspace_noise(
    kspace: torch.Tensor,
    sigma: float,
    *,
    generator: torch.Generator | np.random.Generator,
    covariance: torch.Tensor | None = None,
    coil_axis: int | None = None,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Add circular complex Gaussian noise to k-space.

    Parameters
    ----------
    kspace : complex tensor
        Noise-free k-space, any shape.
    sigma : float
        Standard deviation of each real component of the noise (>= 0).
    generator : torch.Generator or numpy.random.Generator
        Source of randomness; a numpy Generator seeds a torch generator on
        ``kspace``'s device (one draw).
    covariance : complex tensor (C, C), optional
        Relative coil noise covariance ``Psi`` (Hermitian, positive
        definite). The noise becomes ``L z`` with ``Psi = L L^H`` and ``z``
        white, so ``E[n n^H] = 2 sigma^2 Psi``.
    coil_axis : int, optional
        Coil axis of ``kspace``; required with ``covariance``.
    mask : bool tensor, optional
        Sampled locations (broadcastable); noise is added only there, so
        unsampled k-space stays exactly 0.

    Returns
    -------
    complex tensor
        ``kspace`` plus noise, same shape and dtype.

    Notes
    -----
    The magnitude of a single-coil image of pure noise is Rayleigh, and of
    signal plus noise Rician (:func:`rician_mean`); the root-sum-of-squares
    of ``n`` coils follows a (non-central) chi distribution with ``2n``
    degrees of freedom (:func:`noncentral_chi_mean`).

    References
    ----------
    Gudbjartsson H., Patz S., "The Rician distribution of noisy MRI data",
    Magn. Reson. Med. 34(6), 910-914, 1995. DOI: 10.1002/mrm.1910340618

    Examples
    --------
    >>> k = torch.zeros(4, dtype=torch.complex64)
    >>> add_kspace_noise(k, 0.0, generator=torch.Generator().manual_seed(0)).abs().max()
    tensor(0.)
    """
    check_complex(kspace, "kspace")
    sigma = float(sigma)
    if not (math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"`sigma` must be finite and >= 0, got {sigma}")
    if isinstance(generator, np.random.Generator):
        generator = torch_generator(generator, kspace.device)
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            f"`generator` must be a torch.Generator or numpy.random.Generator, got {type(generator).__name__}"
        )

    noise = torch.randn(kspace.shape, dtype=kspace.dtype, device=kspace.device, generator=generator)
    # torch.randn for complex dtypes draws each component with variance 1/2.
    noise = noise * (sigma * math.sqrt(2.0))
    if covariance is not None:
        noise = _correlate(noise, covariance, coil_axis)
    if mask is not None:
        noise = noise * mask.to(kspace.real.dtype)
    return kspace + noise


def _correlate(noise: torch.Tensor, covariance: torch.Tensor, coil_axis: int | None) -> torch.Tensor:
    if coil_axis is None:
        raise ValueError("`coil_axis` is required when `covariance` is given")
    coils = noise.shape[coil_axis]
    if covariance.shape != (coils, coils):
        raise ValueError(
            f"`covariance` must be shaped ({coils}, {coils}) for {coils} coils, got {tuple(covariance.shape)}"
        )
    matrix = covariance.to(device=noise.device, dtype=torch.complex128)
    if not torch.allclose(matrix, matrix.mH, atol=1e-10 * float(matrix.abs().max())):
        raise ValueError("`covariance` must be Hermitian")
    factor, info = torch.linalg.cholesky_ex(matrix)
    if int(info) != 0:
        raise ValueError("`covariance` must be positive definite")
    moved = torch.movedim(noise, coil_axis, -1)
    correlated = moved @ factor.to(noise.dtype).mT
    return torch.movedim(correlated, -1, coil_axis)


def noncentral_chi_mean(signal: float | np.ndarray, sigma: float, num_coils: int) -> np.ndarray:
    """Return the mean of the root-sum-of-squares magnitude of ``num_coils`` noisy channels.

    Each channel is complex Gaussian with per-component standard deviation
    ``sigma``; ``signal`` is the noise-free root-sum-of-squares magnitude.

    Notes
    -----
    With ``2n`` degrees of freedom and ``x = signal^2 / (2 sigma^2)``:
    ``E[M] = sigma sqrt(pi/2) Gamma(n + 1/2) / (Gamma(n) Gamma(3/2))
    1F1(-1/2; n; -x)``. For ``n = 1`` this is the Rician mean.

    References
    ----------
    Constantinides C. D., Atalar E., McVeigh E. R., "Signal-to-noise
    measurements in magnitude images from NMR phased arrays", Magn. Reson.
    Med. 38(5), 852-857, 1997. DOI: 10.1002/mrm.1910380524

    Examples
    --------
    >>> float(noncentral_chi_mean(0.0, 1.0, 1))  # Rayleigh mean sqrt(pi/2)
    1.2533141373155001
    """
    from scipy import special

    if num_coils < 1:
        raise ValueError(f"`num_coils` must be >= 1, got {num_coils}")
    if sigma <= 0:
        raise ValueError(f"`sigma` must be > 0, got {sigma}")
    n = int(num_coils)
    x = np.asarray(signal, dtype=np.float64) ** 2 / (2.0 * sigma**2)
    log_ratio = special.gammaln(n + 0.5) - special.gammaln(n) - special.gammaln(1.5)
    return sigma * math.sqrt(math.pi / 2.0) * np.exp(log_ratio) * special.hyp1f1(-0.5, n, -x)


def rician_mean(signal: float | np.ndarray, sigma: float) -> np.ndarray:
    """Return the mean magnitude of a Rician variable (one coil).

    Examples
    --------
    >>> round(float(rician_mean(0.0, 2.0)), 6)  # Rayleigh: sigma sqrt(pi/2)
    2.506628
    """
    return noncentral_chi_mean(signal, sigma, 1)


def rician_std(signal: float | np.ndarray, sigma: float) -> np.ndarray:
    """Return the standard deviation of a Rician magnitude.

    ``Var = signal^2 + 2 sigma^2 - mean^2``; for ``signal = 0`` this is
    ``sigma sqrt(2 - pi/2)``.

    Examples
    --------
    >>> round(float(rician_std(0.0, 1.0)), 6)
    0.655136
    """
    mean = rician_mean(signal, sigma)
    return np.sqrt(np.asarray(signal, dtype=np.float64) ** 2 + 2.0 * sigma**2 - mean**2)


@dataclasses.dataclass(frozen=True)
class AcquisitionProtocol:
    """The factors of a protocol that set its image SNR.

    Attributes
    ----------
    field_strength_t : float
        Main field B0 in tesla.
    voxel_volume_mm3 : float
        Voxel volume in mm^3.
    acquisition_time_s : float
        Total sampling time of the fully sampled acquisition in s (readout
        duration times phase encodes times averages).
    acceleration : float, default 1
        Parallel-imaging acceleration R (>= 1).
    g_factor : float, default 1
        Coil geometry factor g (>= 1).
    """

    field_strength_t: float
    voxel_volume_mm3: float
    acquisition_time_s: float
    acceleration: float = 1.0
    g_factor: float = 1.0

    def __post_init__(self) -> None:
        for name in ("field_strength_t", "voxel_volume_mm3", "acquisition_time_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"`{name}` must be > 0, got {value}")
        for name in ("acceleration", "g_factor"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 1):
                raise ValueError(f"`{name}` must be >= 1, got {value}")


def relative_snr(
    protocol: AcquisitionProtocol,
    reference: AcquisitionProtocol,
    *,
    field_exponent: float = 1.0,
) -> float:
    """Return the SNR of ``protocol`` relative to ``reference``.

    ``SNR ~ B0^e * V * sqrt(T) / (g sqrt(R))`` with field strength ``B0``,
    voxel volume ``V``, fully sampled acquisition time ``T``, acceleration
    ``R`` and geometry factor ``g``. Multiply a reference SNR by this ratio
    and pass the result to :func:`sigma_from_snr`.

    Parameters
    ----------
    protocol, reference : AcquisitionProtocol
    field_exponent : float, default 1.0
        Exponent ``e`` of the field dependence: about 1 where body noise
        dominates (Edelstein et al. 1986); Pohmann et al. 2016 measured about
        1.65 in the brain between 3 and 9.4 T.

    References
    ----------
    Edelstein W. A., Glover G. H., Hardy C. J., Redington R. W., "The
    intrinsic signal-to-noise ratio in NMR imaging", Magn. Reson. Med. 3(4),
    604-618, 1986. DOI: 10.1002/mrm.1910030413

    Pruessmann K. P., Weiger M., Scheidegger M. B., Boesiger P., "SENSE:
    sensitivity encoding for fast MRI", Magn. Reson. Med. 42(5), 952-962,
    1999. DOI: 10.1002/(SICI)1522-2594(199911)42:5<952::AID-MRM16>3.0.CO;2-S

    Pohmann R., Speck O., Scheffler K., "Signal-to-noise ratio and MR tissue
    parameters in human brain imaging at 3, 7, and 9.4 tesla using current
    receive coil arrays", Magn. Reson. Med. 75(2), 801-809, 2016.
    DOI: 10.1002/mrm.25677

    Examples
    --------
    >>> ref = AcquisitionProtocol(1.5, 1.0, 240.0)
    >>> relative_snr(AcquisitionProtocol(3.0, 1.0, 240.0, acceleration=4.0), ref)
    1.0
    """
    field_exponent = float(field_exponent)
    if not (math.isfinite(field_exponent) and field_exponent >= 0):
        raise ValueError(f"`field_exponent` must be >= 0, got {field_exponent}")

    def score(p: AcquisitionProtocol) -> float:
        return (
            p.field_strength_t**field_exponent
            * p.voxel_volume_mm3
            * math.sqrt(p.acquisition_time_s)
            / (p.g_factor * math.sqrt(p.acceleration))
        )

    return score(protocol) / score(reference)
