"""Elastic deformation from random control-point displacements (spacing in mm).

See :mod:`medaug.transforms.functional.elastic` for the spline model and the
diffeomorphic mode. Displacements are drawn with zero mean, so over many
samples the deformation does not shift the content on average.

Examples
--------
>>> import numpy as np
>>> image = np.random.default_rng(0).random((1, 16, 16, 16)).astype(np.float32)
>>> warp = RandomElasticDeformation(control_spacing_mm=8, displacement_std_mm=2)
>>> warp(image, rng=np.random.default_rng(1)).shape
(1, 16, 16, 16)
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from medaug.core.fields import GridField
from medaug.core.sample import Sample
from medaug.transforms.base import NotInvertibleError, RandomTransform
from medaug.transforms.functional.coordinates import Grid, SpatialPlan
from medaug.transforms.functional.elastic import control_grid_shape, dense_displacement
from medaug.transforms.spatial import InterpolatingTransform, store_resampling_options
from medaug.transforms.validation import axis_count_error, check_positive, check_range

__all__ = ["ElasticDeformation", "ElasticParameters", "RandomElasticDeformation"]


@dataclass(frozen=True, eq=False)
class ElasticParameters:
    """Control-point displacements ``(n, *control_shape)`` in mm and their spacing per axis."""

    control_displacements_mm: np.ndarray
    control_spacing_mm: tuple[float, ...]
    diffeomorphic: bool = False


def _spacing(value: Any, name: str) -> float | tuple[float, ...]:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return check_positive(value, name)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(check_positive(v, f"{name}[{i}]") for i, v in enumerate(value))
    raise TypeError(f"`{name}` must be a number or a sequence of numbers (mm), got {value!r}")


def _per_axis(value: float | tuple[float, ...], reference: GridField) -> tuple[float, ...]:
    ndim = reference.spatial_ndim
    if isinstance(value, tuple):
        if len(value) != ndim:
            raise axis_count_error("control_spacing_mm", f"{ndim} values", len(value), reference)
        return value
    return (float(value),) * ndim


class ElasticDeformation(InterpolatingTransform):
    """Deform with given control-point displacements (the twin of the random version).

    Parameters
    ----------
    control_displacements_mm : array_like, (n, *control_shape)
        Displacement of each control point in mm (physical x-y-z components),
        for the control grid that ``control_spacing_mm`` gives on the image
        (see :func:`~medaug.transforms.functional.elastic.control_grid_shape`).
    control_spacing_mm : float or sequence of float
        Distance between control points in mm, per array axis.
    diffeomorphic : bool, keyword-only
        Read the displacements as a stationary velocity field and integrate
        it, which guarantees a positive Jacobian determinant and an inverse.
    image_interpolation, label_interpolation, padding : keyword-only
        See :class:`~medaug.transforms.functional.resample.Resampling`.
    """

    def __init__(
        self,
        control_displacements_mm: Any,
        control_spacing_mm: float | Sequence[float] = 32.0,
        *,
        diffeomorphic: bool = False,
        image_interpolation: str = "linear",
        label_interpolation: str = "nearest",
        padding: str | float = "zeros",
    ) -> None:
        displacements = np.asarray(control_displacements_mm, dtype=np.float64)
        if displacements.ndim not in (3, 4) or displacements.shape[0] != displacements.ndim - 1:
            raise ValueError(
                "`control_displacements_mm` must be shaped (n, *control_shape) with n = 2 or 3 "
                f"spatial axes, got shape {displacements.shape}"
            )
        if not np.all(np.isfinite(displacements)):
            raise ValueError("`control_displacements_mm` must be finite")
        self.control_displacements_mm = displacements
        self.control_spacing_mm = _spacing(control_spacing_mm, "control_spacing_mm")
        self.diffeomorphic = bool(diffeomorphic)
        self._set_resampling(image_interpolation, label_interpolation, padding)

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> ElasticParameters:
        return ElasticParameters(
            self.control_displacements_mm, _per_axis(self.control_spacing_mm, sample.reference), self.diffeomorphic
        )

    def plan(self, parameters: ElasticParameters, grid: Grid) -> SpatialPlan:
        displacements = torch.as_tensor(parameters.control_displacements_mm, dtype=torch.float32)
        displacement_map = dense_displacement(
            displacements, grid, parameters.control_spacing_mm, diffeomorphic=parameters.diffeomorphic
        )
        return SpatialPlan(grid, (displacement_map,))

    def inverse(self) -> ElasticDeformation:
        """Return the exact inverse, which exists in diffeomorphic mode only."""
        if not self.diffeomorphic:
            raise NotInvertibleError(
                "ElasticDeformation has an exact inverse only with diffeomorphic=True"
            )
        config = self.get_config()
        config["control_displacements_mm"] = -self.control_displacements_mm
        return ElasticDeformation(**config)


class RandomElasticDeformation(RandomTransform):
    """Deform with control-point displacements drawn from a zero-mean normal distribution.

    Parameters
    ----------
    control_spacing_mm : float or sequence of float
        Distance between control points in mm (per array axis); larger
        spacing gives smoother, larger-scale deformations.
    displacement_std_mm : float or (low, high)
        Standard deviation in mm of each control-point displacement
        component; a range draws it per sample. 0 is the identity.
    diffeomorphic : bool, keyword-only
        See :class:`ElasticDeformation`.
    image_interpolation, label_interpolation, padding : keyword-only
        See :class:`~medaug.transforms.functional.resample.Resampling`.
    """

    kind = "spatial"

    def __init__(
        self,
        control_spacing_mm: float | Sequence[float] = 32.0,
        displacement_std_mm: float | Sequence[float] = 2.0,
        *,
        diffeomorphic: bool = False,
        image_interpolation: str = "linear",
        label_interpolation: str = "nearest",
        padding: str | float = "zeros",
    ) -> None:
        self.control_spacing_mm = _spacing(control_spacing_mm, "control_spacing_mm")
        self.displacement_std_mm = check_range(displacement_std_mm, "displacement_std_mm", minimum=0.0)
        self.diffeomorphic = bool(diffeomorphic)
        store_resampling_options(self, image_interpolation, label_interpolation, padding)

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> ElasticParameters:
        grid = Grid.of(sample.reference)
        spacing = _per_axis(self.control_spacing_mm, sample.reference)
        shape = (grid.ndim, *control_grid_shape(grid, spacing))
        std = float(rng.uniform(*self.displacement_std_mm))
        displacements = rng.normal(0.0, 1.0, size=shape) * std
        return ElasticParameters(displacements, spacing, self.diffeomorphic)

    def deterministic(self, parameters: ElasticParameters) -> ElasticDeformation:
        return ElasticDeformation(
            parameters.control_displacements_mm,
            parameters.control_spacing_mm,
            diffeomorphic=parameters.diffeomorphic,
            image_interpolation=self.image_interpolation,
            label_interpolation=self.label_interpolation,
            padding=self.padding,
        )
