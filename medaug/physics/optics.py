"""Generic optics: PSF blur, slice profile and partial-volume downsampling, resolution loss.

Images are ``(..., *spatial)`` where the number of spatial axes is the
length of ``spacing_mm`` (2 or 3); leading axes are batch and channel
axes. Numpy in gives numpy out, integers are promoted to floating point,
and zero blur returns the input unchanged. Edges are padded by
replication unless ``edge="reflect"`` is asked for; either way a uniform
image stays uniform and nothing is clipped.

:func:`gaussian_filter` is the one Gaussian filter of the package: the
blur, sharpening, anti-aliasing and slice-profile transforms of
:mod:`medaug.transforms` call it too.

References
----------
Greenspan H., "Super-resolution in medical imaging", The Computer Journal
52(1), 43-63, 2009. DOI: 10.1093/comjnl/bxm075
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from medaug.core.fields import as_tensor
from medaug.physics.noise import promote_to_float

__all__ = [
    "FWHM_PER_SIGMA",
    "fwhm_to_sigma_voxels",
    "gaussian_filter",
    "gaussian_kernel_1d",
    "psf_blur",
    "convolve_kernel",
    "downsample",
    "upsample_to_shape",
    "degrade_resolution",
]

#: Ratio of a Gaussian's full width at half maximum to its standard deviation.
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


def _prepare(image: Any, ndim: int) -> tuple[torch.Tensor, bool]:
    was_numpy = isinstance(image, np.ndarray)
    tensor = as_tensor(image, "image")
    if tensor.is_complex():
        raise TypeError(f"`image` must be real, got {tensor.dtype}")
    if tensor.ndim < ndim:
        raise ValueError(f"`image` must have at least {ndim} axes, got shape {tuple(tensor.shape)}")
    tensor = promote_to_float(tensor)
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError("`image` contains NaN or inf; replace non-finite values first")
    return tensor, was_numpy


def _finish(result: torch.Tensor, was_numpy: bool) -> Any:
    return result.detach().cpu().numpy() if was_numpy else result


def _per_axis(value: float | Sequence[float], ndim: int, name: str, *, positive: bool) -> tuple[float, ...]:
    array = np.asarray(value, dtype=float)
    if array.ndim > 1 or array.size not in (1, ndim):
        raise ValueError(f"`{name}` must be one value or {ndim} values (one per spatial axis), got {value!r}")
    values = np.broadcast_to(array.reshape(-1), (ndim,))
    bad = values <= 0 if positive else values < 0
    if not np.all(np.isfinite(values)) or np.any(bad):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"`{name}` must be {ndim} finite values {bound} mm, got {value!r}")
    return tuple(float(v) for v in values)


def _spatial_ndim(spacing_mm: Sequence[float]) -> int:
    ndim = len(tuple(spacing_mm))
    if ndim not in (1, 2, 3):
        raise ValueError(f"`spacing_mm` must give 1, 2 or 3 axes, got {spacing_mm!r}")
    return ndim


def _check_edge(edge: str) -> None:
    if edge not in ("replicate", "reflect"):
        raise ValueError(f"`edge` must be 'replicate' or 'reflect', got {edge!r}")


def fwhm_to_sigma_voxels(fwhm_mm: Sequence[float], spacing_mm: Sequence[float]) -> tuple[float, ...]:
    """Convert per-axis FWHM in mm to Gaussian standard deviations in voxels.

    ``sigma = fwhm / (2 sqrt(2 ln 2)) / spacing`` on each axis.

    Examples
    --------
    >>> round(fwhm_to_sigma_voxels([2.3548], [1.0])[0], 3)
    1.0
    """
    return tuple(float(f) / FWHM_PER_SIGMA / float(s) for f, s in zip(fwhm_mm, spacing_mm))


def gaussian_kernel_1d(
    sigma_voxels: float, *, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None
) -> torch.Tensor:
    """Return a normalised sampled Gaussian spanning +-4 sigma (at least 3 taps).

    The weight cut off beyond 4 sigma is below 1.2e-4 of the total.

    Examples
    --------
    >>> round(float(gaussian_kernel_1d(1.5).sum()), 12)
    1.0
    """
    radius = max(1, math.ceil(4 * sigma_voxels))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (offsets / sigma_voxels) ** 2)
    return (kernel / kernel.sum()).to(dtype=dtype, device=device)


def _convolve_axis(data: torch.Tensor, kernel: torch.Tensor, axis: int, edge: str) -> torch.Tensor:
    moved = data.movedim(axis, -1)
    shape = moved.shape
    rows = moved.reshape(-1, 1, shape[-1])
    radius = (kernel.numel() - 1) // 2
    after = kernel.numel() - 1 - radius
    # torch's reflect padding needs the pad to be shorter than the axis.
    mode = "reflect" if edge == "reflect" and max(radius, after) < shape[-1] else "replicate"
    padded = F.pad(rows, (radius, after), mode=mode)
    out = F.conv1d(padded, kernel.flip(0).view(1, 1, -1).to(rows))
    return out.reshape(shape).movedim(-1, axis)


def gaussian_filter(data: torch.Tensor, sigma_voxels: Sequence[float], *, edge: str = "replicate") -> torch.Tensor:
    """Filter the trailing axes of ``data`` with a separable Gaussian.

    Parameters
    ----------
    data : tensor, (..., *spatial), floating point
        The last ``len(sigma_voxels)`` axes are filtered.
    sigma_voxels : sequence of float
        Standard deviation per spatial axis, in voxels; 0 leaves the axis
        alone, and so does an axis of size 1.
    edge : {"replicate", "reflect"}, keyword-only
        Padding beyond the border: repeat the edge voxel, or mirror about
        it without repeating it. ``reflect`` falls back to ``replicate`` on
        an axis shorter than the kernel radius + 1. Both keep a constant
        image constant.

    Examples
    --------
    >>> step = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
    >>> gaussian_filter(step, [0.0, 1.0]).sum().item() == step.sum().item()
    True
    """
    _check_edge(edge)
    ndim = len(sigma_voxels)
    if ndim > data.ndim:
        raise ValueError(f"`sigma_voxels` has {ndim} values but `data` has only {data.ndim} axes")
    result = data
    for offset, sigma in enumerate(sigma_voxels):
        if not (math.isfinite(sigma) and sigma >= 0):
            raise ValueError(f"`sigma_voxels` must be finite and >= 0, got {list(sigma_voxels)}")
        axis = data.ndim - ndim + offset
        if sigma > 0 and data.shape[axis] > 1:
            kernel = gaussian_kernel_1d(sigma, dtype=data.dtype, device=data.device)
            result = _convolve_axis(result, kernel, axis, edge)
    return result


def psf_blur(
    image: Any,
    fwhm_mm: float | Sequence[float],
    *,
    spacing_mm: Sequence[float],
    edge: str = "replicate",
) -> Any:
    """Blur with a separable Gaussian point spread function of ``fwhm_mm`` per axis.

    Parameters
    ----------
    image : tensor or ndarray, (..., *spatial)
    fwhm_mm : float or sequence of float
        Full width at half maximum per spatial axis (array order), mm; 0
        leaves that axis sharp.
    spacing_mm : sequence of float
        Pixel spacing per spatial axis, mm; its length sets the number of
        spatial axes.
    edge : {"replicate", "reflect"}, keyword-only
        Padding beyond the border, see :func:`gaussian_filter`.

    Examples
    --------
    >>> x = np.zeros((9, 9)); x[4, 4] = 1.0
    >>> round(float(psf_blur(x, 2.0, spacing_mm=(1.0, 1.0)).sum()), 6)
    1.0
    """
    ndim = _spatial_ndim(spacing_mm)
    spacing = _per_axis(spacing_mm, ndim, "spacing_mm", positive=True)
    fwhm = _per_axis(fwhm_mm, ndim, "fwhm_mm", positive=False)
    _check_edge(edge)
    data, was_numpy = _prepare(image, ndim)
    if all(f == 0 for f in fwhm):
        return image
    return _finish(gaussian_filter(data, fwhm_to_sigma_voxels(fwhm, spacing), edge=edge), was_numpy)


def convolve_kernel(image: Any, kernel: Any) -> Any:
    """Convolve with a given PSF ``kernel`` (odd size on every axis), keeping the shape.

    The kernel is used as given (normalise it to keep the mean intensity);
    its number of axes sets the number of spatial axes.
    """
    weights = as_tensor(kernel, "kernel")
    ndim = weights.ndim
    if ndim not in (1, 2, 3) or any(n % 2 == 0 for n in weights.shape):
        raise ValueError(f"`kernel` must have 1-3 axes of odd size, got shape {tuple(weights.shape)}")
    data, was_numpy = _prepare(image, ndim)
    weights = promote_to_float(weights).to(dtype=data.dtype, device=data.device)
    spatial = data.shape[-ndim:]
    flat = data.reshape(-1, 1, *spatial)
    padding = [r for n in reversed(weights.shape) for r in ((n - 1) // 2,) * 2]
    padded = F.pad(flat, padding, mode="replicate")
    convolve = (F.conv1d, F.conv2d, F.conv3d)[ndim - 1]
    out = convolve(padded, weights.flip(list(range(ndim)))[None, None])
    return _finish(out.reshape(data.shape), was_numpy)


def downsample(
    image: Any,
    factors: int | Sequence[int],
    *,
    spacing_mm: Sequence[float],
    profile: str = "rect",
) -> tuple[Any, tuple[float, ...]]:
    """Acquire at a coarser grid: integrate over a slice profile, then sample.

    Parameters
    ----------
    image : tensor or ndarray, (..., *spatial)
        Every spatial size must be divisible by its factor.
    factors : int or sequence of int
        Integer downsampling factor per spatial axis (1 keeps the axis).
    spacing_mm : sequence of float
        Input spacing per spatial axis, mm.
    profile : {"rect", "gaussian"}, default "rect"
        ``rect`` averages each block of ``factor`` voxels (partial-volume
        effect of a thick slice with an ideal profile); ``gaussian`` blurs
        with FWHM ``factor * spacing`` (a realistic slice profile) and
        samples the block centres.

    Returns
    -------
    image : tensor or ndarray, (..., *coarse)
    spacing_mm : tuple of float
        The coarse spacing, ``factor * spacing``.
    """
    ndim = _spatial_ndim(spacing_mm)
    spacing = _per_axis(spacing_mm, ndim, "spacing_mm", positive=True)
    steps = tuple(int(f) for f in np.broadcast_to(np.asarray(factors), (ndim,)))
    if any(f < 1 for f in steps):
        raise ValueError(f"`factors` must be integers >= 1, got {factors!r}")
    if profile not in ("rect", "gaussian"):
        raise ValueError(f"`profile` must be 'rect' or 'gaussian', got {profile!r}")
    data, was_numpy = _prepare(image, ndim)
    spatial = data.shape[-ndim:]
    if any(n % f for n, f in zip(spatial, steps)):
        raise ValueError(f"spatial shape {tuple(spatial)} must be divisible by `factors` {steps}")

    coarse_spacing = tuple(f * s for f, s in zip(steps, spacing))
    if profile == "rect":
        blocks = data.reshape(*data.shape[:-ndim], *[v for n, f in zip(spatial, steps) for v in (n // f, f)])
        result = blocks.mean(dim=tuple(data.ndim - ndim + 2 * i + 1 for i in range(ndim)))
        return _finish(result, was_numpy), coarse_spacing
    fwhm = tuple(c if f > 1 else 0.0 for c, f in zip(coarse_spacing, steps))
    blurred = psf_blur(data, fwhm, spacing_mm=spacing)
    # Block centres sit between samples for even factors: average the two
    # middle samples of each block.
    result = blurred
    for offset, f in enumerate(steps):
        if f == 1:
            continue
        axis = result.ndim - ndim + offset
        low = result.narrow(axis, (f - 1) // 2, result.shape[axis] - (f - 1) // 2)
        high = result.narrow(axis, f // 2, result.shape[axis] - f // 2)
        length = min(low.shape[axis], high.shape[axis])
        middle = 0.5 * (low.narrow(axis, 0, length) + high.narrow(axis, 0, length))
        result = middle.index_select(axis, torch.arange(0, length, f, device=middle.device))
    return _finish(result, was_numpy), coarse_spacing


def upsample_to_shape(image: Any, shape: Sequence[int], *, mode: str = "linear") -> Any:
    """Interpolate a coarse image back to ``shape`` on the same field of view.

    Voxel centres follow the cell-centred convention (``align_corners=False``),
    which matches :func:`downsample`. ``mode`` is "linear" or "nearest".
    """
    ndim = len(tuple(shape))
    if mode not in ("linear", "nearest"):
        raise ValueError(f"`mode` must be 'linear' or 'nearest', got {mode!r}")
    data, was_numpy = _prepare(image, ndim)
    flat = data.reshape(-1, 1, *data.shape[-ndim:])
    torch_mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[ndim] if mode == "linear" else "nearest"
    options = {"align_corners": False} if mode == "linear" else {}
    out = F.interpolate(flat, size=tuple(int(n) for n in shape), mode=torch_mode, **options)
    return _finish(out.reshape(*data.shape[:-ndim], *out.shape[2:]), was_numpy)


def degrade_resolution(
    image: Any,
    factors: int | Sequence[int],
    *,
    spacing_mm: Sequence[float],
    profile: str = "rect",
    mode: str = "linear",
) -> Any:
    """Lose resolution (downsample with a slice profile) and restore the original grid.

    The result has the input's shape and spacing, like a thick-slice scan
    interpolated to thin slices. All factors 1 return the input unchanged.
    """
    ndim = _spatial_ndim(spacing_mm)
    steps = np.broadcast_to(np.asarray(factors), (ndim,))
    if np.all(steps == 1):
        _prepare(image, ndim)
        return image
    coarse, _ = downsample(image, factors, spacing_mm=spacing_mm, profile=profile)
    shape = as_tensor(image, "image").shape[-ndim:]
    return upsample_to_shape(coarse, shape, mode=mode)
