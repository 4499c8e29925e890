"""Pixel-driven back-projection for filtered back-projection (FBP).

For every pixel and view the filtered projection is linearly interpolated
at the detector position the pixel projects to, multiplied by the view's
distance weight (1 for parallel beam, ``1 / U^2`` or ``1 / L^2`` for fan
beam) and summed over views. The operator is stored as a CSR matrix with
one row per pixel, built once per geometry and cached.

Unlike the transpose of Joseph's projector, which interpolates across
image pixels, this interpolates across detector elements, as clinical FBP
does, so it does not alias when rays are denser than pixels.
"""

from __future__ import annotations

import functools
import math

import torch

from medaug.physics.ct.geometry import FanBeamGeometry, ParallelBeamGeometry
from medaug.physics.ct.sparse import SparseMatrix, csr_from_rows

__all__ = ["pixel_driven_backprojector", "detector_coordinates"]

_PIXEL_CHUNK = 4096


def detector_coordinates(
    geometry: ParallelBeamGeometry | FanBeamGeometry, x: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the detector index and the view weight of points ``(P,)`` for every view.

    Returns two ``(P, n_views)`` tensors: the continuous detector index the
    point projects to, and ``1`` (parallel), ``1 / U^2`` (flat fan, ``U``
    the distance along the central ray over the source-to-isocentre
    distance) or ``1 / L^2`` (equiangular fan, ``L`` the source-to-point
    distance in mm).
    """
    angles = torch.tensor(geometry.angles_deg, dtype=torch.float64, device=x.device).deg2rad()
    cos, sin = torch.cos(angles)[None, :], torch.sin(angles)[None, :]
    along_detector = x[:, None] * cos + y[:, None] * sin
    n = geometry.n_detectors
    centre = (n - 1) / 2
    if isinstance(geometry, ParallelBeamGeometry):
        index = (along_detector - geometry.detector_offset_mm) / geometry.detector_spacing_mm + centre
        return index, torch.ones_like(index)

    source = geometry.source_to_isocenter_mm
    distance = geometry.source_to_detector_mm
    along_ray = -x[:, None] * sin + y[:, None] * cos + source
    if geometry.detector_type == "flat":
        position = along_detector * distance / along_ray
        weight = (source / along_ray) ** 2
    else:
        position = torch.atan2(along_detector, along_ray) * distance
        weight = 1.0 / (along_ray**2 + along_detector**2)
    index = (position - geometry.detector_offset_mm) / geometry.detector_spacing_mm + centre
    return index, weight


def _entries(
    geometry: ParallelBeamGeometry | FanBeamGeometry, x: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    index, weight = detector_coordinates(geometry, x, y)
    n_views = index.shape[1]
    n = geometry.n_detectors
    lower = torch.floor(index)
    fraction = index - lower
    lower = lower.to(torch.int64)
    taps = torch.stack([lower, lower + 1], -1)
    values = torch.stack([(1 - fraction) * weight, fraction * weight], -1)
    valid = (taps >= 0) & (taps < n)
    views = torch.arange(n_views, device=x.device)[None, :, None]
    return valid.sum(dim=(1, 2)), (views * n + taps)[valid], values[valid]


@functools.lru_cache(maxsize=3)
def pixel_driven_backprojector(
    geometry: ParallelBeamGeometry | FanBeamGeometry,
    image_shape: tuple[int, int],
    spacing_mm: tuple[float, float],
    radius_mm: float,
    dtype: torch.dtype,
    device: torch.device,
) -> SparseMatrix:
    """Return the back-projection matrix ``(H * W, n_views * n_detectors)`` (cached).

    Pixels whose centre lies farther than ``radius_mm`` from the isocentre
    get an empty row (they reconstruct to zero). Values are unscaled: the
    caller multiplies by the angular step.
    """
    height, width = image_shape
    dy, dx = spacing_mm
    rows = (torch.arange(height, dtype=torch.float64, device=device) - (height - 1) / 2) * dy
    cols = (torch.arange(width, dtype=torch.float64, device=device) - (width - 1) / 2) * dx
    y = rows[:, None].expand(height, width).reshape(-1)
    x = cols[None, :].expand(height, width).reshape(-1)
    inside = x**2 + y**2 <= radius_mm**2 if math.isfinite(radius_mm) else torch.ones_like(x, dtype=torch.bool)

    counts, columns, values = [], [], []
    for start in range(0, x.numel(), _PIXEL_CHUNK):
        part = slice(start, start + _PIXEL_CHUNK)
        c, col, val = _entries(geometry, x[part], y[part])
        keep = inside[part]
        entry_keep = torch.repeat_interleave(keep, c)
        counts.append(torch.where(keep, c, 0))
        columns.append(col[entry_keep])
        values.append(val[entry_keep].to(dtype))
    shape = (height * width, len(geometry.angles_deg) * geometry.n_detectors)
    return SparseMatrix(csr_from_rows(torch.cat(counts), torch.cat(columns), torch.cat(values), shape))
