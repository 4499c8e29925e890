"""k-space artifacts: Nyquist ghosting, spikes, truncation, partial Fourier,
off-resonance during the readout, and a smooth receive bias field.

Each function takes complex k-space (or, where the artifact depends on the
object, a complex image) with the spatial axes last, and returns complex
k-space. At zero strength (zero phase error, zero spike amplitude, a kept
fraction of 1, zero off-resonance, zero bias coefficients) every function
returns its input unchanged, bit for bit. Rigid motion lives in
:mod:`medaug.physics.mri.motion`.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import torch

from medaug.physics.mri.fft import check_complex, fftnc

__all__ = [
    "nyquist_ghosting",
    "kspace_spikes",
    "truncate_kspace",
    "partial_fourier",
    "readout_off_resonance",
    "bias_field_terms",
    "polynomial_field",
    "legendre_sum",
    "polynomial_bias_field",
]


def _axis_view(n: int, axis: int, ndim: int) -> list[int]:
    view = [1] * ndim
    view[axis] = n
    return view


def nyquist_ghosting(
    kspace: torch.Tensor,
    *,
    phase_deg: float,
    readout_shift_px: float = 0.0,
    phase_axis: int = -2,
    readout_axis: int = -1,
) -> torch.Tensor:
    """Add an N/2 (Nyquist) ghost by an odd/even line inconsistency.

    Every odd line along ``phase_axis`` is multiplied by
    ``exp(i phase) exp(-2 pi i k_ro shift)``, the constant phase and readout
    delay of reversed echo-planar readouts. The image then contains a copy of
    the object shifted by half the field of view, with relative amplitude
    ``|sin(phase / 2)|`` for a pure phase error.

    Parameters
    ----------
    kspace : complex tensor
    phase_deg : float
        Constant phase error of odd lines in degrees.
    readout_shift_px : float, default 0
        Echo shift of odd lines in pixels along the readout (a linear phase).
    phase_axis, readout_axis : int
        Negative axis indices.

    References
    ----------
    Buonocore M. H., Gao L., "Ghost artifact reduction for echo planar
    imaging using image phase correction", Magn. Reson. Med. 38(1), 89-100,
    1997. DOI: 10.1002/mrm.1910380114

    Examples
    --------
    >>> k = torch.ones(4, 4, dtype=torch.complex64)
    >>> nyquist_ghosting(k, phase_deg=180.0)[:, 0].real
    tensor([ 1., -1.,  1., -1.])
    """
    check_complex(kspace, "kspace")
    phase_deg, readout_shift_px = float(phase_deg), float(readout_shift_px)
    if not (math.isfinite(phase_deg) and math.isfinite(readout_shift_px)):
        raise ValueError("`phase_deg` and `readout_shift_px` must be finite")
    if phase_axis % kspace.ndim == readout_axis % kspace.ndim:
        raise ValueError("`phase_axis` and `readout_axis` must differ")
    if phase_deg == 0.0 and readout_shift_px == 0.0:
        return kspace

    n_phase, n_read = kspace.shape[phase_axis], kspace.shape[readout_axis]
    frequency = (torch.arange(n_read, dtype=torch.float64, device=kspace.device) - n_read // 2) / n_read
    angle = math.radians(phase_deg) - 2.0 * math.pi * readout_shift_px * frequency
    factor = torch.polar(torch.ones_like(angle), angle).to(kspace.dtype)
    odd = (torch.arange(n_phase, device=kspace.device) % 2 == 1)
    factor = factor.reshape(_axis_view(n_read, readout_axis, kspace.ndim))
    odd = odd.reshape(_axis_view(n_phase, phase_axis, kspace.ndim))
    return torch.where(odd, kspace * factor, kspace)


def kspace_spikes(
    kspace: torch.Tensor,
    positions: torch.Tensor,
    amplitudes: torch.Tensor,
    *,
    spatial_ndim: int = 2,
) -> torch.Tensor:
    """Add spikes (bad k-space samples, herringbone artifact) at given positions.

    Parameters
    ----------
    kspace : complex tensor, (*leading, *spatial)
    positions : int tensor, (n, spatial_ndim)
        Index of each spike on the spatial axes; every leading index (coils,
        batch) receives it.
    amplitudes : complex tensor, (n,)
        Spike values relative to the largest ``|k|`` of the input.
    spatial_ndim : {2, 3}, default 2

    References
    ----------
    Jin K. H., Um J.-Y., Lee D., Lee J., Park S.-H., Ye J. C., "MRI artifact
    correction using sparse + low-rank decomposition of annihilating
    filter-based Hankel matrix", Magn. Reson. Med. 78(1), 327-340, 2017.
    DOI: 10.1002/mrm.26330

    Examples
    --------
    >>> k = torch.zeros(4, 4, dtype=torch.complex64); k[2, 2] = 2
    >>> kspace_spikes(k, torch.tensor([[0, 1]]), torch.tensor([0.5 + 0j]))[0, 1]
    tensor(1.+0.j)
    """
    check_complex(kspace, "kspace")
    positions = torch.as_tensor(positions)
    amplitudes = torch.as_tensor(amplitudes)
    if positions.ndim != 2 or positions.shape[1] != spatial_ndim or positions.dtype.is_floating_point:
        raise ValueError(f"`positions` must be an int tensor shaped (n, {spatial_ndim}), got {tuple(positions.shape)}")
    if amplitudes.shape != (positions.shape[0],):
        raise ValueError(f"`amplitudes` must be shaped ({positions.shape[0]},), got {tuple(amplitudes.shape)}")
    spatial = kspace.shape[-spatial_ndim:]
    for axis, n in enumerate(spatial):
        if bool((positions[:, axis] < 0).any()) or bool((positions[:, axis] >= n).any()):
            raise ValueError(f"`positions` column {axis} must be in [0, {n - 1}]")
    if not bool((amplitudes != 0).any()):
        return kspace

    peak = kspace.detach().abs().max()
    values = amplitudes.to(device=kspace.device, dtype=kspace.dtype) * peak
    spikes = torch.zeros(spatial, dtype=kspace.dtype, device=kspace.device)
    index = tuple(positions[:, axis].to(kspace.device) for axis in range(spatial_ndim))
    spikes = spikes.index_put(index, values, accumulate=True)
    return kspace + spikes


def _central_keep(n: int, fraction: float) -> slice:
    keep = max(1, round(fraction * n))
    start = n // 2 - keep // 2
    return slice(start, start + keep)


def truncate_kspace(
    kspace: torch.Tensor, fraction: float, *, axes: tuple[int, ...] = (-2, -1)
) -> torch.Tensor:
    """Zero k-space outside a central box, giving Gibbs ringing (truncation artifact).

    ``round(fraction * n)`` central samples (centred on ``n // 2``) are kept
    on each axis in ``axes``.

    References
    ----------
    Gibbs J. W., "Fourier's series", Nature 59, 606, 1899. DOI: 10.1038/059606a0

    Examples
    --------
    >>> truncate_kspace(torch.ones(1, 6, dtype=torch.complex64), 0.5, axes=(-1,)).real
    tensor([[0., 0., 1., 1., 1., 0.]])
    """
    check_complex(kspace, "kspace")
    fraction = float(fraction)
    if not (math.isfinite(fraction) and 0.0 < fraction <= 1.0):
        raise ValueError(f"`fraction` must be in (0, 1], got {fraction}")
    if fraction == 1.0:
        return kspace
    keep = torch.ones((), dtype=torch.bool, device=kspace.device)
    for axis in axes:
        n = kspace.shape[axis]
        line = torch.zeros(n, dtype=torch.bool, device=kspace.device)
        line[_central_keep(n, fraction)] = True
        keep = keep & line.reshape(_axis_view(n, axis, kspace.ndim))
    return torch.where(keep, kspace, torch.zeros((), dtype=kspace.dtype, device=kspace.device))


def partial_fourier(kspace: torch.Tensor, fraction: float, *, axis: int = -2) -> torch.Tensor:
    """Zero the first lines along ``axis`` so only ``ceil(fraction * n)`` lines remain.

    The kept lines are the last ones, so the centre (``n // 2``) is always
    sampled for ``fraction >= 0.5``. Zero-filled reconstruction of the result
    shows the blurring and phase errors of partial-Fourier acquisitions.

    References
    ----------
    Noll D. C., Nishimura D. G., Macovski A., "Homodyne detection in magnetic
    resonance imaging", IEEE Trans. Med. Imaging 10(2), 154-163, 1991.
    DOI: 10.1109/42.79473

    Examples
    --------
    >>> partial_fourier(torch.ones(8, 1, dtype=torch.complex64), 0.75, axis=0).real.ravel()
    tensor([0., 0., 1., 1., 1., 1., 1., 1.])
    """
    check_complex(kspace, "kspace")
    fraction = float(fraction)
    if not (math.isfinite(fraction) and 0.5 <= fraction <= 1.0):
        raise ValueError(f"`fraction` must be in [0.5, 1], got {fraction}")
    n = kspace.shape[axis]
    keep = math.ceil(fraction * n)
    if keep >= n:
        return kspace
    line = torch.arange(n, device=kspace.device) >= n - keep
    line = line.reshape(_axis_view(n, axis, kspace.ndim))
    return torch.where(line, kspace, torch.zeros((), dtype=kspace.dtype, device=kspace.device))


def readout_off_resonance(
    image: torch.Tensor,
    off_resonance_hz: torch.Tensor,
    *,
    dwell_time_ms: float,
    readout_axis: int = -1,
    spatial_ndim: int = 2,
    num_segments: int = 16,
    coil_sensitivities: torch.Tensor | None = None,
) -> torch.Tensor:
    """Return the k-space of an object whose off-resonance evolves during the readout.

    Readout sample ``j`` is acquired at ``t_j = (j - n // 2) * dwell`` ms
    relative to the echo, so a voxel with off-resonance ``df`` contributes
    ``m exp(-2 pi i df t_j)``: the image shifts by ``df * n * dwell``
    pixels along the readout (chemical shift, susceptibility distortion).
    The phase accumulated up to the echo is
    :func:`~medaug.physics.mri.signal.off_resonance_phase`.

    Parameters
    ----------
    image : complex tensor, (*batch, *spatial)
    off_resonance_hz : real tensor, broadcastable to ``spatial``
        Off-resonance frequency map in Hz.
    dwell_time_ms : float
        Time between readout samples in ms (> 0).
    readout_axis : int, default -1
        Negative index of the readout axis among the spatial axes.
    spatial_ndim : {2, 3}, default 2
    num_segments : int, default 16
        Time segments of the approximation; ``n`` (the readout length)
        makes it exact, fewer trade accuracy for speed.
    coil_sensitivities : complex tensor, (C, *spatial), optional

    Notes
    -----
    Time segmentation: ``L`` images ``m exp(-2 pi i df tau_l)`` at equally
    spaced times ``tau_l`` are transformed, and each readout sample
    interpolates linearly between its two neighbouring segments.

    References
    ----------
    Sutton B. P., Noll D. C., Fessler J. A., "Fast, iterative image
    reconstruction for MRI in the presence of field inhomogeneities", IEEE
    Trans. Med. Imaging 22(2), 178-188, 2003. DOI: 10.1109/TMI.2002.808360
    """
    check_complex(image, "image")
    dwell_time_ms = float(dwell_time_ms)
    if not (math.isfinite(dwell_time_ms) and dwell_time_ms > 0):
        raise ValueError(f"`dwell_time_ms` must be > 0, got {dwell_time_ms}")
    if not -spatial_ndim <= readout_axis < 0:
        raise ValueError(f"`readout_axis` must be in [-{spatial_ndim}, -1], got {readout_axis}")
    frequency = torch.as_tensor(off_resonance_hz, device=image.device)
    if frequency.is_complex() or not bool(torch.isfinite(frequency).all()):
        raise ValueError("`off_resonance_hz` must be a finite real map")
    axes = tuple(range(-spatial_ndim, 0))
    base = image if coil_sensitivities is None else image.unsqueeze(-spatial_ndim - 1) * coil_sensitivities
    if not bool((frequency != 0).any()):
        return fftnc(base, axes)

    n = image.shape[readout_axis]
    segments = max(2, min(int(num_segments), n))
    times = (torch.arange(n, dtype=torch.float64, device=image.device) - n // 2) * dwell_time_ms * 1e-3
    knots = torch.linspace(float(times[0]), float(times[-1]), segments, dtype=torch.float64, device=image.device)
    position = (times - knots[0]) / (knots[1] - knots[0])
    lower = position.floor().clamp(max=segments - 2).long()
    upper_weight = (position - lower).to(image.real.dtype)
    result = torch.zeros((), dtype=image.dtype, device=image.device)
    real_frequency = frequency.to(image.real.dtype)
    for index in range(segments):
        weight = torch.where(lower == index, 1 - upper_weight, torch.zeros_like(upper_weight))
        weight = weight + torch.where(lower + 1 == index, upper_weight, torch.zeros_like(upper_weight))
        if not bool((weight != 0).any()):
            continue
        phase = (-2.0 * math.pi * float(knots[index])) * real_frequency
        evolved = image * torch.polar(torch.ones_like(phase), phase)
        if coil_sensitivities is not None:
            evolved = evolved.unsqueeze(-spatial_ndim - 1) * coil_sensitivities
        kspace = fftnc(evolved, axes)
        result = result + kspace * weight.reshape(_axis_view(n, readout_axis, kspace.ndim))
    return result


def bias_field_terms(spatial_ndim: int, order: int) -> list[tuple[int, ...]]:
    """List the Legendre degree tuples of total degree 1..order, in a fixed order.

    Examples
    --------
    >>> bias_field_terms(2, 1)
    [(0, 1), (1, 0)]
    """
    if spatial_ndim not in (2, 3):
        raise ValueError(f"`spatial_ndim` must be 2 or 3, got {spatial_ndim}")
    if order < 0:
        raise ValueError(f"`order` must be >= 0, got {order}")
    terms = [
        degrees
        for degrees in itertools.product(range(order + 1), repeat=spatial_ndim)
        if 0 < sum(degrees) <= order
    ]
    return sorted(terms, key=lambda degrees: (sum(degrees), degrees))


def polynomial_field(
    shape: tuple[int, ...],
    coefficients: torch.Tensor,
    *,
    order: int,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Return the smooth field ``sum_t c_t P_t(x)`` on a grid, in the units of the coefficients.

    ``P_t`` are products of Legendre polynomials on coordinates scaled to
    [-1, 1] per axis, one per term of :func:`bias_field_terms`, so each
    ``|P_t| <= 1``. The field has no constant term. It is the log of
    :func:`polynomial_bias_field` and, with coefficients in Hz, a smooth
    off-resonance map for :func:`readout_off_resonance`.

    Examples
    --------
    >>> polynomial_field((3, 2), torch.tensor([0.0, 20.0]), order=1)[:, 0].tolist()
    [-20.0, 0.0, 20.0]
    """
    terms = bias_field_terms(len(shape), order)
    coefficients = torch.as_tensor(coefficients, dtype=torch.float64)
    if coefficients.shape != (len(terms),):
        raise ValueError(
            f"`coefficients` must have {len(terms)} values for order {order} in "
            f"{len(shape)}-D, got shape {tuple(coefficients.shape)}"
        )
    if not bool(torch.isfinite(coefficients).all()):
        raise ValueError(f"`coefficients` must be finite, got {coefficients.tolist()}")

    field = legendre_sum(shape, coefficients.tolist(), terms)
    return torch.from_numpy(field).to(dtype=dtype, device=device)


def legendre_sum(
    shape: tuple[int, ...], coefficients: list[float], terms: list[tuple[int, ...]]
) -> np.ndarray:
    """Return ``sum_t c_t P_t(x)`` on a grid as a float64 array, for any list of terms.

    ``terms[t]`` gives the Legendre degree along each array axis of
    ``P_t``, evaluated on coordinates scaled to [-1, 1] per axis (0 on an
    axis of one voxel). The caller checks that the counts match. Serves
    :func:`polynomial_field` and
    :func:`medaug.transforms.functional.intensity.bias_field`, which order
    their terms differently.

    Examples
    --------
    >>> legendre_sum((3,), [1.0, 2.0], [(0,), (1,)]).tolist()
    [-1.0, 1.0, 3.0]
    """
    shape = tuple(shape)
    if not terms:
        return np.zeros(shape)
    # Gather the coefficients by degree per axis, then contract one axis at a time with its basis:
    # the same sum as term by term, in a few matrix products.
    max_degree = max(max(degrees) for degrees in terms)
    field = np.zeros((max_degree + 1,) * len(shape))
    for value, degrees in zip(coefficients, terms):
        field[tuple(degrees)] += value
    for n in shape:
        field = np.tensordot(field, _legendre_basis(n, max_degree), axes=([0], [0]))
    return field


@functools.lru_cache(maxsize=64)
def _legendre_basis(n: int, max_degree: int) -> np.ndarray:
    """Return ``P_d`` at ``n`` points spread over [-1, 1] (0 for one point), ``(max_degree + 1, n)``, read-only."""
    from scipy.special import eval_legendre

    coordinates = np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(1)
    basis = np.stack([eval_legendre(degree, coordinates) for degree in range(max_degree + 1)])
    basis.flags.writeable = False
    return basis


def polynomial_bias_field(
    shape: tuple[int, ...],
    coefficients: torch.Tensor,
    *,
    order: int,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Return a smooth receive bias field ``exp(sum_t c_t P_t(x))`` on a grid.

    The exponential of :func:`polynomial_field`. All-zero coefficients give
    a field of exactly 1. As a random augmentation the same model is
    :class:`medaug.transforms.RandomBiasField`.

    References
    ----------
    Sled J. G., Zijdenbos A. P., Evans A. C., "A nonparametric method for
    automatic correction of intensity nonuniformity in MRI data", IEEE
    Trans. Med. Imaging 17(1), 87-97, 1998. DOI: 10.1109/42.668698

    Examples
    --------
    >>> field = polynomial_bias_field((3, 3), torch.tensor([0.0, 0.5]), order=1)
    >>> field[:, 0].tolist()
    [0.6065306663513184, 1.0, 1.6487212181091309]
    """
    log_field = polynomial_field(shape, coefficients, order=order, dtype=torch.float64)
    return torch.exp(log_field).to(dtype=dtype, device=device)
