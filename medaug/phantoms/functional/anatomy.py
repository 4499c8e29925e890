"""Implicit anatomy in torch: smooth random fields on directions, approximate distances, tubes.

Building blocks of the procedural head (:mod:`medaug.phantoms.generators.head`).
Every function is point-wise: it takes points ``(N, 3)`` in mm (or unit
directions) and returns one value per point, so the result at a point never
depends on the other points, the grid or the batch size.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = [
    "MONOMIAL_COUNT",
    "direction_polynomials",
    "ellipsoid_depth",
    "fibonacci_sphere",
    "inside_ellipsoids",
    "inside_tube",
    "monomials",
    "unit_directions",
    "wave_field",
]

# Monomials of degree 1 to 3 in three variables: 3 + 6 + 10, in the order of monomials().
MONOMIAL_COUNT = 19

# Margin (mm) added to each tube segment's bounding box, far above float32 rounding.
_BOX_MARGIN_MM = 1e-3


def fibonacci_sphere(count: int) -> np.ndarray:
    """Return ``count`` nearly evenly spread unit vectors (golden-angle spiral), ``(count, 3)``."""
    index = np.arange(count) + 0.5
    z = 1.0 - 2.0 * index / count
    angle = math.pi * (3.0 - math.sqrt(5.0)) * index
    radius = np.sqrt(1.0 - z**2)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle), z], axis=-1)


def unit_directions(points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return unit vectors ``points / |points|`` and the norms; the origin maps to +z."""
    norm = torch.linalg.vector_norm(points, dim=-1, keepdim=True)
    fallback = torch.zeros_like(points)
    fallback[..., 2] = 1.0
    directions = torch.where(norm > 1e-9, points / norm.clamp_min(1e-9), fallback)
    return directions, norm[..., 0]


def monomials(directions: torch.Tensor) -> torch.Tensor:
    """Return the 19 monomials of degree 1 to 3 of ``directions`` ``(N, 3)``, shaped ``(N, 19)``.

    Order: x, y, z; xx, xy, xz, yy, yz, zz; xxx, xxy, xxz, xyy, xyz, xzz,
    yyy, yyz, yzz, zzz.

    A linear combination of them restricted to the unit sphere spans the
    real spherical harmonics of degree 1 to 3 (plus constants), so random
    coefficients give a smooth, low-order random field of the direction.
    """
    x, y, z = directions[..., 0], directions[..., 1], directions[..., 2]
    quadratic = [x * x, x * y, x * z, y * y, y * z, z * z]
    cubic = [quadratic[0] * x, quadratic[0] * y, quadratic[0] * z, quadratic[1] * y, quadratic[1] * z,
             quadratic[2] * z, quadratic[3] * y, quadratic[3] * z, quadratic[4] * z, quadratic[5] * z]
    return torch.stack([x, y, z, *quadratic, *cubic], dim=-1)


def direction_polynomials(directions: torch.Tensor, coefficients: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Return ``offsets + monomials(directions) @ coefficients``, shaped ``(N, F)``.

    ``coefficients`` is ``(19, F)`` and ``offsets`` ``(F,)``: ``F`` cubic
    polynomials of the direction at once. The monomials are built as rows
    of a ``(19, N)`` array and multiplied from the left, which is several
    times faster on CPU than :func:`monomials` followed by a matrix product
    with a narrow ``(19, F)`` matrix. The result is a transposed view.
    """
    rows = directions.T
    x, y, z = rows[0], rows[1], rows[2]
    basis = torch.empty((MONOMIAL_COUNT, directions.shape[0]), dtype=directions.dtype, device=directions.device)
    basis[0:3] = rows
    # Quadratic rows 3-8 (xx, xy, xz, yy, yz, zz), then cubic rows 9-18 in the order of monomials().
    for row, (first, second) in enumerate(((x, x), (x, y), (x, z), (y, y), (y, z), (z, z)), start=3):
        torch.mul(first, second, out=basis[row])
    cubic = ((3, x), (3, y), (3, z), (4, y), (4, z), (5, z), (6, y), (6, z), (7, z), (8, z))
    for row, (quadratic, factor) in enumerate(cubic, start=9):
        torch.mul(basis[quadratic], factor, out=basis[row])
    return torch.addmm(offsets[:, None], coefficients.T, basis).T


def ellipsoid_depth(points: torch.Tensor, semi_axes: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Return the approximate depth (mm) of ``points`` below an ellipsoid whose radius is scaled.

    The surface is ``|p / a| = scale(u)``, an ellipsoid of semi-axes ``a``
    whose radius along each direction is multiplied by ``scale`` (one value
    per point, 1 for the plain ellipsoid). The depth is the first-order
    distance ``(scale - |p / a|) / |grad |p / a||``, exact along the axes,
    positive inside and negative outside. ``semi_axes`` is ``(3,)`` or
    ``(N, 3)`` (a per-point ellipsoid).
    """
    normalised = points / semi_axes
    directions, radius = unit_directions(normalised)
    # |grad |q|| = |u / a| with u the unit direction of q = p / a.
    gradient = torch.linalg.vector_norm(directions / semi_axes, dim=-1)
    return (scale - radius) / gradient


def wave_field(
    points: torch.Tensor, frequencies: torch.Tensor, phases: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Evaluate a sum of random plane waves and its gradient at ``points`` ``(N, 3)``.

    ``F(q) = sqrt(2 / K) sum_k cos(2 pi f_k . q + phi_k)`` with ``K`` waves
    of frequencies ``f_k`` (cycles per unit of ``q``, ``(K, 3)``) and phases
    ``phi_k`` (radians, ``(K,)``). With random directions and uniform
    phases it is a stationary random field of unit variance whose spectrum
    is concentrated on ``|f| = |f_k|``.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        ``F`` shaped ``(N,)`` and ``grad F`` shaped ``(N, 3)``.
    """
    scale = math.sqrt(2.0 / frequencies.shape[0])
    angular = 2.0 * math.pi * frequencies
    argument = points @ angular.T + phases
    value = scale * torch.cos(argument).sum(dim=-1)
    gradient = -scale * (torch.sin(argument) @ angular)
    return value, gradient


def inside_tube(
    points: torch.Tensor,
    starts: torch.Tensor,
    ends: torch.Tensor,
    start_radii: torch.Tensor,
    end_radii: torch.Tensor,
) -> torch.Tensor:
    """Return which ``points`` lie inside a chain of tapered elliptic tube segments.

    Segment ``i`` runs from ``starts[i]`` to ``ends[i]`` (mm, ``(S, 3)``)
    with radii along x, y and z of ``start_radii[i]`` at its start and
    ``end_radii[i]`` at its end (mm, ``(S, 3)``). A point is inside a
    segment when its distance to the segment, measured with each axis
    divided by the segment's mean radius on that axis, is below the radius
    interpolated linearly along the segment (relative to that mean). The
    union over segments is returned, ``(N,)`` bool.
    """
    if starts.shape[0] == 0 or points.shape[0] == 0:
        return torch.zeros(points.shape[0], dtype=torch.bool, device=points.device)
    # Per-segment constants, all segments at once: the metric, the scaled ends and the taper.
    metric = 0.5 * (start_radii + end_radii)
    a = starts / metric
    axis = ends / metric - a
    length2 = (axis * axis).sum(dim=-1)
    inverse_length2 = torch.where(length2 > 0, 1.0 / length2.clamp_min(1e-30), torch.zeros_like(length2))
    mean_metric = metric.mean(dim=-1)
    taper_start = start_radii.mean(dim=-1) / mean_metric
    taper_end = end_radii.mean(dim=-1) / mean_metric
    # Along each axis, a segment contains only points within metric * max(taper) of its ends'
    # span. The exact test runs only on the (point, segment) pairs inside those boxes.
    reach = metric * torch.maximum(taper_start, taper_end)[:, None] + _BOX_MARGIN_MM
    low = torch.minimum(starts, ends) - reach
    high = torch.maximum(starts, ends) + reach
    in_box = torch.ones((points.shape[0], starts.shape[0]), dtype=torch.bool, device=points.device)
    for dim in range(3):
        coordinate = points[:, dim : dim + 1]
        in_box &= (coordinate >= low[:, dim]) & (coordinate <= high[:, dim])
    point, segment = torch.nonzero(in_box, as_tuple=True)
    p = points[point] / metric[segment] - a[segment]
    direction = axis[segment]
    t = ((p * direction).sum(dim=-1) * inverse_length2[segment]).clamp(0.0, 1.0)
    distance2 = ((p - t[:, None] * direction) ** 2).sum(dim=-1)
    taper = taper_start[segment] + t * (taper_end[segment] - taper_start[segment])
    inside = torch.zeros(points.shape[0], dtype=torch.bool, device=points.device)
    inside[point[distance2 < taper * taper]] = True
    return inside


def inside_ellipsoids(
    points: torch.Tensor, centers: torch.Tensor, semi_axes: torch.Tensor, rotations: torch.Tensor
) -> torch.Tensor:
    """Return the index of the last ellipsoid containing each point, or -1, ``(N,)`` int64.

    Ellipsoid ``i`` has centre ``centers[i]`` (mm), semi-axes
    ``semi_axes[i]`` (mm) and rotation ``rotations[i]`` whose columns are
    its axes in the frame of ``points``.
    """
    index = torch.full((points.shape[0],), -1, dtype=torch.int64, device=points.device)
    for number in range(centers.shape[0]):
        local = ((points - centers[number]) @ rotations[number]) / semi_axes[number]
        index[(local * local).sum(dim=-1) <= 1.0] = number
    return index

