"""CT scan geometries: parallel beam, fan beam (flat and equiangular) and circular cone beam.

Conventions
-----------
The image grid is centred on the isocentre. A 2D image ``(H, W)`` with pixel
spacing ``(dy, dx)`` mm has pixel ``(i, j)`` at ``x = (j - (W - 1) / 2) dx``
and ``y = (i - (H - 1) / 2) dy``; a volume ``(D, H, W)`` adds
``z = (k - (D - 1) / 2) dz`` along its first axis, which is the rotation axis.
Rasters of :mod:`medaug.phantoms` put index ``n // 2`` at 0 mm instead, so
on an even grid they lie half a pixel towards +x and +y here (docs/ct.md).

At view angle ``theta`` the central ray points along
``d = (-sin theta, cos theta)`` and the detector axis along
``e = (cos theta, sin theta)``, so a parallel-beam ray at detector
coordinate ``t`` is the line ``x cos theta + y sin theta = t`` (the Radon
transform convention of Kak and Slaney). In fan and cone beam the source
sits at ``-R d`` (``R`` = source-to-isocentre distance) and the detector
centre at ``(D - R) d`` (``D`` = source-to-detector distance).

Detector element ``k`` of ``n`` sits at ``(k - (n - 1) / 2) * spacing +
offset``: a position in mm on flat detectors, an arc length in mm at
distance ``D`` (fan angle ``position / D``) on equiangular ones.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = [
    "ParallelBeamGeometry",
    "FanBeamGeometry",
    "ConeBeamGeometry",
    "uniform_angles",
    "sparse_view",
    "limited_angle",
]

_DETECTOR_TYPES = ("flat", "equiangular")


def _check_angles(angles_deg: object) -> tuple[float, ...]:
    array = np.asarray(angles_deg, dtype=float).reshape(-1)
    if array.size == 0:
        raise ValueError("`angles_deg` must contain at least one angle")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`angles_deg` must be finite, got {array}")
    return tuple(float(a) for a in array)


def _check_count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"`{name}` must be >= 1, got {value}")
    return int(value)


def _check_length(value: object, name: str, *, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number (mm), got {type(value).__name__} {value!r}")
    number = float(value)
    if not math.isfinite(number) or (positive and number <= 0):
        raise ValueError(f"`{name}` must be a finite length > 0 mm, got {value!r}")
    return number


def _detector_positions(count: int, spacing: float, offset: float) -> np.ndarray:
    return (np.arange(count) - (count - 1) / 2.0) * spacing + offset


def uniform_angles(count: int, *, arc_deg: float = 180.0, start_deg: float = 0.0) -> tuple[float, ...]:
    """Return ``count`` equally spaced view angles over ``arc_deg`` degrees, end excluded.

    Examples
    --------
    >>> uniform_angles(4)
    (0.0, 45.0, 90.0, 135.0)
    """
    count = _check_count(count, "count")
    arc = _check_length(arc_deg, "arc_deg")
    return tuple(float(start_deg + arc * k / count) for k in range(count))


@dataclasses.dataclass(frozen=True)
class ParallelBeamGeometry:
    """Parallel-beam 2D geometry.

    Parameters
    ----------
    angles_deg : sequence of float
        View angles in degrees.
    n_detectors : int
        Number of detector elements.
    detector_spacing_mm : float, default 1.0
        Distance between detector element centres, mm.
    detector_offset_mm : float, default 0.0
        Shift of the detector centre along its axis, mm.
    """

    angles_deg: tuple[float, ...]
    n_detectors: int
    detector_spacing_mm: float = 1.0
    detector_offset_mm: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "angles_deg", _check_angles(self.angles_deg))
        _check_count(self.n_detectors, "n_detectors")
        _check_length(self.detector_spacing_mm, "detector_spacing_mm")
        _check_length(self.detector_offset_mm, "detector_offset_mm", positive=False)

    @property
    def sinogram_shape(self) -> tuple[int, int]:
        """Shape ``(n_angles, n_detectors)`` of one sinogram."""
        return (len(self.angles_deg), self.n_detectors)

    def detector_positions_mm(self) -> np.ndarray:
        """Return the detector coordinate ``t`` of each element, mm."""
        return _detector_positions(self.n_detectors, self.detector_spacing_mm, self.detector_offset_mm)

    def covered_radius_mm(self) -> float:
        """Return the radius of the disc around the isocentre that every view covers completely, mm."""
        half = self.n_detectors * self.detector_spacing_mm / 2.0
        return half - abs(self.detector_offset_mm)

    def rays(self, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """Return a point on each ray and its unit direction, both ``(n_angles * n_det, 2)`` (x, y) mm."""
        import torch

        theta = torch.tensor(self.angles_deg, dtype=torch.float64).deg2rad()[:, None]
        t = torch.from_numpy(self.detector_positions_mm())[None, :]
        direction = torch.stack(
            [-torch.sin(theta).expand(-1, t.shape[1]), torch.cos(theta).expand(-1, t.shape[1])], -1
        )
        origin = torch.stack([t * torch.cos(theta), t * torch.sin(theta)], -1)
        return (
            origin.reshape(-1, 2).to(device=device, dtype=dtype),
            direction.reshape(-1, 2).to(device=device, dtype=dtype),
        )


@dataclasses.dataclass(frozen=True)
class FanBeamGeometry:
    """Fan-beam 2D geometry with a flat or equiangular (arc) detector.

    Parameters
    ----------
    angles_deg : sequence of float
        Source angles in degrees (a full scan covers 360 degrees).
    n_detectors : int
        Number of detector elements.
    detector_spacing_mm : float
        Element pitch on the detector, mm (arc length at the detector
        radius for an equiangular detector).
    source_to_isocenter_mm : float
        Distance from the focal spot to the rotation axis, mm.
    source_to_detector_mm : float
        Distance from the focal spot to the detector centre, mm.
    detector_type : {"flat", "equiangular"}, default "flat"
    detector_offset_mm : float, default 0.0
        Shift of the detector centre along the detector, mm.
    """

    angles_deg: tuple[float, ...]
    n_detectors: int
    detector_spacing_mm: float
    source_to_isocenter_mm: float
    source_to_detector_mm: float
    detector_type: str = "flat"
    detector_offset_mm: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "angles_deg", _check_angles(self.angles_deg))
        _check_count(self.n_detectors, "n_detectors")
        _check_length(self.detector_spacing_mm, "detector_spacing_mm")
        source = _check_length(self.source_to_isocenter_mm, "source_to_isocenter_mm")
        detector = _check_length(self.source_to_detector_mm, "source_to_detector_mm")
        _check_length(self.detector_offset_mm, "detector_offset_mm", positive=False)
        if detector <= source:
            raise ValueError(
                f"`source_to_detector_mm` must exceed `source_to_isocenter_mm` ({source}), "
                f"got {detector}"
            )
        if self.detector_type not in _DETECTOR_TYPES:
            raise ValueError(
                f"`detector_type` must be one of {list(_DETECTOR_TYPES)}, got {self.detector_type!r}"
            )

    @property
    def sinogram_shape(self) -> tuple[int, int]:
        """Shape ``(n_angles, n_detectors)`` of one sinogram."""
        return (len(self.angles_deg), self.n_detectors)

    def detector_positions_mm(self) -> np.ndarray:
        """Return each element's position on the detector, mm (arc length when equiangular)."""
        return _detector_positions(self.n_detectors, self.detector_spacing_mm, self.detector_offset_mm)

    def fan_angles_rad(self) -> np.ndarray:
        """Return the angle between each element's ray and the central ray, radians."""
        positions = self.detector_positions_mm()
        if self.detector_type == "equiangular":
            return positions / self.source_to_detector_mm
        return np.arctan(positions / self.source_to_detector_mm)

    def covered_radius_mm(self) -> float:
        """Return the radius of the disc around the isocentre that every view covers completely, mm."""
        gamma = self.fan_angles_rad()
        half = (self.detector_spacing_mm / 2.0) / self.source_to_detector_mm
        edge = min(abs(gamma[0] - half), abs(gamma[-1] + half))
        if gamma[0] - half > 0 or gamma[-1] + half < 0:
            return 0.0
        return self.source_to_isocenter_mm * math.sin(min(edge, math.pi / 2))

    def rays(self, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the source and the unit direction of each ray, both ``(n_angles * n_det, 2)`` mm."""
        import torch

        beta = torch.tensor(self.angles_deg, dtype=torch.float64).deg2rad()[:, None]
        gamma = torch.from_numpy(self.fan_angles_rad())[None, :]
        central = torch.stack([-torch.sin(beta), torch.cos(beta)], -1)
        axis = torch.stack([torch.cos(beta), torch.sin(beta)], -1)
        direction = torch.cos(gamma)[..., None] * central + torch.sin(gamma)[..., None] * axis
        source = (-self.source_to_isocenter_mm * central).expand_as(direction)
        return (
            source.reshape(-1, 2).to(device=device, dtype=dtype),
            direction.reshape(-1, 2).to(device=device, dtype=dtype),
        )


@dataclasses.dataclass(frozen=True)
class ConeBeamGeometry:
    """Circular-orbit cone-beam geometry with a flat detector.

    Parameters
    ----------
    angles_deg : sequence of float
        Source angles in degrees around the z axis (the volume's first axis).
    detector_shape : (int, int)
        Detector ``(rows, columns)``; rows run along z.
    detector_spacing_mm : (float, float)
        Element pitch ``(row, column)`` on the detector, mm.
    source_to_isocenter_mm, source_to_detector_mm : float
        Focal-spot distances to the rotation axis and to the detector, mm.
    """

    angles_deg: tuple[float, ...]
    detector_shape: tuple[int, int]
    detector_spacing_mm: tuple[float, float]
    source_to_isocenter_mm: float
    source_to_detector_mm: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "angles_deg", _check_angles(self.angles_deg))
        shape = tuple(self.detector_shape)
        spacing = tuple(self.detector_spacing_mm)
        if len(shape) != 2 or len(spacing) != 2:
            raise ValueError(
                "`detector_shape` and `detector_spacing_mm` must each have 2 values (rows, columns), "
                f"got {self.detector_shape!r} and {self.detector_spacing_mm!r}"
            )
        object.__setattr__(self, "detector_shape", tuple(_check_count(n, "detector_shape") for n in shape))
        object.__setattr__(
            self, "detector_spacing_mm", tuple(_check_length(s, "detector_spacing_mm") for s in spacing)
        )
        source = _check_length(self.source_to_isocenter_mm, "source_to_isocenter_mm")
        detector = _check_length(self.source_to_detector_mm, "source_to_detector_mm")
        if detector <= source:
            raise ValueError(
                f"`source_to_detector_mm` must exceed `source_to_isocenter_mm` ({source}), "
                f"got {detector}"
            )

    @property
    def projection_shape(self) -> tuple[int, int, int]:
        """Shape ``(n_angles, rows, columns)`` of one set of projections."""
        return (len(self.angles_deg), *self.detector_shape)

    def detector_positions_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the row (z) and column positions of the elements on the detector, mm."""
        rows, cols = self.detector_shape
        return (
            _detector_positions(rows, self.detector_spacing_mm[0], 0.0),
            _detector_positions(cols, self.detector_spacing_mm[1], 0.0),
        )

    def rays(self, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the source and unit direction of each ray, ``(n_angles, rows, cols, 3)`` (x, y, z) mm."""
        import torch

        beta = torch.tensor(self.angles_deg, dtype=torch.float64).deg2rad()[:, None, None]
        v, u = (torch.from_numpy(a) for a in self.detector_positions_mm())
        v, u = v[None, :, None], u[None, None, :]
        zero = torch.zeros_like(beta)
        central = torch.stack([-torch.sin(beta), torch.cos(beta), zero], -1)
        axis = torch.stack([torch.cos(beta), torch.sin(beta), zero], -1)
        source = -self.source_to_isocenter_mm * central
        vector = self.source_to_detector_mm * central + u[..., None] * axis
        vector = vector + v[..., None] * torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
        direction = vector / torch.linalg.vector_norm(vector, dim=-1, keepdim=True)
        return (
            source.expand_as(direction).to(device=device, dtype=dtype),
            direction.to(device=device, dtype=dtype),
        )


Geometry2D = ParallelBeamGeometry | FanBeamGeometry


def sparse_view(geometry: Geometry2D | ConeBeamGeometry, step: int) -> Geometry2D | ConeBeamGeometry:
    """Return ``geometry`` keeping every ``step``-th view (a sparse-view scan).

    Examples
    --------
    >>> sparse_view(ParallelBeamGeometry(uniform_angles(8), 16), 4).angles_deg
    (0.0, 90.0)
    """
    step = _check_count(step, "step")
    return dataclasses.replace(geometry, angles_deg=geometry.angles_deg[::step])


def limited_angle(
    geometry: Geometry2D | ConeBeamGeometry, arc_deg: float, *, start_deg: float | None = None
) -> Geometry2D | ConeBeamGeometry:
    """Return ``geometry`` keeping the views within ``arc_deg`` degrees of ``start_deg``.

    ``start_deg`` defaults to the first view angle. Raises ValueError when no
    view remains.
    """
    arc = _check_length(arc_deg, "arc_deg")
    angles = np.asarray(geometry.angles_deg)
    start = float(angles[0]) if start_deg is None else float(start_deg)
    kept = tuple(float(a) for a in angles if 0.0 <= (a - start) % 360.0 < arc)
    if not kept:
        raise ValueError(f"no view angle lies within {arc} degrees of {start} degrees")
    return dataclasses.replace(geometry, angles_deg=kept)

