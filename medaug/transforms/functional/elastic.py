"""Smooth displacement fields from control points: cubic B-splines and scaling and squaring.

Control points sit on a regular grid along the image's array axes with
spacing ``control_spacing_mm``, one extra point beyond each end so the
spline covers the whole field of view. The displacement at a point is the
cubic B-spline combination of the control-point vectors (mm, physical x-y-z
components), evaluated on a dense grid a few times finer than the control
grid and interpolated linearly from there.

In diffeomorphic mode the spline is a stationary velocity field ``v``, and
the displacement is ``exp(v)``, computed by scaling and squaring. The
velocity is halved until it moves less than a fraction of a dense voxel,
and the small map is then composed with itself as many times. The result is invertible with a
positive Jacobian determinant.

References
----------
D. Rueckert, L. I. Sonoda, C. Hayes, D. L. G. Hill, M. O. Leach and
D. J. Hawkes, "Nonrigid registration using free-form deformations:
application to breast MR images", IEEE Transactions on Medical Imaging
18(8), 712-721, 1999. DOI: 10.1109/42.796284

V. Arsigny, O. Commowick, X. Pennec and N. Ayache, "A Log-Euclidean
framework for statistics on diffeomorphisms", MICCAI 2006, LNCS 4190,
924-931. DOI: 10.1007/11866565_113
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from medaug.transforms.functional.coordinates import DisplacementMap, Grid

__all__ = [
    "bspline_basis",
    "control_grid_shape",
    "dense_displacement",
    "exponentiate_velocity",
]

# Dense samples per control spacing. Linear interpolation of a cubic spline
# sampled this finely deviates from it by a few percent of the control
# amplitude at most (h^2/8 times the second derivative, per axis).
_DENSE_PER_CONTROL = 4
# Scaling and squaring halves the velocity until it moves at most this
# fraction of a dense voxel, which keeps each small step invertible.
_MAX_STEP_FRACTION = 0.25


def bspline_basis(t: np.ndarray) -> np.ndarray:
    """Return the centred cubic B-spline ``beta3(t)``, zero for ``|t| >= 2``.

    Examples
    --------
    >>> bspline_basis(np.array([0.0, 1.0, 2.0])).round(4).tolist()
    [0.6667, 0.1667, 0.0]
    """
    t = np.abs(np.asarray(t, dtype=np.float64))
    near = 2.0 / 3.0 - t**2 + t**3 / 2.0
    far = (2.0 - t) ** 3 / 6.0
    return np.where(t < 1, near, np.where(t < 2, far, 0.0))


def control_grid_shape(grid: Grid, control_spacing_mm: tuple[float, ...]) -> tuple[int, ...]:
    """Return the number of control points per array axis for ``grid``."""
    extents = [(n - 1) * s for n, s in zip(grid.shape, grid.geometry.spacing)]
    return tuple(int(math.ceil(e / h)) + 3 for e, h in zip(extents, control_spacing_mm))


def _dense_grid(grid: Grid, control_spacing_mm: tuple[float, ...]) -> Grid:
    shape = []
    spacing = []
    for n, s, h in zip(grid.shape, grid.geometry.spacing, control_spacing_mm):
        extent = (n - 1) * s
        step = max(s, h / _DENSE_PER_CONTROL)
        count = int(math.ceil(extent / step)) + 1 if extent > 0 else 1
        shape.append(count)
        spacing.append(extent / (count - 1) if count > 1 else s)
    return Grid(tuple(shape), grid.geometry.replace(spacing=tuple(spacing)))


@functools.lru_cache(maxsize=64)
def _axis_weights(grid: Grid, axis: int, control_spacing_mm: float, count: int) -> np.ndarray:
    """Return the ``(voxels, control points)`` B-spline weights of one axis (cached: read-only)."""
    positions_mm = np.arange(grid.shape[axis]) * grid.geometry.spacing[axis]
    # Control point j sits at (j - 1) * spacing, so j = 1 is the first voxel.
    offsets = positions_mm[:, None] / control_spacing_mm + 1.0 - np.arange(count)[None, :]
    weights = bspline_basis(offsets)
    weights.flags.writeable = False
    return weights


def dense_displacement(
    control_displacements_mm: torch.Tensor,
    grid: Grid,
    control_spacing_mm: tuple[float, ...],
    *,
    diffeomorphic: bool = False,
) -> DisplacementMap:
    """Return the backward displacement map of control-point displacements on ``grid``.

    Parameters
    ----------
    control_displacements_mm : tensor, (n, *control_grid_shape)
        Control-point vectors in mm (physical x-y-z components).
    grid : Grid
        The image grid the deformation acts on.
    control_spacing_mm : tuple of float
        Control-point spacing in mm per array axis.
    diffeomorphic : bool, keyword-only
        Treat the spline as a stationary velocity field and exponentiate it.
    """
    expected = (grid.ndim, *control_grid_shape(grid, control_spacing_mm))
    if tuple(control_displacements_mm.shape) != expected:
        raise ValueError(
            f"`control_displacements_mm` must have shape {expected} for this grid and "
            f"control spacing, got {tuple(control_displacements_mm.shape)}"
        )
    dense = _dense_grid(grid, control_spacing_mm)
    control = control_displacements_mm.to(torch.float32)
    field = _evaluate_spline(control, dense, control_spacing_mm)
    if diffeomorphic:
        return DisplacementMap(exponentiate_velocity(field, dense).contiguous(), dense)

    def exact(matrix: np.ndarray, shape: tuple[int, ...]) -> torch.Tensor | None:
        # On the image grid itself the spline is evaluated at every voxel
        # directly, which is cheaper and more accurate than interpolating.
        if tuple(shape) != grid.shape or not np.allclose(matrix, grid.geometry.affine, rtol=0, atol=1e-9):
            return None
        return _evaluate_spline(control, grid, control_spacing_mm)

    return DisplacementMap(field.contiguous(), dense, exact)


def _evaluate_spline(control: torch.Tensor, grid: Grid, control_spacing_mm: tuple[float, ...]) -> torch.Tensor:
    """Evaluate the separable B-spline of ``control`` ``(n, *control_shape)`` at every voxel of ``grid``."""
    field = control
    for axis in range(grid.ndim):
        weights = _axis_weights(grid, axis, control_spacing_mm[axis], control.shape[1 + axis])
        matrix = torch.tensor(weights, dtype=field.dtype, device=field.device)
        field = torch.movedim(torch.tensordot(field, matrix, dims=([1 + axis], [1])), -1, 1 + axis)
    return field


def exponentiate_velocity(velocity: torch.Tensor, grid: Grid) -> torch.Tensor:
    """Return the displacement ``exp(v) - id`` of a stationary velocity field on ``grid``.

    Parameters
    ----------
    velocity : tensor, (n, *grid.shape)
        Velocity in mm per unit time, physical x-y-z components.
    """
    largest = float(velocity.abs().max()) if velocity.numel() else 0.0
    smallest_spacing = min(grid.geometry.spacing)
    steps = 0
    if largest > 0:
        steps = max(0, math.ceil(math.log2(largest / (_MAX_STEP_FRACTION * smallest_spacing))))
    displacement = velocity / (2**steps)
    points = _grid_points(grid, velocity)
    for _ in range(steps):
        step_map = DisplacementMap(displacement, grid)
        displacement = displacement + _channels_first(step_map.evaluate(points + _channels_last(displacement)))
    return displacement


def _grid_points(grid: Grid, like: torch.Tensor) -> torch.Tensor:
    """Return the physical points of every voxel of ``grid``, ``(*shape, n)``, in ``like``'s dtype and device."""
    return _cached_grid_points(grid).to(dtype=like.dtype, device=like.device)


@functools.lru_cache(maxsize=16)
def _cached_grid_points(grid: Grid) -> torch.Tensor:
    axes = [torch.arange(n, dtype=torch.float64) for n in grid.shape]
    index = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1)
    affine = torch.tensor(grid.geometry.affine)
    n = grid.ndim
    return index @ affine[:n, :n].T + affine[:n, n]


def _channels_last(field: torch.Tensor) -> torch.Tensor:
    return torch.movedim(field, 0, -1)


def _channels_first(field: torch.Tensor) -> torch.Tensor:
    return torch.movedim(field, -1, 0)
