"""Pure intensity functions on ``(C, *spatial)`` tensors (statistics per channel).

None of them clips or casts: integer inputs must be promoted by the caller
(see :func:`medaug.transforms.base.promote_intensity`), and outputs may leave
the input range unless the function is a window or a clip by definition.
Noise models live in :mod:`medaug.physics.noise`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import torch

__all__ = [
    "adjust_brightness_contrast",
    "adjust_gamma",
    "apply_intensity_curve",
    "bias_field",
    "bias_field_terms",
    "channel_percentiles",
    "clip",
    "rescale_percentiles",
    "window",
    "z_score",
]


def _channel_view(data: torch.Tensor) -> torch.Tensor:
    return data.reshape(data.shape[0], -1)


def _broadcast_channels(values: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
    return values.reshape((-1,) + (1,) * (data.ndim - 1))


def _channel_range(data: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    flat = _channel_view(data)
    return _broadcast_channels(flat.amin(dim=1), data), _broadcast_channels(flat.amax(dim=1), data)


def adjust_gamma(data: torch.Tensor, gamma: float) -> torch.Tensor:
    """Apply ``lo + (hi - lo) * ((x - lo) / (hi - lo)) ** gamma`` per channel.

    Working on the channel's own range makes gamma defined for negative
    intensities (CT in HU, z-scored MR) without NaN. A constant channel is
    returned unchanged.

    Examples
    --------
    >>> adjust_gamma(torch.tensor([[-1.0, 0.0, 1.0]]), 2.0).tolist()
    [[-1.0, -0.5, 1.0]]
    """
    low, high = _channel_range(data)
    extent = high - low
    safe = torch.where(extent > 0, extent, torch.ones_like(extent))
    unit = ((data - low) / safe).clamp(0.0, 1.0)
    return torch.where(extent > 0, low + extent * unit**gamma, data)


def adjust_brightness_contrast(data: torch.Tensor, brightness: float, contrast: float) -> torch.Tensor:
    """Apply ``mean + contrast * (x - mean) + brightness * std`` per channel.

    ``brightness`` is in units of the channel's standard deviation, so the
    same value means the same thing for CT, MR and photographs.
    """
    flat = _channel_view(data)
    mean = _broadcast_channels(flat.mean(dim=1), data)
    std = _broadcast_channels(flat.std(dim=1, unbiased=False), data)
    return mean + contrast * (data - mean) + brightness * std


def bias_field_terms(ndim: int, order: int) -> list[tuple[int, ...]]:
    """Return the Legendre degree tuples with total degree <= ``order``, constant term first."""
    return [d for d in itertools.product(range(order + 1), repeat=ndim) if sum(d) <= order]


def bias_field(
    shape: Sequence[int], coefficients: Sequence[float], order: int, *, dtype=torch.float32, device=None
) -> torch.Tensor:
    """Return the smooth multiplicative field ``exp(sum_k c_k P_k)`` on a grid of ``shape``.

    ``P_k`` are products of Legendre polynomials along each array axis, on
    coordinates scaled to [-1, 1], in the order of :func:`bias_field_terms`.
    The sum is :func:`medaug.physics.mri.artifacts.legendre_sum`, shared with
    :func:`medaug.physics.mri.artifacts.polynomial_bias_field` (whose terms
    omit the constant and come in another order).

    References
    ----------
    K. Van Leemput, F. Maes, D. Vandermeulen and P. Suetens, "Automated
    model-based bias field correction of MR images of the brain", IEEE
    Transactions on Medical Imaging 18(10), 885-896, 1999. DOI: 10.1109/42.811268
    """
    terms = bias_field_terms(len(shape), order)
    if len(coefficients) != len(terms):
        raise ValueError(
            f"`coefficients` must have {len(terms)} values for order {order} in {len(shape)}-D, "
            f"got {len(coefficients)}"
        )
    from medaug.physics.mri.artifacts import legendre_sum

    log_field = legendre_sum(tuple(shape), [float(c) for c in coefficients], terms)
    return torch.as_tensor(np.exp(log_field), dtype=dtype, device=device)


def apply_intensity_curve(data: torch.Tensor, knots_in: Sequence[float], knots_out: Sequence[float]) -> torch.Tensor:
    """Map intensities through a piecewise-linear curve on the channel's [min, max] range.

    Knots are in normalised units: 0 is the channel minimum and 1 its
    maximum. ``knots_in`` must increase from 0 to 1.
    """
    low, high = _channel_range(data)
    extent = high - low
    safe = torch.where(extent > 0, extent, torch.ones_like(extent))
    unit = ((data - low) / safe).clamp(0.0, 1.0)
    source = torch.as_tensor(knots_in, dtype=data.dtype, device=data.device)
    target = torch.as_tensor(knots_out, dtype=data.dtype, device=data.device)
    index = torch.bucketize(unit, source[1:-1])
    x0, x1 = source[index], source[index + 1]
    y0, y1 = target[index], target[index + 1]
    mapped = y0 + (y1 - y0) * (unit - x0) / (x1 - x0)
    return torch.where(extent > 0, low + extent * mapped, data)


def channel_percentiles(data: torch.Tensor, percentiles: Sequence[float], *, nonzero: bool = False) -> torch.Tensor:
    """Return ``(C, len(percentiles))`` percentiles per channel (linear between order statistics).

    On the CPU only the order statistics needed are found, with numpy's
    partition, which takes linear time: about 20 times faster than a full
    sort at 96 x 96 and 7 times at 128^3. On other devices, and for data
    that requires a gradient, the channel is sorted, so the percentiles stay
    differentiable.
    """
    rows = []
    q = np.asarray(percentiles, dtype=np.float64) / 100.0
    for channel in _channel_view(data):
        values = channel[channel != 0] if nonzero else channel
        if values.numel() == 0:
            values = channel
        position = q * (values.numel() - 1)
        low = np.floor(position).astype(np.int64)
        high = np.ceil(position).astype(np.int64)
        weight = torch.as_tensor(position - low, dtype=torch.float64, device=values.device)
        if values.device.type == "cpu" and not values.requires_grad:
            needed = np.unique(np.concatenate([low, high]))
            ordered = torch.from_numpy(np.partition(values.detach().reshape(-1).to(torch.float64).numpy(), needed))
        else:
            ordered = torch.sort(values.reshape(-1).to(torch.float64)).values
        index_device = ordered.device
        low_values = ordered[torch.from_numpy(low).to(index_device)]
        high_values = ordered[torch.from_numpy(high).to(index_device)]
        rows.append(low_values * (1 - weight) + high_values * weight)
    return torch.stack(rows).to(data.dtype)


def z_score(data: torch.Tensor, *, nonzero: bool = False) -> torch.Tensor:
    """Subtract the channel mean and divide by its standard deviation (unchanged scale if 0).

    With ``nonzero`` the statistics use non-zero voxels only, and zero
    voxels (background of skull-stripped images) stay 0.
    """
    result = []
    for channel in data:
        mask = channel != 0 if nonzero else torch.ones_like(channel, dtype=torch.bool)
        values = channel[mask] if bool(mask.any()) else channel.reshape(-1)
        mean = values.mean()
        std = values.std(unbiased=False)
        scaled = (channel - mean) / (std if float(std) > 0 else 1.0)
        result.append(torch.where(mask, scaled, channel) if nonzero else scaled)
    return torch.stack(result)


def rescale_percentiles(
    data: torch.Tensor, percentiles: Sequence[float], output_range: Sequence[float], *, nonzero: bool = False
) -> torch.Tensor:
    """Map the channel's two percentiles linearly onto ``output_range`` (no clipping)."""
    bounds = channel_percentiles(data, percentiles, nonzero=nonzero)
    low = _broadcast_channels(bounds[:, 0], data)
    high = _broadcast_channels(bounds[:, 1], data)
    extent = torch.where(high > low, high - low, torch.ones_like(high))
    return output_range[0] + (data - low) / extent * (output_range[1] - output_range[0])


def window(data: torch.Tensor, center: float, width: float, output_range: Sequence[float]) -> torch.Tensor:
    """Apply a display window: ``[center - width/2, center + width/2]`` onto ``output_range``, clipped."""
    low = center - width / 2.0
    unit = ((data - low) / width).clamp(0.0, 1.0)
    return output_range[0] + unit * (output_range[1] - output_range[0])


def clip(data: torch.Tensor, minimum: float | None, maximum: float | None) -> torch.Tensor:
    """Clip values to ``[minimum, maximum]`` (either bound may be None)."""
    return data.clamp(min=minimum, max=maximum)
