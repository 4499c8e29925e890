"""Ray-driven cone-beam projection with trilinear interpolation, and its exact transpose.

Each ray is sampled at equally spaced points across the volume's bounding
sphere; the volume is trilinearly interpolated at each point (zero outside)
and the samples are summed times the step length. The transpose scatters
each ray value back with the same trilinear weights (the gradient kernel of
``torch.nn.functional.grid_sample``), so the pair passes the adjoint test to
rounding error. Views are processed in chunks to bound memory.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from medaug.physics.ct.geometry import ConeBeamGeometry

__all__ = ["cone_project", "cone_backproject"]

# Ray samples per chunk of views (each holds 3 coordinates): about 50 MB in float32.
_SAMPLES_PER_CHUNK = 4_000_000
_BILINEAR, _ZEROS = 0, 0


def _sample_grid(
    geometry: ConeBeamGeometry,
    volume_shape: tuple[int, int, int],
    spacing_mm: tuple[float, float, float],
    step_mm: float,
    views: slice,
    dtype: torch.dtype,
    device: torch.device,
) -> torch.Tensor:
    """Return normalised sample coordinates ``(1, V * rows, cols, K, 3)`` for grid_sample."""
    source, direction = geometry.rays(torch.float64, device)
    source, direction = source[views], direction[views]
    extent = torch.tensor(
        [(n - 1) * s for n, s in zip(reversed(volume_shape), reversed(spacing_mm))],
        dtype=torch.float64,
        device=device,
    )
    radius = 0.5 * float(torch.linalg.vector_norm(extent)) + max(spacing_mm)
    count = max(2, math.ceil(2 * radius / step_mm))
    offsets = (torch.arange(count, dtype=torch.float64, device=device) + 0.5) * step_mm - count * step_mm / 2
    closest = -(source * direction).sum(-1, keepdim=True)
    distance = closest + offsets
    points = source[..., None, :] + distance[..., None] * direction[..., None, :]
    normalised = points * (2 / extent)
    views_count, rows, cols = direction.shape[:3]
    return normalised.reshape(1, views_count * rows, cols, count, 3).to(dtype)


def _chunks(geometry: ConeBeamGeometry, volume_shape: tuple[int, int, int], spacing: tuple, step: float):
    rows, cols = geometry.detector_shape
    diameter = math.sqrt(sum(((n - 1) * s) ** 2 for n, s in zip(volume_shape, spacing))) + 2 * max(spacing)
    per_view = rows * cols * max(2, math.ceil(diameter / step))
    size = max(1, _SAMPLES_PER_CHUNK // per_view)
    n_views = len(geometry.angles_deg)
    return [slice(start, min(start + size, n_views)) for start in range(0, n_views, size)]


def _project(volume: torch.Tensor, geometry, spacing, step) -> torch.Tensor:  # noqa: ANN001
    shape = tuple(volume.shape[-3:])
    rows, cols = geometry.detector_shape
    outputs = []
    for views in _chunks(geometry, shape, spacing, step):
        grid = _sample_grid(geometry, shape, spacing, step, views, volume.dtype, volume.device)
        samples = F.grid_sample(
            volume[None], grid, mode="bilinear", padding_mode="zeros", align_corners=True
        )
        outputs.append(samples.sum(-1)[0].reshape(volume.shape[0], -1, rows, cols) * step)
    return torch.cat(outputs, 1)


def _backproject(projections: torch.Tensor, shape, geometry, spacing, step) -> torch.Tensor:  # noqa: ANN001
    batch = projections.shape[0]
    template = torch.zeros((1, batch, *shape), dtype=projections.dtype, device=projections.device)
    volume = torch.zeros_like(template)
    for views in _chunks(geometry, shape, spacing, step):
        grid = _sample_grid(geometry, shape, spacing, step, views, projections.dtype, projections.device)
        values = projections[:, views].reshape(1, batch, grid.shape[1], grid.shape[2], 1) * step
        grad = values.expand(-1, -1, -1, -1, grid.shape[3]).contiguous()
        volume = volume + torch.ops.aten.grid_sampler_3d_backward(
            grad, template, grid, _BILINEAR, _ZEROS, True, [True, False]
        )[0]
    return volume[0]


class _ConeProject(torch.autograd.Function):
    @staticmethod
    def forward(ctx, volume, geometry, spacing, step):  # noqa: ANN001, ANN205
        ctx.args = (tuple(volume.shape[-3:]), geometry, spacing, step)
        return _project(volume, geometry, spacing, step)

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        shape, geometry, spacing, step = ctx.args
        return _ConeBackproject.apply(grad, shape, geometry, spacing, step), None, None, None


class _ConeBackproject(torch.autograd.Function):
    @staticmethod
    def forward(ctx, projections, shape, geometry, spacing, step):  # noqa: ANN001, ANN205
        ctx.args = (geometry, spacing, step)
        return _backproject(projections, shape, geometry, spacing, step)

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        geometry, spacing, step = ctx.args
        return _ConeProject.apply(grad, geometry, spacing, step), None, None, None, None


def cone_project(
    volume: torch.Tensor,
    geometry: ConeBeamGeometry,
    spacing_mm: tuple[float, float, float],
    step_mm: float,
) -> torch.Tensor:
    """Return cone-beam line integrals ``(M, n_angles, rows, cols)`` of volumes ``(M, D, H, W)``.

    ``step_mm`` is the distance between samples along each ray; the result
    is in the volume's unit times mm.
    """
    return _ConeProject.apply(volume, geometry, tuple(spacing_mm), float(step_mm))


def cone_backproject(
    projections: torch.Tensor,
    volume_shape: tuple[int, int, int],
    geometry: ConeBeamGeometry,
    spacing_mm: tuple[float, float, float],
    step_mm: float,
) -> torch.Tensor:
    """Return the exact transpose of :func:`cone_project` applied to ``(M, n_angles, rows, cols)``."""
    return _ConeBackproject.apply(
        projections, tuple(volume_shape), geometry, tuple(spacing_mm), float(step_mm)
    )
