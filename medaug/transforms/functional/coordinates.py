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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from medaug.core.fields import GridField
from medaug.core.geometry import Geometry

__all__ = [
    "AffineMap",
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
    """

    displacement: torch.Tensor
    grid: Grid

    def __post_init__(self) -> None:
        expected = (self.grid.ndim, *self.grid.shape)
        if tuple(self.displacement.shape) != expected:
            raise ValueError(
                f"`displacement` must have shape {expected}, got {tuple(self.displacement.shape)}"
            )

    def evaluate(self, points: torch.Tensor) -> torch.Tensor:
        """Return ``u`` at physical points ``(..., n)`` (mm)."""
        n = self.grid.ndim
        flat = points.reshape(-1, n)
        to_index = np.linalg.inv(self.grid.geometry.affine)
        size = np.asarray(self.grid.shape, dtype=np.float64)
        # Index i maps to 2 i / (size - 1) - 1 (align_corners=True); a single
        # sample along an axis is constant, so any normalised value works.
        scale = np.where(size > 1, 2.0 / np.maximum(size - 1, 1), 0.0)
        normalise = np.diag(np.append(scale, 1.0))
        normalise[:n, n] = np.where(size > 1, -1.0, 0.0)
        matrix = torch.as_tensor(normalise @ to_index, dtype=flat.dtype, device=flat.device)
        normalised = flat @ matrix[:n, :n].T + matrix[:n, n]
        # grid_sample reads the last coordinate as the first array axis.
        sample_grid = normalised.flip(-1).reshape((1,) + (1,) * (n - 1) + (-1, n))
        field = self.displacement.to(device=flat.device, dtype=flat.dtype)[None]
        values = F.grid_sample(field, sample_grid, mode="bilinear", padding_mode="border", align_corners=True)
        return values.reshape(n, -1).T.reshape(points.shape)

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
