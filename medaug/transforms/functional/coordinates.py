"""Coordinate maps between physical (mm) grids: the algebra behind fused resampling.

A spatial transform is described by a :class:`SpatialPlan`: the output
:class:`Grid` and a chain of *backward* maps, each taking a physical point
of the output (mm, LPS, x-y-z order as in :mod:`medaug.core.geometry`) to
the physical point of the input it is read from. Backward maps are what
resampling needs: every output voxel looks up its source. Points and boxes
move with the *forward* map, the inverse of the chain.

Maps are applied to output points in the order of :attr:`SpatialPlan.maps`.
Running plan ``P1`` then plan ``P2`` is the plan with ``P2``'s output and the
maps ``P2.maps + P1.maps`` (see :func:`chain_plans`), so any number of
spatial transforms resample the data once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from medaug.core.fields import GridField
from medaug.core.geometry import Geometry

__all__ = [
    "AffineMap",
    "apply_affine_channels_first",
    "grid_from_affine",
    "DisplacementMap",
    "Grid",
    "SpatialPlan",
    "chain_plans",
    "map_points_backward",
    "map_points_forward",
]

# Fixed-point iterations that invert a displacement field; each halves the
# error or better when the displacement's Lipschitz constant is below 0.5.
_INVERSION_ITERATIONS = 20


@dataclass(frozen=True)
class Grid:
    """A voxel grid: spatial ``shape`` in array order and its :class:`Geometry`."""

    shape: tuple[int, ...]
    geometry: Geometry

    def __post_init__(self) -> None:
        shape = tuple(int(n) for n in self.shape)
        if len(shape) != self.geometry.ndim or any(n < 1 for n in shape):
            raise ValueError(
                f"grid shape {shape} must have {self.geometry.ndim} axes of size >= 1"
            )
        object.__setattr__(self, "shape", shape)

    @classmethod
    def of(cls, field: GridField) -> Grid:
        """Return the grid of an unbatched grid field."""
        if isinstance(field.geometry, tuple):
            raise ValueError("a batched field with one geometry per item has no single grid")
        return cls(field.spatial_shape, field.geometry)

    @property
    def ndim(self) -> int:
        """Number of spatial axes."""
        return len(self.shape)

    def center_mm(self) -> np.ndarray:
        """Return the physical centre of the grid in mm."""
        return self.geometry.center(self.shape)


@dataclass(frozen=True)
class AffineMap:
    """Backward affine map ``p_in = A p_out + b`` as a homogeneous ``(n+1, n+1)`` matrix in mm."""

    matrix: np.ndarray

    def __post_init__(self) -> None:
        matrix = np.asarray(self.matrix, dtype=np.float64)
        n = matrix.shape[0] - 1
        if matrix.shape != (n + 1, n + 1) or n not in (2, 3):
            raise ValueError(f"`matrix` must be 3x3 or 4x4 homogeneous, got shape {matrix.shape}")
        if not np.all(np.isfinite(matrix)):
            raise ValueError("`matrix` must be finite")
        object.__setattr__(self, "matrix", matrix)

    def inverse(self) -> AffineMap:
        """Return the inverse map."""
        return AffineMap(np.linalg.inv(self.matrix))

    def apply(self, points: torch.Tensor) -> torch.Tensor:
        """Map points ``(..., n)`` in mm."""
        n = self.matrix.shape[0] - 1
        matrix = torch.as_tensor(self.matrix, dtype=points.dtype, device=points.device)
        return points @ matrix[:n, :n].T + matrix[:n, n]


@dataclass(frozen=True, eq=False)
class DisplacementMap:
    """Backward map ``p_in = p_out + u(p_out)`` with ``u`` sampled on a grid.

    Parameters
    ----------
    displacement : tensor, (n, *grid.shape)
        Displacement in mm; component ``k`` is along physical axis ``k``
        (x, y, z). Between samples it is interpolated linearly; outside the
        grid it takes the value at the nearest border sample.
    grid : Grid
        Where ``displacement`` is sampled.
    exact : callable, optional
        ``exact(matrix, shape)`` returns ``u`` ``(n, *shape)`` at the points
        ``matrix @ [index, 1]`` of a grid of ``shape`` without interpolating
        the sampled field, or None where it cannot (a B-spline evaluates
        itself exactly on the grid it was built for).
    """

    displacement: torch.Tensor
    grid: Grid
    exact: Callable[[np.ndarray, tuple[int, ...]], torch.Tensor | None] | None = None

    def __post_init__(self) -> None:
        expected = (self.grid.ndim, *self.grid.shape)
        if tuple(self.displacement.shape) != expected:
            raise ValueError(
                f"`displacement` must have shape {expected}, got {tuple(self.displacement.shape)}"
            )

    def normalising_matrix(self) -> np.ndarray:
        """Return the affine from physical mm to grid_sample coordinates of the field (array order)."""
        n = self.grid.ndim
        size = np.asarray(self.grid.shape, dtype=np.float64)
        # Index i maps to 2 i / (size - 1) - 1 (align_corners=True); a single
        # sample along an axis is constant, so any normalised value works.
        scale = np.where(size > 1, 2.0 / np.maximum(size - 1, 1), 0.0)
        normalise = np.diag(np.append(scale, 1.0))
        normalise[:n, n] = np.where(size > 1, -1.0, 0.0)
        return normalise @ np.linalg.inv(self.grid.geometry.affine)

    def sample(self, normalised: torch.Tensor) -> torch.Tensor:
        """Interpolate the field at normalised coordinates ``(*shape, n)`` (array order) -> ``(n, *shape)``."""
        n = self.grid.ndim
        shape = normalised.shape[:-1]
        # grid_sample reads the last coordinate as the first array axis.
        sample_grid = normalised.flip(-1).reshape((1,) + (1,) * (n - 1) + (-1, n))
        field = self.displacement.to(device=normalised.device, dtype=normalised.dtype)[None]
        values = F.grid_sample(field, sample_grid, mode="bilinear", padding_mode="border", align_corners=True)
        return values.reshape(n, *shape)

    def evaluate(self, points: torch.Tensor) -> torch.Tensor:
        """Return ``u`` at physical points ``(..., n)`` (mm)."""
        normalised = AffineMap(self.normalising_matrix()).apply(points)
        return torch.movedim(self.sample(normalised), 0, -1)

    def evaluate_on_grid(self, matrix: np.ndarray, shape: tuple[int, ...], *, dtype, device) -> torch.Tensor:
        """Return ``u`` ``(n, *shape)`` at the points ``matrix @ [index, 1]`` of a grid."""
        if self.exact is not None:
            values = self.exact(matrix, shape)
            if values is not None:
                return values.to(dtype=dtype, device=device)
        normalised = grid_from_affine(self.normalising_matrix() @ matrix, shape, dtype=dtype, device=device)
        return self.sample(torch.movedim(normalised, 0, -1))

    def apply(self, points: torch.Tensor) -> torch.Tensor:
        """Map points ``(..., n)`` in mm."""
        return points + self.evaluate(points)

    def apply_inverse(self, points: torch.Tensor) -> torch.Tensor:
        """Solve ``q + u(q) = p`` for ``q`` by fixed-point iteration."""
        estimate = points.clone()
        for _ in range(_INVERSION_ITERATIONS):
            estimate = points - self.evaluate(estimate)
        return estimate


CoordinateMap = AffineMap | DisplacementMap


def grid_from_affine(matrix: np.ndarray, shape: Sequence[int], *, dtype, device) -> torch.Tensor:
    """Return ``matrix @ [index, 1]`` at every index of ``shape``, channels first ``(n, *shape)``.

    Built by broadcasting one row vector per axis, which costs a few passes
    over the output instead of a matrix product per voxel.
    """
    n = len(shape)
    axes = []
    for j, size in enumerate(shape):
        view = [1] * n
        view[j] = size
        axes.append(torch.arange(size, dtype=dtype, device=device).reshape(view))
    components = torch.empty((matrix.shape[0] - 1, *shape), dtype=dtype, device=device)
    for k in range(matrix.shape[0] - 1):
        value = torch.full((1,) * n, float(matrix[k, n]), dtype=dtype, device=device)
        for j in range(n):
            if matrix[k, j] != 0.0:
                value = value + float(matrix[k, j]) * axes[j]
        components[k] = value
    return components


def apply_affine_channels_first(points: torch.Tensor, matrix: np.ndarray) -> torch.Tensor:
    """Map points stored channels first ``(n, *shape)`` through a homogeneous matrix."""
    n = points.shape[0]
    result = torch.empty((matrix.shape[0] - 1, *points.shape[1:]), dtype=points.dtype, device=points.device)
    for k in range(matrix.shape[0] - 1):
        row = result[k]
        row.fill_(float(matrix[k, n]))
        for j in range(n):
            if matrix[k, j] != 0.0:
                row.add_(points[j], alpha=float(matrix[k, j]))
    return result


@dataclass(frozen=True, eq=False)
class SpatialPlan:
    """Output grid plus backward maps (applied to output points in list order)."""

    output: Grid
    maps: tuple[CoordinateMap, ...] = ()


def chain_plans(plans: Sequence[SpatialPlan]) -> SpatialPlan:
    """Return the plan of running ``plans`` one after another (first plan first)."""
    if not plans:
        raise ValueError("`plans` must contain at least one plan")
    maps: list[CoordinateMap] = []
    for plan in reversed(plans):
        maps.extend(plan.maps)
    return SpatialPlan(plans[-1].output, tuple(_merge_affine(maps)))


def _merge_affine(maps: Sequence[CoordinateMap]) -> list[CoordinateMap]:
    """Multiply runs of consecutive affine maps into one matrix each."""
    merged: list[CoordinateMap] = []
    for current in maps:
        if merged and isinstance(current, AffineMap) and isinstance(merged[-1], AffineMap):
            # Applied in list order: previous first, then current.
            merged[-1] = AffineMap(current.matrix @ merged[-1].matrix)
        else:
            merged.append(current)
    return merged


def map_points_backward(maps: Sequence[CoordinateMap], points: torch.Tensor) -> torch.Tensor:
    """Map output points ``(..., n)`` in mm to the input points they are read from."""
    for coordinate_map in maps:
        points = coordinate_map.apply(points)
    return points


def map_points_forward(maps: Sequence[CoordinateMap], points: torch.Tensor) -> torch.Tensor:
    """Map input points ``(..., n)`` in mm to where they land in the output."""
    for coordinate_map in reversed(maps):
        if isinstance(coordinate_map, AffineMap):
            points = coordinate_map.inverse().apply(points)
        else:
            points = coordinate_map.apply_inverse(points)
    return points
