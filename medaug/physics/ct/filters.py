"""Reconstruction filters (kernels) for filtered back-projection, with their frequency responses.

Every filter is the band-limited ramp ``|f|`` times a window ``W(f)``. The
ramp is taken from the discrete spatial kernel of Ramachandran and
Lakshminarayanan sampled at the detector pitch, so its zero-frequency value
is exact and a uniform object reconstructs without a DC bias. With
``x = f / f_N`` (``f_N = 1 / (2 * spacing)`` the Nyquist frequency) and a
cutoff ``c`` in (0, 1] (the window is zero for ``x > c``):

==============  =============================
filter          window ``W(x)``
==============  =============================
``ramp``        ``1``
``shepp-logan`` ``sinc(x / (2c)) = sin(pi x / (2c)) / (pi x / (2c))``
``cosine``      ``cos(pi x / (2c))``
``hann``        ``0.5 * (1 + cos(pi x / c))``
==============  =============================

Smoother windows trade resolution for lower noise, like the "soft tissue"
kernels of clinical scanners; ``ramp`` is the sharpest.

References
----------
Ramachandran G. N., Lakshminarayanan A. V., "Three-dimensional
reconstruction from radiographs and electron micrographs: application of
convolutions instead of Fourier transforms", PNAS 68(9), 2236-2240, 1971.
DOI: 10.1073/pnas.68.9.2236

Shepp L. A., Logan B. F., "The Fourier reconstruction of a head section",
IEEE Transactions on Nuclear Science 21(3), 21-43, 1974.
DOI: 10.1109/TNS.1974.6499235

Kak A. C., Slaney M., "Principles of Computerized Tomographic Imaging",
IEEE Press, 1988, chapter 3. DOI: 10.1137/1.9780898719277
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = [
    "RECONSTRUCTION_FILTERS",
    "filter_window",
    "filter_frequency_response",
    "filter_projections",
]

#: Names of the reconstruction filters.
RECONSTRUCTION_FILTERS = ("ramp", "shepp-logan", "cosine", "hann")


def _check_filter(name: str, cutoff: float) -> None:
    if name not in RECONSTRUCTION_FILTERS:
        raise ValueError(f"`filter` must be one of {list(RECONSTRUCTION_FILTERS)}, got {name!r}")
    if not (isinstance(cutoff, (int, float)) and 0 < cutoff <= 1):
        raise ValueError(f"`cutoff` must be in (0, 1] (fraction of the Nyquist frequency), got {cutoff!r}")


def filter_window(name: str, x: np.ndarray, *, cutoff: float = 1.0) -> np.ndarray:
    """Return the window ``W(x)`` of filter ``name`` at ``x = f / f_Nyquist`` (``x >= 0``).

    Examples
    --------
    >>> filter_window("hann", np.array([0.0, 0.5, 1.0])).round(3).tolist()
    [1.0, 0.5, 0.0]
    """
    _check_filter(name, cutoff)
    x = np.abs(np.asarray(x, dtype=float))
    scaled = x / cutoff
    if name == "ramp":
        window = np.ones_like(scaled)
    elif name == "shepp-logan":
        window = np.sinc(scaled / 2)
    elif name == "cosine":
        window = np.cos(np.pi * scaled / 2)
    else:
        window = 0.5 * (1 + np.cos(np.pi * scaled))
    return np.where(scaled <= 1, window, 0.0)


def _padded_length(n: int) -> int:
    return max(64, 2 ** math.ceil(math.log2(2 * n)))


def _spatial_kernel(length: int, spacing: float, equiangular: bool) -> np.ndarray:
    """Return the discrete ramp kernel on ``length`` samples in FFT (wrapped) order.

    For an equiangular fan the kernel is ``0.5 (g / sin g)^2 h(g)`` at fan
    angle ``g`` (Kak and Slaney, chapter 3); otherwise ``h``.
    """
    k = np.fft.fftfreq(length, 1.0 / length)
    kernel = np.zeros(length)
    kernel[k == 0] = 1.0 / (4 * spacing**2)
    odd = (k.astype(int) % 2) == 1
    kernel[odd] = -1.0 / (np.pi * k[odd] * spacing) ** 2
    if equiangular:
        angle = k * spacing
        ratio = np.ones(length)
        nonzero = angle != 0
        ratio[nonzero] = angle[nonzero] / np.sin(angle[nonzero])
        kernel = 0.5 * ratio**2 * kernel
    return kernel


def filter_frequency_response(
    name: str, n_detectors: int, spacing: float, *, cutoff: float = 1.0, equiangular: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Return the frequencies and the real frequency response of a reconstruction filter.

    Parameters
    ----------
    name : {"ramp", "shepp-logan", "cosine", "hann"}
    n_detectors : int
        Detector elements per projection; the response is computed on the
        zero-padded length used by :func:`filter_projections`.
    spacing : float
        Sample pitch (mm, or radians for an equiangular fan).
    cutoff : float, default 1.0
        Window cutoff as a fraction of the Nyquist frequency.
    equiangular : bool, default False
        Use the equiangular fan-beam kernel.

    Returns
    -------
    frequencies : ndarray
        ``rfftfreq`` frequencies in cycles per unit of ``spacing``.
    response : ndarray
        ``spacing * DFT(kernel) * W``; close to ``|f|`` below the cutoff for
        the ramp.
    """
    _check_filter(name, cutoff)
    length = _padded_length(n_detectors)
    kernel = _spatial_kernel(length, spacing, equiangular)
    frequencies = np.fft.rfftfreq(length, spacing)
    response = spacing * np.real(np.fft.rfft(kernel))
    window = filter_window(name, frequencies * 2 * spacing, cutoff=cutoff)
    return frequencies, response * window


def filter_projections(
    projections: torch.Tensor,
    spacing: float,
    *,
    filter: str = "ramp",  # noqa: A002 - the field's name for the kernel
    cutoff: float = 1.0,
    equiangular: bool = False,
) -> torch.Tensor:
    """Convolve each detector row (last axis) with a reconstruction filter.

    The rows are zero-padded to at least twice their length, so the
    circular convolution of the FFT does not wrap around.

    Parameters
    ----------
    projections : tensor, (..., n_detectors)
        Weighted projections.
    spacing : float
        Detector pitch (mm, or radians for an equiangular fan).
    filter, cutoff, equiangular
        See :func:`filter_frequency_response`.

    Returns
    -------
    tensor, (..., n_detectors)
        Filtered projections, in units of the input per unit of ``spacing``.
    """
    n = projections.shape[-1]
    _, response = filter_frequency_response(filter, n, spacing, cutoff=cutoff, equiangular=equiangular)
    length = 2 * (response.size - 1)
    real_dtype = projections.dtype
    spectrum = torch.fft.rfft(projections, n=length, dim=-1)
    spectrum = spectrum * torch.as_tensor(response, dtype=real_dtype, device=projections.device)
    return torch.fft.irfft(spectrum, n=length, dim=-1)[..., :n]
