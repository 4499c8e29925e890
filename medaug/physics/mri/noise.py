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
``g sqrt(R)``, see :func:`medaug.physics.mri.snr.relative_snr`.
"""

from __future__ import annotations

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
    out: torch.Tensor | None = None,
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
        Sampled locations, broadcastable to ``kspace``. Noise is drawn and
        added only there, so unsampled k-space keeps its values (0 after a
        masked acquisition) and an acceleration of R draws 1/R of the samples.
    out : complex tensor, optional
        Contiguous tensor shaped and typed like ``kspace`` that receives the
        result; ``out=kspace`` adds the noise in place, which saves the copy
        of ``kspace`` (not differentiable then).

    Returns
    -------
    complex tensor
        ``kspace`` plus noise, same shape and dtype (``out`` when given).

    Notes
    -----
    The noise is drawn as float normals of standard deviation ``sigma`` on
    the real view of a complex buffer, in blocks of about 2^20 samples, so
    the values depend on the mask and block layout but are reproducible for
    a given generator state. The magnitude of a single-coil image of pure
    noise is Rayleigh, and of signal plus noise Rician
    (:func:`rician_mean`); the root-sum-of-squares of ``n`` coils follows a
    (non-central) chi distribution with ``2n`` degrees of freedom
    (:func:`noncentral_chi_mean`).

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
    sampled = _sampled_layout(mask, kspace)
    factor = None if covariance is None else _cholesky_factor(covariance, kspace, coil_axis)
    result = _output(kspace, out)

    if sigma == 0.0:
        return result
    if factor is not None:
        _add_correlated(result, sigma, generator, factor, coil_axis, sampled)
    elif sampled is None:
        _add_dense(result.view(-1), sigma, generator)
    else:
        _add_sampled(result, sigma, generator, *sampled[1:])
    return result


# Complex samples per block of noise draws: 8 MiB at complex64, small enough
# to be reused by the allocator instead of page-faulted in on every call.
_BLOCK = 1 << 20


def _sampled_layout(
    mask: torch.Tensor | None, kspace: torch.Tensor
) -> tuple[torch.Tensor, int, torch.Tensor] | None:
    """Return ``(mask, lead, index)`` for a mask that leaves k-space points out, else None.

    ``mask`` comes back on ``kspace``'s device with ``kspace.ndim`` axes.
    The mask is constant over the first ``lead`` axes of ``kspace``, and
    ``index`` lists the sampled flat positions within one of those rows.
    """
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        raise TypeError(f"`mask` must be a bool tensor, got {getattr(mask, 'dtype', type(mask).__name__)}")
    try:
        broadcast = torch.broadcast_shapes(mask.shape, kspace.shape)
    except RuntimeError:
        broadcast = None
    if broadcast != kspace.shape:
        raise ValueError(
            f"`mask` shape {tuple(mask.shape)} does not broadcast to the k-space shape {tuple(kspace.shape)}"
        )

    mask = mask.to(kspace.device).reshape((1,) * (kspace.ndim - mask.ndim) + tuple(mask.shape))
    lead = 0
    while lead < kspace.ndim and mask.shape[lead] == 1:
        lead += 1
    row = mask[(0,) * lead].expand(kspace.shape[lead:]).reshape(-1)
    index = torch.nonzero(row).squeeze(1)
    if index.numel() == row.numel():
        return None
    return mask, lead, index


def _output(kspace: torch.Tensor, out: torch.Tensor | None) -> torch.Tensor:
    if out is None:
        return kspace.clone(memory_format=torch.contiguous_format)
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"`out` must be a torch tensor, got {type(out).__name__}")
    if out.shape != kspace.shape or out.dtype != kspace.dtype or out.device != kspace.device:
        raise ValueError(
            f"`out` must match `kspace` ({tuple(kspace.shape)}, {kspace.dtype}, {kspace.device}), "
            f"got ({tuple(out.shape)}, {out.dtype}, {out.device})"
        )
    if not out.is_contiguous():
        raise ValueError("`out` must be contiguous")
    if out.data_ptr() != kspace.data_ptr():
        out.copy_(kspace)
    return out


def _normal(buffer: torch.Tensor, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """Fill a complex buffer with independent N(0, sigma^2) real and imaginary parts."""
    torch.view_as_real(buffer).normal_(0.0, sigma, generator=generator)
    return buffer


def _add_dense(flat: torch.Tensor, sigma: float, generator: torch.Generator) -> None:
    buffer = torch.empty(min(_BLOCK, flat.numel()), dtype=flat.dtype, device=flat.device)
    for start in range(0, flat.numel(), _BLOCK):
        part = flat[start : start + _BLOCK]
        part.add_(_normal(buffer[: part.numel()], sigma, generator))


def _add_sampled(
    result: torch.Tensor, sigma: float, generator: torch.Generator, lead: int, index: torch.Tensor
) -> None:
    """Add noise at ``index`` of every row, drawing only the sampled points."""
    count = index.numel()
    if count == 0:
        return
    rows = result.view(-1, result.shape[lead:].numel())
    block = max(1, _BLOCK // count)
    buffer = torch.empty((min(block, rows.shape[0]), count), dtype=result.dtype, device=result.device)
    for start in range(0, rows.shape[0], block):
        part = rows[start : start + block]
        part.index_add_(1, index, _normal(buffer[: part.shape[0]], sigma, generator))


def _cholesky_factor(covariance: torch.Tensor, kspace: torch.Tensor, coil_axis: int | None) -> torch.Tensor:
    """Return the lower Cholesky factor ``L`` of ``Psi = L L^H`` in ``kspace``'s dtype."""
    if coil_axis is None:
        raise ValueError("`coil_axis` is required when `covariance` is given")
    if not -kspace.ndim <= coil_axis < kspace.ndim:
        raise ValueError(f"`coil_axis` {coil_axis} is out of range for k-space with {kspace.ndim} axes")
    coils = kspace.shape[coil_axis]
    if covariance.shape != (coils, coils):
        raise ValueError(
            f"`covariance` must be shaped ({coils}, {coils}) for {coils} coils, got {tuple(covariance.shape)}"
        )
    matrix = covariance.to(device=kspace.device, dtype=torch.complex128)
    if not torch.allclose(matrix, matrix.mH, atol=1e-10 * float(matrix.abs().max())):
        raise ValueError("`covariance` must be Hermitian")
    factor, info = torch.linalg.cholesky_ex(matrix)
    if int(info) != 0:
        raise ValueError("`covariance` must be positive definite")
    return factor.to(kspace.dtype)


def _add_correlated(
    result: torch.Tensor,
    sigma: float,
    generator: torch.Generator,
    factor: torch.Tensor,
    coil_axis: int,
    sampled: tuple[torch.Tensor, int, torch.Tensor] | None,
) -> None:
    """Add ``L z`` over the coil axis; the noise is drawn everywhere, then masked."""
    noise = _normal(torch.empty_like(result), sigma, generator)
    noise = torch.movedim(torch.movedim(noise, coil_axis, -1) @ factor.mT, -1, coil_axis)
    if sampled is not None:
        noise = noise * sampled[0]
    result.add_(noise)


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
