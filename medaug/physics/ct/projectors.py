"""CT projectors as linear operators with matched back-projectors.

``forward`` maps an image ``(..., H, W)`` (or a volume ``(..., D, H, W)``)
to its sinogram ``(..., n_angles, n_detectors)`` (or projections
``(..., n_angles, rows, cols)``); any leading axes are batch axes. The
result is the line integral in the image's unit times mm: an attenuation
map in 1/mm gives dimensionless values, one in 1/cm needs a factor 0.1
(:data:`MM_PER_CM`). ``adjoint`` is the exact transpose of the discrete
forward model, so ``<A x, y> = <x, A^T y>`` holds to rounding error. Both
run on the input's device and are differentiable.

Numpy input gives numpy output; integer images are promoted to float32.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from medaug.core.fields import as_tensor
from medaug.physics.ct.backprojection import pixel_driven_backprojector
from medaug.physics.ct.cone import cone_backproject, cone_project
from medaug.physics.ct.geometry import ConeBeamGeometry, FanBeamGeometry, ParallelBeamGeometry
from medaug.physics.ct.joseph import JosephSystem, build_joseph_system, build_row_driven_matrix
from medaug.physics.ct.symmetry import SymmetricSystem, view_symmetry
from medaug.physics.operators import LinearOperator

__all__ = [
    "MM_PER_CM",
    "ParallelBeamProjector",
    "FanBeamProjector",
    "ConeBeamProjector",
    "check_field_of_view",
    "clear_projector_cache",
]

#: Converts a line integral of an attenuation map in 1/cm over a path in mm.
MM_PER_CM = 10.0

_CACHE_SIZE = 3
# Half a micrometre of slack absorbs rounding in the radius of the covered disc.
_RADIUS_SLACK_MM = 5e-4


def _check_spacing(spacing_mm: Any, ndim: int) -> tuple[float, ...]:
    values = np.broadcast_to(np.asarray(spacing_mm, dtype=float), (ndim,))
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(f"`spacing_mm` must be {ndim} finite values > 0 mm, got {spacing_mm!r}")
    return tuple(float(v) for v in values)


def _check_shape(shape: Sequence[int], ndim: int, name: str) -> tuple[int, ...]:
    shape = tuple(int(n) for n in shape)
    if len(shape) != ndim or any(n < 2 for n in shape):
        raise ValueError(f"`{name}` must be {ndim} sizes >= 2, got {shape!r}")
    return shape


def prepare_input(data: Any, trailing: tuple[int, ...], name: str) -> tuple[torch.Tensor, tuple[int, ...], bool]:
    """Validate ``data`` ``(..., *trailing)`` and return it flattened to ``(M, *trailing)``.

    Returns the tensor, the leading shape and whether the input was numpy.
    Integer and bool inputs are promoted to float32; complex input and
    non-finite values raise.
    """
    was_numpy = isinstance(data, np.ndarray)
    tensor = as_tensor(data, name)
    if tensor.is_complex():
        raise TypeError(f"`{name}` must be real, got {tensor.dtype}")
    if not tensor.is_floating_point():
        tensor = tensor.to(torch.float32)
    if tuple(tensor.shape[-len(trailing) :]) != trailing or tensor.ndim < len(trailing):
        raise ValueError(
            f"`{name}` must be shaped (..., {', '.join(map(str, trailing))}), got {tuple(tensor.shape)}"
        )
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"`{name}` contains NaN or inf; replace non-finite values first")
    leading = tuple(tensor.shape[: tensor.ndim - len(trailing)])
    return tensor.reshape(-1, *trailing), leading, was_numpy


def finish_output(result: torch.Tensor, leading: tuple[int, ...], was_numpy: bool) -> Any:
    """Restore the leading axes and the caller's array type."""
    result = result.reshape(*leading, *result.shape[1:])
    return result.detach().cpu().numpy() if was_numpy else result


def check_field_of_view(
    image: torch.Tensor, spacing_mm: tuple[float, ...], covered_radius_mm: float
) -> None:
    """Raise ValueError when a non-zero pixel centre lies outside the disc that every view covers.

    ``image`` is ``(M, [D,] H, W)``; only the in-plane radius is checked.
    """
    support = (image.detach() != 0).reshape(-1, *image.shape[-2:]).any(0)
    radius = _radius_grid(tuple(support.shape), tuple(spacing_mm[-2:]), image.device)
    largest = float(torch.where(support, radius, 0.0).max())
    if largest > covered_radius_mm + _RADIUS_SLACK_MM:
        raise ValueError(
            f"the detector is too small for the object: non-zero pixels reach {largest:.2f} mm "
            f"from the isocentre but every view covers only {covered_radius_mm:.2f} mm; add "
            "detector elements, or pass check_field_of_view=False to accept truncated projections"
        )


@functools.lru_cache(maxsize=8)
def _radius_grid(shape: tuple[int, int], spacing: tuple[float, float], device: torch.device) -> torch.Tensor:
    y = (torch.arange(shape[0], device=device, dtype=torch.float64) - (shape[0] - 1) / 2) * spacing[0]
    x = (torch.arange(shape[1], device=device, dtype=torch.float64) - (shape[1] - 1) / 2) * spacing[1]
    return torch.sqrt(y[:, None] ** 2 + x[None, :] ** 2)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _joseph_system(
    geometry: ParallelBeamGeometry | FanBeamGeometry,
    image_shape: tuple[int, int],
    spacing: tuple[float, float],
    dtype: torch.dtype,
    device: torch.device,
    support_radius_mm: float | None,
) -> JosephSystem | SymmetricSystem:
    """Return the Joseph system of a scan, through its view symmetry where one applies."""
    symmetry = None
    if isinstance(geometry, ParallelBeamGeometry):
        symmetry = view_symmetry(geometry, image_shape, spacing)
    if symmetry is None:
        origins, directions = geometry.rays(torch.float64, device)
        return build_joseph_system(
            origins, directions, image_shape, spacing, dtype, support_radius_mm=support_radius_mm
        )

    # Base views lie within 45 degrees of the y axis, so rows drive every ray.
    origins, directions = symmetry.base_geometry(geometry).rays(torch.float64, device)
    matrix = build_row_driven_matrix(
        origins, directions, image_shape, spacing, dtype, support_radius_mm=support_radius_mm
    )
    return SymmetricSystem(symmetry, matrix, image_shape, geometry.n_detectors)


def clear_projector_cache() -> None:
    """Free the cached projector and FBP back-projector matrices (several hundred MB for large geometries)."""
    _joseph_system.cache_clear()
    pixel_driven_backprojector.cache_clear()


class _Projector2D(LinearOperator):
    def __init__(
        self,
        geometry: ParallelBeamGeometry | FanBeamGeometry,
        image_shape: Sequence[int],
        *,
        spacing_mm: float | Sequence[float] = 1.0,
        check_field_of_view: bool = True,
    ) -> None:
        self.geometry = geometry
        self.image_shape = _check_shape(image_shape, 2, "image_shape")
        self.spacing_mm = _check_spacing(spacing_mm, 2)
        self.check_field_of_view = bool(check_field_of_view)

    @property
    def sinogram_shape(self) -> tuple[int, int]:
        """``(n_angles, n_detectors)``."""
        return self.geometry.sinogram_shape

    def system(
        self, dtype: torch.dtype = torch.float32, device: Any = "cpu"
    ) -> JosephSystem | SymmetricSystem:
        """Return the (cached) sparse system matrix for ``dtype`` on ``device``.

        With ``check_field_of_view`` the matrix leaves out pixels outside the
        covered disc, which the check guarantees to be zero.
        """
        support = self.geometry.covered_radius_mm() + _RADIUS_SLACK_MM if self.check_field_of_view else None
        return _joseph_system(
            self.geometry, self.image_shape, self.spacing_mm, dtype, torch.device(device), support
        )

    def forward(self, image: Any) -> Any:
        """Return the sinogram ``(..., n_angles, n_detectors)`` of ``image`` ``(..., H, W)``."""
        x, leading, was_numpy = prepare_input(image, self.image_shape, "image")
        if self.check_field_of_view:
            check_field_of_view(x, self.spacing_mm, self.geometry.covered_radius_mm())
        system = self.system(x.dtype, x.device)
        result = system.project(x).reshape(-1, *self.sinogram_shape)
        return finish_output(result, leading, was_numpy)

    def adjoint(self, sinogram: Any) -> Any:
        """Return the matched back-projection ``(..., H, W)`` of ``sinogram``."""
        y, leading, was_numpy = prepare_input(sinogram, self.sinogram_shape, "sinogram")
        system = self.system(y.dtype, y.device)
        result = system.backproject(y.reshape(y.shape[0], -1))
        return finish_output(result, leading, was_numpy)


class ParallelBeamProjector(_Projector2D):
    """Parallel-beam projector (Joseph's method) with its exact transpose.

    Parameters
    ----------
    geometry : ParallelBeamGeometry
    image_shape : (int, int)
        ``(H, W)`` of the images to project.
    spacing_mm : float or (float, float), default 1.0
        Pixel spacing ``(dy, dx)``, mm.
    check_field_of_view : bool, default True
        Raise ValueError when the object reaches outside the disc that every
        view covers (truncated projections). The model then covers only that
        disc, so ``adjoint`` returns zero outside it; pass False to model the
        whole image and accept truncation.

    Examples
    --------
    >>> import torch
    >>> from medaug.physics.ct.geometry import ParallelBeamGeometry
    >>> projector = ParallelBeamProjector(ParallelBeamGeometry((0.0, 90.0), 12), (8, 8))
    >>> projector(torch.ones(8, 8)).sum(-1)
    tensor([64., 64.])
    """

    def __init__(self, geometry: ParallelBeamGeometry, image_shape: Sequence[int], **options: Any) -> None:
        if not isinstance(geometry, ParallelBeamGeometry):
            raise TypeError(f"`geometry` must be a ParallelBeamGeometry, got {type(geometry).__name__}")
        super().__init__(geometry, image_shape, **options)


class FanBeamProjector(_Projector2D):
    """Fan-beam projector (Joseph's method, flat or equiangular detector) with its exact transpose.

    Parameters are those of :class:`ParallelBeamProjector` with a
    :class:`FanBeamGeometry`. The source must lie outside the image.
    """

    def __init__(self, geometry: FanBeamGeometry, image_shape: Sequence[int], **options: Any) -> None:
        if not isinstance(geometry, FanBeamGeometry):
            raise TypeError(f"`geometry` must be a FanBeamGeometry, got {type(geometry).__name__}")
        super().__init__(geometry, image_shape, **options)
        half_diagonal = 0.5 * math.hypot(*(n * s for n, s in zip(self.image_shape, self.spacing_mm)))
        if geometry.source_to_isocenter_mm <= half_diagonal:
            raise ValueError(
                f"`source_to_isocenter_mm` must exceed the image half-diagonal {half_diagonal:.1f} mm "
                f"so that the source lies outside the image, got {geometry.source_to_isocenter_mm}"
            )


class ConeBeamProjector(LinearOperator):
    """Circular cone-beam projector (ray-driven, trilinear) with its exact transpose.

    Parameters
    ----------
    geometry : ConeBeamGeometry
    volume_shape : (int, int, int)
        ``(D, H, W)``; the first axis is the rotation axis z.
    spacing_mm : float or (float, float, float), default 1.0
        Voxel spacing ``(dz, dy, dx)``, mm.
    step_mm : float, optional
        Distance between samples along a ray; default half the smallest
        voxel spacing.
    check_field_of_view : bool, default True
        Raise ValueError when the object leaves the in-plane disc every view covers.
    """

    def __init__(
        self,
        geometry: ConeBeamGeometry,
        volume_shape: Sequence[int],
        *,
        spacing_mm: float | Sequence[float] = 1.0,
        step_mm: float | None = None,
        check_field_of_view: bool = True,
    ) -> None:
        if not isinstance(geometry, ConeBeamGeometry):
            raise TypeError(f"`geometry` must be a ConeBeamGeometry, got {type(geometry).__name__}")
        self.geometry = geometry
        self.volume_shape = _check_shape(volume_shape, 3, "volume_shape")
        self.spacing_mm = _check_spacing(spacing_mm, 3)
        step = 0.5 * min(self.spacing_mm) if step_mm is None else float(step_mm)
        if not (math.isfinite(step) and step > 0):
            raise ValueError(f"`step_mm` must be > 0 mm, got {step_mm!r}")
        self.step_mm = step
        self.check_field_of_view = bool(check_field_of_view)
        extent = 0.5 * math.hypot(*(n * s for n, s in zip(self.volume_shape, self.spacing_mm)))
        if geometry.source_to_isocenter_mm <= extent:
            raise ValueError(
                f"`source_to_isocenter_mm` must exceed the volume half-diagonal {extent:.1f} mm, "
                f"got {geometry.source_to_isocenter_mm}"
            )

    @property
    def projection_shape(self) -> tuple[int, int, int]:
        """``(n_angles, rows, cols)``."""
        return self.geometry.projection_shape

    def covered_radius_mm(self) -> float:
        """Return the in-plane radius every view covers completely, mm."""
        half = self.geometry.detector_shape[1] * self.geometry.detector_spacing_mm[1] / 2
        return self.geometry.source_to_isocenter_mm * math.sin(math.atan(half / self.geometry.source_to_detector_mm))

    def forward(self, volume: Any) -> Any:
        """Return projections ``(..., n_angles, rows, cols)`` of ``volume`` ``(..., D, H, W)``."""
        x, leading, was_numpy = prepare_input(volume, self.volume_shape, "volume")
        if self.check_field_of_view:
            # NOTE: only the in-plane radius is checked; an object taller than
            # the cone covers is projected truncated without an error.
            check_field_of_view(x, self.spacing_mm, self.covered_radius_mm())
        result = cone_project(x, self.geometry, self.spacing_mm, self.step_mm)
        return finish_output(result, leading, was_numpy)

    def adjoint(self, projections: Any) -> Any:
        """Return the matched back-projection ``(..., D, H, W)`` of ``projections``."""
        y, leading, was_numpy = prepare_input(projections, self.projection_shape, "projections")
        result = cone_backproject(y, self.volume_shape, self.geometry, self.spacing_mm, self.step_mm)
        return finish_output(result, leading, was_numpy)
