"""Closed-form parallel-beam projections (2D Radon transform) of primitives.

The projection at angle theta and detector position t (mm) is the line
integral

    p(theta, t) = integral f(t n + s n_perp) ds,   n = (cos theta, sin theta),

with n in physical (x, y) coordinates and theta in degrees from +x towards
+y. For a primitive with centre c, write t' = t - n . c and
m = R^T n = (cos a, sin a) for the ray normal in the primitive's frame:

* ellipse (semi-axes a0, a1): with r^2 = a0^2 cos^2 a + a1^2 sin^2 a,
  p = 2 a0 a1 sqrt(r^2 - t'^2) / r^2 for |t'| <= r, else 0 (the chord
  length of the ellipse);
* rectangle (half-widths h0, h1): the length of the segment of the line
  m . u = t' inside |u_i| <= h_i;
* Gaussian blob (sigmas s0, s1): with q^2 = s0^2 cos^2 a + s1^2 sin^2 a,
  p = 2 pi s0 s1 exp(-t'^2 / (2 q^2)) / sqrt(2 pi q^2).

References
----------
.. [1] A. C. Kak and M. Slaney, "Principles of Computerized Tomographic
   Imaging", IEEE Press, 1988, Section 3.2 (projections of an ellipse).
   Reprinted by SIAM, 2001. doi:10.1137/1.9780898719277
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from medaug.phantoms.functional.common import check_primitives, primitive_values
from medaug.phantoms.primitives import Primitive

__all__ = ["sinogram_primitives"]

# A ray direction component below this is treated as parallel to that axis
# of a rectangle (the slab test then reduces to |offset| <= half-width).
_PARALLEL = 1e-12


def _check_finite_vector(value: Any, name: str, unit: str, dtype: torch.dtype) -> torch.Tensor:
    tensor = torch.as_tensor(value)
    if tensor.ndim != 1 or tensor.numel() == 0:
        raise ValueError(f"`{name}` must be a non-empty 1-D array ({unit}), got shape "
                         f"{tuple(tensor.shape)}")
    if not tensor.is_floating_point():
        tensor = tensor.to(dtype)
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"`{name}` must be finite ({unit})")
    return tensor


def _ellipse(semi: torch.Tensor, normal: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    radius2 = (semi[0] * normal[..., 0]) ** 2 + (semi[1] * normal[..., 1]) ** 2
    inside = torch.clamp(radius2 - offset**2, min=0.0)
    return 2.0 * semi[0] * semi[1] * torch.sqrt(inside) / radius2


def _rectangle(semi: torch.Tensor, normal: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    # Points on the ray: u(s) = offset * m + s * d with d = (-m_1, m_0).
    direction = torch.stack([-normal[..., 1], normal[..., 0]], dim=-1)
    low = torch.full_like(offset, -math.inf)
    high = torch.full_like(offset, math.inf)
    for axis in range(2):
        start = offset * normal[..., axis]
        step = direction[..., axis]
        parallel = step.abs() < _PARALLEL
        safe = torch.where(parallel, torch.ones_like(step), step)
        first = (-semi[axis] - start) / safe
        second = (semi[axis] - start) / safe
        enter = torch.minimum(first, second)
        leave = torch.maximum(first, second)
        miss = parallel & (start.abs() > semi[axis])
        enter = torch.where(parallel, torch.where(miss, torch.full_like(enter, math.inf), low), enter)
        leave = torch.where(parallel, torch.where(miss, torch.full_like(leave, -math.inf), high), leave)
        low = torch.maximum(low, enter)
        high = torch.minimum(high, leave)
    return torch.clamp(high - low, min=0.0)


def _gaussian(semi: torch.Tensor, normal: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    spread2 = (semi[0] * normal[..., 0]) ** 2 + (semi[1] * normal[..., 1]) ** 2
    scale = 2.0 * math.pi * semi[0] * semi[1] / torch.sqrt(2.0 * math.pi * spread2)
    return scale * torch.exp(-0.5 * offset**2 / spread2)


_PROJECTIONS = {"ellipse": _ellipse, "box": _rectangle, "gaussian": _gaussian}


def sinogram_primitives(
    primitives: Sequence[Primitive],
    angles_deg: Any,
    positions_mm: Any,
    *,
    values: Any = None,
) -> torch.Tensor:
    """Evaluate the analytic parallel-beam sinogram of 2D primitives (additive).

    Parameters
    ----------
    primitives : sequence of Primitive
        2D ellipses, rectangles and Gaussian blobs, summed with their weights.
    angles_deg : array_like, (A,)
        Projection angles in degrees (ray normal from +x towards +y).
    positions_mm : array_like, (D,)
        Detector positions in mm along the ray normal, 0 through the origin.
    values : array_like, (P,), optional
        Weight of each primitive (for example attenuation in 1/mm); default
        each primitive's ``value``.

    Returns
    -------
    torch.Tensor
        ``(A, D)`` line integrals, value * mm, in the dtype of the inputs
        (float64 unless both are float32).

    Examples
    --------
    >>> from medaug.phantoms.primitives import ellipse
    >>> disk = [ellipse((0.0, 0.0), (2.0, 2.0))]
    >>> sinogram_primitives(disk, [0.0], [0.0, 2.0]).tolist()  # the chords through a 2 mm disk
    [[4.0, 0.0]]
    """
    ndim = check_primitives(primitives)
    if ndim != 2:
        raise ValueError(f"`primitives` must be 2D for a parallel-beam sinogram, got {ndim}D")
    angles = _check_finite_vector(angles_deg, "angles_deg", "degrees", torch.float64)
    positions = _check_finite_vector(positions_mm, "positions_mm", "mm", torch.float64)
    dtype = torch.promote_types(angles.dtype, positions.dtype)
    angles, positions = angles.to(dtype), positions.to(dtype)
    weights = primitive_values(primitives, values, dtype=dtype, device=angles.device)
    if weights.ndim != 1:
        raise ValueError(f"`values` must be shaped (P,) for a sinogram, got {tuple(weights.shape)}")

    radians = torch.deg2rad(angles)
    normal = torch.stack([torch.cos(radians), torch.sin(radians)], dim=-1)  # (A, 2)
    total = torch.zeros((angles.numel(), positions.numel()), dtype=dtype, device=angles.device)
    for weight, primitive in zip(weights, primitives):
        if primitive.kind not in _PROJECTIONS:
            raise ValueError(f"no 2D projection for primitive kind {primitive.kind!r}")
        rotation = torch.as_tensor(primitive.rotation_matrix, dtype=dtype, device=angles.device)
        center = torch.as_tensor(primitive.center, dtype=dtype, device=angles.device)
        semi = torch.as_tensor(primitive.semi_axes, dtype=dtype, device=angles.device)
        local_normal = (normal @ rotation).unsqueeze(1)  # (A, 1, 2)
        offset = positions.unsqueeze(0) - (normal @ center).unsqueeze(1)  # (A, D)
        total = total + weight * _PROJECTIONS[primitive.kind](semi, local_normal, offset)
    return total
