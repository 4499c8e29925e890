"""Resampling to a new voxel spacing, and simulated thick slices (anisotropy).

Examples
--------
>>> import numpy as np
>>> from medaug.core import Geometry, Image, Sample
>>> sample = Sample({"image": Image(np.ones((1, 8, 8, 8), np.float32),
...                                 geometry=Geometry(spacing=(1.0, 1.0, 1.0)))})
>>> Resample(2.0).transform(sample)["image"].data.shape
torch.Size([1, 4, 4, 4])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from medaug.core.fields import Image
from medaug.core.sample import Sample
from medaug.physics.optics import fwhm_to_sigma_voxels, gaussian_filter, gaussian_kernel_1d
from medaug.transforms.base import IntensityTransform, RandomTransform
from medaug.transforms.functional.coordinates import Grid, SpatialPlan
from medaug.transforms.spatial import InterpolatingTransform, physical_axis
from medaug.transforms.validation import axis_count_error, check_positive, check_range

__all__ = [
    "RandomThickSlices",
    "Resample",
    "ResampleParameters",
    "ThickSlices",
    "ThickSlicesParameters",
]


@dataclass(frozen=True)
class ResampleParameters:
    """Output grid of a resampling and the anti-aliasing sigma (input voxels) per axis."""

    shape: tuple[int, ...]
    spacing_mm: tuple[float, ...]
    origin_mm: tuple[float, ...]
    antialias_sigma_voxels: tuple[float, ...]


class Resample(InterpolatingTransform):
    """Resample onto a grid with voxel spacing ``spacing_mm`` covering the same field of view.

    The output has ``round(n * old / new)`` voxels per axis, and its outer
    voxel edges line up with the input's. When an axis is downsampled and
    ``antialias`` is True, images are first blurred along it with a
    Gaussian of ``sigma = (factor - 1) / 2`` input voxels, the default that
    scikit-image's ``transform.resize`` uses. Label maps are never blurred.

    Parameters
    ----------
    spacing_mm : float or sequence of float
        Target spacing per array axis in mm.
    antialias : bool, keyword-only
        Low-pass images before downsampling (default True).
    image_interpolation, label_interpolation, padding : keyword-only
        See :class:`~medaug.transforms.functional.resample.Resampling`.
    """

    def __init__(
        self,
        spacing_mm: float | Sequence[float],
        *,
        antialias: bool = True,
        image_interpolation: str = "linear",
        label_interpolation: str = "nearest",
        padding: str | float = "border",
    ) -> None:
        if isinstance(spacing_mm, Sequence) and not isinstance(spacing_mm, str):
            self.spacing_mm: Any = [check_positive(v, f"spacing_mm[{i}]") for i, v in enumerate(spacing_mm)]
        else:
            self.spacing_mm = check_positive(spacing_mm, "spacing_mm")
        self.antialias = bool(antialias)
        # Only the anti-aliasing filter reads voxel values, so only then must
        # a fused run be resampled before this transform.
        self.needs_data = self.antialias
        self._set_resampling(image_interpolation, label_interpolation, padding)

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> ResampleParameters:
        grid = Grid.of(sample.reference)
        target = self.spacing_mm if isinstance(self.spacing_mm, list) else [self.spacing_mm] * grid.ndim
        if len(target) != grid.ndim:
            raise axis_count_error("spacing_mm", f"{grid.ndim} values", len(target), sample.reference)
        old = np.asarray(grid.geometry.spacing)
        new = np.asarray(target, dtype=np.float64)
        shape = tuple(max(1, int(round(n * s / t))) for n, s, t in zip(grid.shape, old, new))
        edge = grid.geometry.index_to_physical(np.full((1, grid.ndim), -0.5))[0]
        origin = edge + grid.geometry.direction_matrix @ (0.5 * new)
        factors = new / old
        sigma = tuple(float(max(0.0, (f - 1.0) / 2.0)) if self.antialias else 0.0 for f in factors)
        return ResampleParameters(shape, tuple(float(t) for t in new), tuple(float(o) for o in origin), sigma)

    def prefilter(self, sample: Sample, parameters: ResampleParameters) -> Sample:
        """Blur images along downsampled axes; label maps and other fields are unchanged."""
        if not any(s > 0 for s in parameters.antialias_sigma_voxels):
            return sample
        changed = {}
        for name, field in sample.items():
            if isinstance(field, Image):
                data = field.data if field.data.is_floating_point() else field.data.to(torch.float32)
                changed[name] = field.replace(data=gaussian_filter(data, parameters.antialias_sigma_voxels, edge="reflect"))
        return sample.replace(changed)

    def plan(self, parameters: ResampleParameters, grid: Grid) -> SpatialPlan:
        geometry = grid.geometry.replace(spacing=parameters.spacing_mm, origin=parameters.origin_mm)
        return SpatialPlan(Grid(parameters.shape, geometry))


@dataclass(frozen=True)
class ThickSlicesParameters:
    """Physical axis (x=0, y=1, z=2) and slice thickness and spacing in mm."""

    axis: int
    thickness_mm: float
    spacing_mm: float


class ThickSlices(IntensityTransform):
    """Simulate an acquisition with thick slices along one axis, on the same grid.

    Images are blurred along the axis with a Gaussian slice profile whose
    FWHM is ``thickness_mm``, sampled every ``spacing_mm`` (slices centred
    in the field of view), and interpolated linearly back onto the input
    grid. Label maps keep their full resolution, which is what training a
    super-resolution or thick-slice-robust model needs.

    Parameters
    ----------
    axis : str
        Physical axis across the slices ("z" or "superior-inferior" for axial
        slices).
    thickness_mm : float
        Slice profile FWHM in mm (> 0).
    spacing_mm : float, optional
        Distance between slice centres in mm; default ``thickness_mm``.
    """

    def __init__(self, axis: str = "z", thickness_mm: float = 4.0, spacing_mm: float | None = None) -> None:
        physical_axis(axis)
        self.axis = axis
        self.thickness_mm = check_positive(thickness_mm, "thickness_mm")
        self.spacing_mm = None if spacing_mm is None else check_positive(spacing_mm, "spacing_mm")

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> ThickSlicesParameters:
        ndim = sample.reference.spatial_ndim
        spacing = self.thickness_mm if self.spacing_mm is None else self.spacing_mm
        return ThickSlicesParameters(physical_axis(self.axis, ndim), self.thickness_mm, spacing)

    def apply_to_image(self, data: torch.Tensor, parameters: ThickSlicesParameters, field: Image) -> torch.Tensor:
        geometry = field.geometry
        array_axis = int(np.argmax(np.abs(geometry.direction_matrix[parameters.axis])))
        voxel = geometry.spacing[array_axis]
        sigma = fwhm_to_sigma_voxels([parameters.thickness_mm], [voxel])[0]
        size = data.shape[1 + array_axis]
        matrix = torch.as_tensor(thick_slice_matrix(size, sigma, parameters.spacing_mm / voxel),
                                 dtype=data.dtype, device=data.device)
        moved = data.movedim(1 + array_axis, -1)
        return (moved @ matrix.T).movedim(-1, 1 + array_axis)


def thick_slice_matrix(size: int, sigma_voxels: float, step_voxels: float) -> np.ndarray:
    """Return the ``(size, size)`` matrix of a thick-slice acquisition along one axis of ``size`` voxels.

    The product of three linear maps, in the order they act: a Gaussian
    slice profile of ``sigma_voxels`` (mirrored edges, as
    :func:`~medaug.physics.optics.gaussian_filter` with ``edge="reflect"``),
    sampling every ``step_voxels`` with the samples centred on the axis, and
    linear interpolation back onto every voxel (edge values beyond the first
    and last sample, as :func:`~medaug.transforms.functional.resample.interpolate_axis`).
    One small matrix product replaces the filter and both interpolations.
    """
    count = int(np.floor((size - 1) / step_voxels)) + 1
    start = ((size - 1) - (count - 1) * step_voxels) / 2.0
    sampling = _linear_interpolation_matrix(start + step_voxels * np.arange(count), size)
    back = _linear_interpolation_matrix((np.arange(size) - start) / step_voxels, count)
    return back @ sampling @ _gaussian_matrix(size, sigma_voxels)


def _gaussian_matrix(size: int, sigma_voxels: float) -> np.ndarray:
    """Return the ``(size, size)`` matrix of the sampled Gaussian filter with mirrored edges."""
    kernel = gaussian_kernel_1d(sigma_voxels).numpy()
    radius = (kernel.size - 1) // 2
    rows = np.arange(size)
    matrix = np.zeros((size, size))
    for tap, weight in enumerate(kernel):
        source = rows + tap - radius
        if radius < size:
            # Mirror about the edge voxel without repeating it: -1 -> 1, size -> size - 2.
            source = np.abs(source)
            source = np.where(source > size - 1, 2 * (size - 1) - source, source)
        else:
            # Mirroring needs the radius below the axis length; the filter repeats the edge instead.
            source = np.clip(source, 0, size - 1)
        np.add.at(matrix, (rows, source), weight)
    return matrix


def _linear_interpolation_matrix(positions: np.ndarray, size: int) -> np.ndarray:
    """Return the ``(len(positions), size)`` matrix of linear interpolation at fractional indices."""
    positions = np.clip(positions, 0, size - 1)
    low = np.minimum(np.floor(positions).astype(np.int64), size - 1)
    high = np.minimum(low + 1, size - 1)
    weight = positions - low
    rows = np.arange(len(positions))
    matrix = np.zeros((len(positions), size))
    np.add.at(matrix, (rows, low), 1.0 - weight)
    np.add.at(matrix, (rows, high), weight)
    return matrix


class RandomThickSlices(RandomTransform):
    """Thick slices along one of ``axes`` with a thickness drawn from ``thickness_range_mm``.

    Parameters
    ----------
    axes : sequence of str
        Candidate physical axes; one is chosen uniformly per sample.
    thickness_range_mm : (low, high)
        Slice thickness (FWHM) in mm; slices are spaced by their thickness.
    """

    kind = "intensity"

    def __init__(self, axes: Sequence[str] = ("z",), thickness_range_mm: Any = (2.0, 6.0)) -> None:
        self.axes = [axes] if isinstance(axes, str) else list(axes)
        for axis in self.axes:
            physical_axis(axis)
        self.thickness_range_mm = check_range(thickness_range_mm, "thickness_range_mm", minimum=1e-6)

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> ThickSlicesParameters:
        axis = self.axes[int(rng.integers(len(self.axes)))]
        thickness = float(rng.uniform(*self.thickness_range_mm))
        return ThickSlices(axis, thickness).sample_parameters(None, sample)

    def deterministic(self, parameters: ThickSlicesParameters) -> ThickSlices:
        return ThickSlices(parameters.axis, parameters.thickness_mm, parameters.spacing_mm)
