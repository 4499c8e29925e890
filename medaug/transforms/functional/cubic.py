"""Cubic convolution interpolation in 2D and 3D (torch's grid_sample has it only in 2D).

References
----------
R. Keys, "Cubic convolution interpolation for digital image processing",
IEEE Transactions on Acoustics, Speech, and Signal Processing 29(6),
1153-1160, 1981. DOI: 10.1109/TASSP.1981.1163711
"""

from __future__ import annotations

import itertools

import torch

__all__ = ["cubic_weights", "grid_sample_cubic"]

# Keys' kernel parameter; a = -0.5 makes the interpolant third-order accurate.
_KEYS_A = -0.5


def cubic_weights(fraction: torch.Tensor) -> torch.Tensor:
    """Return Keys' weights ``(..., 4)`` of taps at offsets -1, 0, 1, 2 for ``fraction`` in [0, 1).

    Examples
    --------
    >>> cubic_weights(torch.tensor([0.0])).tolist()
    [[0.0, 1.0, 0.0, 0.0]]
    """
    a = _KEYS_A
    t = fraction
    distances = torch.stack([1 + t, t, 1 - t, 2 - t], dim=-1)
    near = ((a + 2) * distances - (a + 3)) * distances * distances + 1
    far = ((a * distances - 5 * a) * distances + 8 * a) * distances - 4 * a
    return torch.where(distances <= 1, near, far)


def _wrap_index(index: torch.Tensor, size: int, padding_mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    inside = (index >= 0) & (index < size)
    if padding_mode == "reflection":
        period = 2 * size
        index = torch.remainder(index, period)
        index = torch.where(index >= size, period - 1 - index, index)
        inside = torch.ones_like(inside)
    else:
        index = index.clamp(0, size - 1)
        if padding_mode == "border":
            inside = torch.ones_like(inside)
    return index, inside


def grid_sample_cubic(data: torch.Tensor, grid: torch.Tensor, *, padding_mode: str = "zeros") -> torch.Tensor:
    """Interpolate ``data`` ``(C, *spatial)`` (2 or 3 axes) at a normalised ``grid`` ``(*out, n)``.

    The grid follows ``torch.nn.functional.grid_sample`` with
    ``align_corners=False`` (last coordinate = first array axis). The kernel
    is Keys' with a = -0.5, which reproduces quadratic polynomials exactly;
    torch's own bicubic mode uses a = -0.75.
    """
    channels = data.shape[0]
    sizes = data.shape[1:]
    ndim = len(sizes)
    out_shape = grid.shape[:-1]
    flat_grid = grid.reshape(-1, ndim).flip(-1)
    size_tensor = torch.tensor(sizes, dtype=grid.dtype, device=grid.device)
    position = ((flat_grid + 1) * size_tensor - 1) / 2
    base = torch.floor(position)
    weights = cubic_weights(position - base)
    base = base.long()
    flat_data = data.reshape(channels, -1)
    result = torch.zeros((channels, flat_grid.shape[0]), dtype=data.dtype, device=data.device)
    taps = []
    strides = [1] * ndim
    for axis in range(ndim - 2, -1, -1):
        strides[axis] = strides[axis + 1] * sizes[axis + 1]
    for axis, size in enumerate(sizes):
        per_axis = []
        for offset in range(4):
            index, inside = _wrap_index(base[:, axis] + offset - 1, size, padding_mode)
            weight = weights[:, axis, offset] * inside.to(weights.dtype)
            per_axis.append((index * strides[axis], weight))
        taps.append(per_axis)
    for combination in itertools.product(*taps):
        index = combination[0][0]
        weight = combination[0][1]
        for axis_index, axis_weight in combination[1:]:
            index = index + axis_index
            weight = weight * axis_weight
        result += flat_data[:, index] * weight
    return result.reshape(channels, *out_shape)
