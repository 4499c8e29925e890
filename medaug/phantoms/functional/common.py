"""Shared helpers of the phantom functional layer: validation and packing."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from medaug.phantoms.primitives import Primitive

__all__ = [
    "check_primitives",
    "check_shape",
    "check_spacing",
    "check_supersample",
    "grid_coordinates",
    "primitive_values",
    "sub_sample_points",
]


def check_primitives(primitives: Sequence[Primitive]) -> int:
    """Validate a non-empty list of primitives of one dimension; return that dimension."""
    if isinstance(primitives, Primitive):
        raise TypeError("`primitives` must be a sequence of Primitive, got a single Primitive")
    primitives = list(primitives)
    if not primitives:
        raise ValueError("`primitives` must not be empty: a phantom needs at least one shape")
    for index, primitive in enumerate(primitives):
        if not isinstance(primitive, Primitive):
            raise TypeError(
                f"`primitives[{index}]` must be a Primitive, got {type(primitive).__name__}"
            )
    dims = {p.ndim for p in primitives}
    if len(dims) != 1:
        raise ValueError(f"`primitives` must all have the same dimension, got {sorted(dims)}")
    return dims.pop()


def check_shape(shape: Sequence[int], ndim: int) -> tuple[int, ...]:
    """Validate a grid shape of ``ndim`` positive ints."""
    try:
        values = tuple(int(n) for n in shape)
    except TypeError as error:
        raise TypeError(f"`shape` must be a sequence of ints, got {shape!r}") from error
    if len(values) != ndim or any(n != m for n, m in zip(values, shape)):
        raise ValueError(f"`shape` must have {ndim} integer sizes, got {tuple(shape)!r}")
    if any(n < 1 for n in values):
        raise ValueError(f"`shape` must be >= 1 on every axis, got {values}")
    return values


def check_spacing(spacing_mm: float | Sequence[float], ndim: int) -> tuple[float, ...]:
    """Validate voxel spacing in mm (array order); a scalar applies to every axis."""
    array = np.asarray(spacing_mm, dtype=float).reshape(-1)
    if array.size == 1:
        array = np.repeat(array, ndim)
    if array.size != ndim:
        raise ValueError(f"`spacing_mm` must have 1 or {ndim} values, got {array.size}")
    if not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(f"`spacing_mm` must be finite and > 0, got {tuple(array.tolist())}")
    return tuple(float(v) for v in array)


def check_supersample(supersample: int) -> int:
    """Validate the supersampling factor (sub-samples per voxel and axis)."""
    if isinstance(supersample, bool) or not isinstance(supersample, (int, np.integer)):
        raise TypeError(f"`supersample` must be an int, got {type(supersample).__name__}")
    if supersample < 1:
        raise ValueError(f"`supersample` must be >= 1, got {supersample}")
    return int(supersample)


def grid_coordinates(
    shape: Sequence[int],
    spacing_mm: Sequence[float],
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
) -> list[torch.Tensor]:
    """Return the 1-D voxel-centre coordinates (mm) of a centred grid, in physical order.

    Array axis ``a`` of ``shape`` (array order, ``(D, H, W)`` or ``(H, W)``)
    runs along physical axis ``n - 1 - a`` (W along x, H along y, D along z)
    and index ``shape[a] // 2`` sits at 0 mm, as in a centred FFT. Element
    ``j`` of the result is the coordinate vector of physical axis ``j``.
    """
    ndim = len(shape)
    coordinates = []
    for axis_physical in range(ndim):
        axis = ndim - 1 - axis_physical
        size = shape[axis]
        index = torch.arange(size, device=device, dtype=dtype) - (size // 2)
        coordinates.append(index * spacing_mm[axis])
    return coordinates


def sub_sample_points(
    shape: Sequence[int],
    spacing_mm: Sequence[float],
    supersample: int,
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
):
    """Yield the physical points (mm) of each sub-sample offset of a centred grid, ``(N, n)``.

    ``spacing_mm`` is in array order, like ``shape``. Each voxel gets
    ``supersample**n`` evenly spread sub-samples (midpoint rule). One
    offset is yielded at a time, with the voxels in C order of ``shape``
    and the coordinates in physical order (x, y[, z]).
    """
    supersample = check_supersample(supersample)
    coordinates = grid_coordinates(shape, spacing_mm, device=device, dtype=dtype)
    fractions = (np.arange(supersample) + 0.5) / supersample - 0.5
    spacing_physical = list(reversed(tuple(spacing_mm)))
    for offset in itertools.product(*[fractions * step for step in spacing_physical]):
        shifted = [c + float(o) for c, o in zip(coordinates, offset)]
        mesh = torch.meshgrid(*reversed(shifted), indexing="ij")
        yield torch.stack([m.reshape(-1) for m in reversed(mesh)], dim=-1)


def primitive_values(
    primitives: Sequence[Primitive], values: Any, *, dtype: torch.dtype, device: Any
) -> torch.Tensor:
    """Return per-primitive weights ``(P,)`` or ``(P, C)``: ``values`` or each ``.value``."""
    if values is None:
        return torch.tensor([p.value for p in primitives], dtype=dtype, device=device)
    tensor = torch.as_tensor(values, dtype=dtype, device=device)
    if tensor.ndim not in (1, 2) or tensor.shape[0] != len(primitives):
        raise ValueError(
            f"`values` must be shaped (P,) or (P, C) with P = {len(primitives)} primitives, "
            f"got {tuple(tensor.shape)}"
        )
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError("`values` must be finite")
    return tensor
