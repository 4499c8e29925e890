"""Separable Gaussian filtering and 1-D interpolation along one array axis.

Widths are given as full width at half maximum (FWHM) in mm and converted
with the grid spacing, so a filter blurs the same physical distance on
anisotropic voxels. ``sigma = fwhm / (2 sqrt(2 ln 2))``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = [
    "FWHM_PER_SIGMA",
    "fwhm_to_sigma_voxels",
    "gaussian_blur",
    "gaussian_kernel",
    "interpolate_axis",
]

#: Ratio of a Gaussian's full width at half maximum to its standard deviation.
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))

# Kernels are truncated at this many standard deviations (weight < 1.2e-4).
_TRUNCATE = 4.0


def fwhm_to_sigma_voxels(fwhm_mm: Sequence[float], spacing_mm: Sequence[float]) -> tuple[float, ...]:
    """Convert per-axis FWHM in mm to Gaussian standard deviations in voxels.

    Examples
    --------
    >>> round(fwhm_to_sigma_voxels([2.3548], [1.0])[0], 3)
    1.0
    """
    return tuple(f / FWHM_PER_SIGMA / s for f, s in zip(fwhm_mm, spacing_mm))


def gaussian_kernel(sigma: float, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """Return a normalised 1-D Gaussian kernel with standard deviation ``sigma`` voxels."""
    radius = max(1, int(math.ceil(_TRUNCATE * sigma)))
    positions = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (positions / sigma) ** 2)
    return (kernel / kernel.sum()).to(dtype=dtype, device=device)


def _convolve_axis(data: torch.Tensor, kernel: torch.Tensor, axis: int) -> torch.Tensor:
    """Convolve ``(C, *spatial)`` with a 1-D kernel along spatial ``axis``, mirroring edges."""
    moved = torch.movedim(data, 1 + axis, -1)
    shape = moved.shape
    rows = moved.reshape(-1, 1, shape[-1])
    radius = kernel.numel() // 2
    mode = "reflect" if radius < shape[-1] else "replicate"
    padded = F.pad(rows, (radius, radius), mode=mode)
    filtered = F.conv1d(padded, kernel.reshape(1, 1, -1))
    return torch.movedim(filtered.reshape(shape), -1, 1 + axis)


def gaussian_blur(data: torch.Tensor, sigma_voxels: Sequence[float]) -> torch.Tensor:
    """Blur ``(C, *spatial)`` with a separable Gaussian; sigma per spatial axis in voxels.

    Axes with sigma 0 are left alone. Edges are mirrored, so the mean
    intensity of a constant image is kept exactly.
    """
    ndim = data.ndim - 1
    if len(sigma_voxels) != ndim:
        raise ValueError(f"`sigma_voxels` must have {ndim} values, got {len(sigma_voxels)}")
    result = data
    for axis, sigma in enumerate(sigma_voxels):
        if sigma < 0:
            raise ValueError(f"`sigma_voxels` must be >= 0, got {sigma}")
        if sigma > 0 and data.shape[1 + axis] > 1:
            kernel = gaussian_kernel(sigma, dtype=data.dtype, device=data.device)
            result = _convolve_axis(result, kernel, axis)
    return result


def interpolate_axis(data: torch.Tensor, axis: int, positions: torch.Tensor) -> torch.Tensor:
    """Interpolate ``(C, *spatial)`` linearly at fractional indices along spatial ``axis``.

    Positions outside ``[0, size - 1]`` take the nearest edge value.
    """
    size = data.shape[1 + axis]
    positions = positions.to(data.device).clamp(0, size - 1)
    low = positions.floor().long().clamp(max=size - 1)
    high = (low + 1).clamp(max=size - 1)
    weight = (positions - low).to(data.dtype)
    lower = data.index_select(1 + axis, low)
    upper = data.index_select(1 + axis, high)
    view = [1] * data.ndim
    view[1 + axis] = -1
    weight = weight.reshape(view)
    return lower * (1 - weight) + upper * weight
