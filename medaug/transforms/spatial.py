"""Rigid and affine spatial transforms in physical space: affine, flips, quarter turns.

Angles are in degrees and distances in mm, about physical LPS axes, with the
sign convention of :mod:`medaug.transforms.functional.affine`: ``+theta``
about z turns +x towards +y. Because everything is defined in mm, a
rotation of a volume with anisotropic voxels (1 x 1 x 4 mm) keeps shapes
round in mm.

Examples
--------
>>> import numpy as np
>>> image = np.zeros((5, 5), np.float32)
>>> image[2, 4] = 1.0                 # +x from the centre (last array axis)
>>> turned = Affine(rotation_deg=90)(image)
>>> np.unravel_index(turned.argmax(), turned.shape)   # now +y (first axis)
(np.int64(4), np.int64(2))
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from medaug.core.fields import GridField
from medaug.core.sample import Sample
from medaug.transforms.base import RandomTransform, SpatialTransform, Transform
from medaug.transforms.functional.affine import affine_matrix, homogeneous
from medaug.transforms.functional.coordinates import AffineMap, Grid, SpatialPlan
from medaug.transforms.functional.resample import Resampling
from medaug.transforms.validation import axis_count_error, check_probability, check_range

__all__ = [
    "Affine",
    "AffineParameters",
    "Flip",
    "FlipParameters",
    "InterpolatingTransform",
    "RandomAffine",
    "RandomFlip",
    "RandomRot90",
    "Rot90",
    "Rot90Parameters",
    "physical_axis",
]

_AXIS_NAMES = {
    "x": 0, "y": 1, "z": 2,
    "left-right": 0, "lr": 0, "rl": 0,
    "anterior-posterior": 1, "ap": 1, "pa": 1,
    "superior-inferior": 2, "si": 2, "is": 2,
}


def physical_axis(name: str | int, ndim: int | None = None) -> int:
    """Return the LPS axis index (x=0, y=1, z=2) of an axis name such as "x" or "left-right"."""
    if isinstance(name, numbers.Integral) and not isinstance(name, bool):
        index = int(name)
    elif isinstance(name, str) and name.lower() in _AXIS_NAMES:
        index = _AXIS_NAMES[name.lower()]
    else:
        raise ValueError(
            f"axis must be one of 'x', 'y', 'z', 'left-right', 'anterior-posterior', "
            f"'superior-inferior' (or 0, 1, 2), got {name!r}"
        )
    if not 0 <= index < (ndim or 3):
        raise ValueError(f"axis {name!r} does not exist in {ndim}-D physical space")
    return index


def _per_axis(value: Any, count: int, name: str, reference: GridField) -> tuple[float, ...]:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return (float(value),) * count
    values = tuple(float(v) for v in value)
    if len(values) != count:
        raise axis_count_error(name, f"{count} values", len(values), reference)
    return values


def _rotation_count(ndim: int) -> int:
    return 1 if ndim == 2 else 3


def store_resampling_options(
    transform: Transform, image_interpolation: str, label_interpolation: str, padding: Any
) -> Resampling:
    """Validate resampling options and store them on ``transform`` under their own names.

    The attributes let :meth:`~medaug.transforms.base.Transform.get_config`
    write the options, for spatial transforms and their random twins alike.
    """
    resampling = Resampling(image_interpolation, label_interpolation, padding)
    transform.image_interpolation = resampling.image_interpolation
    transform.label_interpolation = resampling.label_interpolation
    transform.padding = resampling.padding
    return resampling


class InterpolatingTransform(SpatialTransform):
    """A spatial transform whose output voxels fall between input voxels.

    Subclasses pass ``image_interpolation``, ``label_interpolation`` and
    ``padding`` (see :class:`~medaug.transforms.functional.resample.Resampling`)
    to :meth:`_set_resampling` in their constructor.
    """

    def _set_resampling(self, image_interpolation: str, label_interpolation: str, padding: Any) -> None:
        self._resampling = store_resampling_options(self, image_interpolation, label_interpolation, padding)

    @property
    def resampling(self) -> Resampling:
        return self._resampling


@dataclass(frozen=True)
class AffineParameters:
    """Affine parameters broadcast to one sample's dimension (see :class:`Affine`)."""

    rotation_deg: tuple[float, ...]
    scale: tuple[float, ...]
    shear: tuple[float, ...]
    translation_mm: tuple[float, ...]
    center_mm: tuple[float, ...] | None = None
    invert: bool = False


class Affine(InterpolatingTransform):
    """Rotate, scale, shear and translate in physical space about a centre.

    Parameters
    ----------
    rotation_deg : float or sequence of float
        One angle in 2D, three (about x, y, z) in 3D, in degrees; a number
        is used for every angle.
    scale : float or sequence of float
        Factor per physical axis (> 1 enlarges the content).
    shear : float or sequence of float
        One value in 2D, three (xy, xz, yz) in 3D (dimensionless).
    translation_mm : float or sequence of float
        Shift of the content per physical axis in mm.
    center_mm : sequence of float, optional, keyword-only
        Physical centre of rotation and scaling; default the grid centre.
    invert : bool, keyword-only
        Apply the inverse transform instead (what :meth:`inverse` returns).
    image_interpolation, label_interpolation, padding : keyword-only
        See :class:`~medaug.transforms.functional.resample.Resampling`.
    """

    def __init__(
        self,
        rotation_deg: float | Sequence[float] = 0.0,
        scale: float | Sequence[float] = 1.0,
        shear: float | Sequence[float] = 0.0,
        translation_mm: float | Sequence[float] = 0.0,
        *,
        center_mm: Sequence[float] | None = None,
        invert: bool = False,
        image_interpolation: str = "linear",
        label_interpolation: str = "nearest",
        padding: str | float = "zeros",
    ) -> None:
        self.rotation_deg = _finite(rotation_deg, "rotation_deg")
        self.scale = _finite(scale, "scale")
        if np.any(np.asarray(self.scale) <= 0):
            raise ValueError(f"`scale` must be > 0 on every axis, got {scale!r}")
        self.shear = _finite(shear, "shear")
        self.translation_mm = _finite(translation_mm, "translation_mm")
        self.center_mm = None if center_mm is None else _finite(center_mm, "center_mm")
        self.invert = bool(invert)
        self._set_resampling(image_interpolation, label_interpolation, padding)

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> AffineParameters:
        reference = sample.reference
        ndim = reference.spatial_ndim
        center = None if self.center_mm is None else _per_axis(self.center_mm, ndim, "center_mm", reference)
        return AffineParameters(
            rotation_deg=_per_axis(self.rotation_deg, _rotation_count(ndim), "rotation_deg", reference),
            scale=_per_axis(self.scale, ndim, "scale", reference),
            shear=_per_axis(self.shear, _rotation_count(ndim), "shear", reference),
            translation_mm=_per_axis(self.translation_mm, ndim, "translation_mm", reference),
            center_mm=center,
            invert=self.invert,
        )

    def plan(self, parameters: AffineParameters, grid: Grid) -> SpatialPlan:
        center = grid.center_mm() if parameters.center_mm is None else parameters.center_mm
        forward = affine_matrix(
            rotation_deg=parameters.rotation_deg,
            scale=parameters.scale,
            shear=parameters.shear,
            translation_mm=parameters.translation_mm,
            center_mm=center,
        )
        backward = forward if parameters.invert else np.linalg.inv(forward)
        return SpatialPlan(grid, (AffineMap(backward),))

    def inverse(self) -> Affine:
        config = self.get_config()
        config["invert"] = not self.invert
        return Affine(**config)


def _finite(value: Any, name: str) -> float | tuple[float, ...]:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        values: float | tuple[float, ...] = float(value)
        check = [values]
    elif isinstance(value, Sequence) and not isinstance(value, str):
        values = tuple(float(v) for v in value)
        check = list(values)
    else:
        raise TypeError(f"`{name}` must be a number or a sequence of numbers, got {value!r}")
    if not all(np.isfinite(check)):
        raise ValueError(f"`{name}` must be finite, got {value!r}")
    return values


def _parse_ranges(value: Any, name: str, *, symmetric: bool, minimum: float | None = None):
    """Parse one range for all axes, or a sequence of per-axis ranges."""
    if isinstance(value, Sequence) and value and all(isinstance(v, Sequence) for v in value):
        return [check_range(v, f"{name}[{i}]", symmetric=symmetric, minimum=minimum) for i, v in enumerate(value)]
    return check_range(value, name, symmetric=symmetric, minimum=minimum)


def _draw(rng: np.random.Generator, ranges: Any, count: int, name: str, reference: GridField) -> tuple[float, ...]:
    if isinstance(ranges, list):
        if len(ranges) != count:
            raise axis_count_error(name, f"{count} per-axis ranges", len(ranges), reference)
        return tuple(float(rng.uniform(low, high)) for low, high in ranges)
    low, high = ranges
    return tuple(float(v) for v in rng.uniform(low, high, size=count))


class RandomAffine(RandomTransform):
    """Random rotation, scaling, shear and translation (the twin is :class:`Affine`).

    Parameters
    ----------
    rotation_range_deg : float, (low, high) or per-axis list of (low, high)
        A number ``a`` means (-a, a). In 3D each of the three angles is drawn
        independently.
    scale_range : float, (low, high) or per-axis list
        Scale factors (> 0); a number means that fixed factor.
    shear_range : float, (low, high) or per-component list
        A number ``s`` means (-s, s).
    translation_range_mm : float, (low, high) or per-axis list
        A number ``t`` means (-t, t) mm.
    isotropic_scale : bool, keyword-only
        Draw one scale factor for all axes (default True).
    center_mm, image_interpolation, label_interpolation, padding : keyword-only
        Passed to :class:`Affine`.
    """

    kind = "spatial"

    def __init__(
        self,
        rotation_range_deg: Any = 0.0,
        scale_range: Any = 1.0,
        shear_range: Any = 0.0,
        translation_range_mm: Any = 0.0,
        *,
        isotropic_scale: bool = True,
        center_mm: Sequence[float] | None = None,
        image_interpolation: str = "linear",
        label_interpolation: str = "nearest",
        padding: str | float = "zeros",
    ) -> None:
        self.rotation_range_deg = _parse_ranges(rotation_range_deg, "rotation_range_deg", symmetric=True)
        self.scale_range = _parse_ranges(scale_range, "scale_range", symmetric=False, minimum=1e-6)
        self.shear_range = _parse_ranges(shear_range, "shear_range", symmetric=True)
        self.translation_range_mm = _parse_ranges(translation_range_mm, "translation_range_mm", symmetric=True)
        self.isotropic_scale = bool(isotropic_scale)
        self.center_mm = None if center_mm is None else _finite(center_mm, "center_mm")
        store_resampling_options(self, image_interpolation, label_interpolation, padding)

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> AffineParameters:
        reference = sample.reference
        ndim = reference.spatial_ndim
        rotation = _draw(rng, self.rotation_range_deg, _rotation_count(ndim), "rotation_range_deg", reference)
        if self.isotropic_scale and not isinstance(self.scale_range, list):
            scale = (float(rng.uniform(*self.scale_range)),) * ndim
        else:
            scale = _draw(rng, self.scale_range, ndim, "scale_range", reference)
        shear = _draw(rng, self.shear_range, _rotation_count(ndim), "shear_range", reference)
        translation = _draw(rng, self.translation_range_mm, ndim, "translation_range_mm", reference)
        center = None if self.center_mm is None else _per_axis(self.center_mm, ndim, "center_mm", reference)
        return AffineParameters(rotation, scale, shear, translation, center)

    def deterministic(self, parameters: AffineParameters) -> Affine:
        return Affine(
            parameters.rotation_deg,
            parameters.scale,
            parameters.shear,
            parameters.translation_mm,
            center_mm=parameters.center_mm,
            invert=parameters.invert,
            image_interpolation=self.image_interpolation,
            label_interpolation=self.label_interpolation,
            padding=self.padding,
        )


@dataclass(frozen=True)
class FlipParameters:
    """Physical axes (x=0, y=1, z=2) to mirror about the grid centre."""

    axes: tuple[int, ...]


def _axis_names(axes: Any) -> tuple[str | int, ...]:
    if isinstance(axes, (str, numbers.Integral)):
        axes = (axes,)
    names = tuple(axes)
    for name in names:
        physical_axis(name)
    return names


class Flip(SpatialTransform):
    """Mirror the content along physical (anatomical) axes, about the grid centre.

    Parameters
    ----------
    axes : str or sequence of str
        "x"/"left-right", "y"/"anterior-posterior", "z"/"superior-inferior".
        On a grid aligned with the physical axes this copies voxels exactly.
    """

    def __init__(self, axes: str | Sequence[str] = ("x",)) -> None:
        self.axes = list(_axis_names(axes))

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> FlipParameters:
        ndim = sample.reference.spatial_ndim
        return FlipParameters(tuple(sorted({physical_axis(a, ndim) for a in self.axes})))

    def plan(self, parameters: FlipParameters, grid: Grid) -> SpatialPlan:
        signs = np.ones(grid.ndim)
        signs[list(parameters.axes)] = -1.0
        center = grid.center_mm()
        mirror = homogeneous(np.diag(signs), center - signs * center)
        return SpatialPlan(grid, (AffineMap(mirror),))

    def inverse(self) -> Flip:
        return Flip(self.axes)


class RandomFlip(RandomTransform):
    """Mirror along each of ``axes`` independently with probability ``p`` (twin: :class:`Flip`)."""

    kind = "spatial"

    def __init__(self, axes: str | Sequence[str] = ("x",), p: float = 0.5) -> None:
        self.axes = list(_axis_names(axes))
        self.p = check_probability(p, "p")

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> FlipParameters:
        ndim = sample.reference.spatial_ndim
        chosen = [physical_axis(a, ndim) for a in self.axes if rng.random() < self.p]
        return FlipParameters(tuple(sorted(set(chosen))))

    def deterministic(self, parameters: FlipParameters) -> Flip:
        return Flip(list(parameters.axes))


@dataclass(frozen=True)
class Rot90Parameters:
    """Number of quarter turns from physical axis ``plane[0]`` towards ``plane[1]``."""

    k: int
    plane: tuple[int, int]


def _check_plane(plane: Any) -> list[str | int]:
    names = list(_axis_names(plane))
    if len(names) != 2 or physical_axis(names[0]) == physical_axis(names[1]):
        raise ValueError(f"`plane` must name two different physical axes, got {plane!r}")
    return names


class Rot90(SpatialTransform):
    """Turn the content by ``k`` quarter turns in a physical plane, keeping all of it.

    The output grid swaps the shape and spacing of the two array axes that
    lie along the plane for odd ``k``, and keeps the grid centre. On an
    axis-aligned grid this copies voxels exactly. ``k = 1`` in the ("x",
    "y") plane equals ``Affine(rotation_deg=90)`` on a square grid.

    Parameters
    ----------
    k : int
        Quarter turns; negative turns the other way.
    plane : (str, str)
        Rotation from the first physical axis towards the second.
    """

    def __init__(self, k: int = 1, plane: Sequence[str] = ("x", "y")) -> None:
        if isinstance(k, bool) or not isinstance(k, numbers.Integral):
            raise TypeError(f"`k` must be an int, got {k!r}")
        self.k = int(k)
        self.plane = _check_plane(plane)

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> Rot90Parameters:
        ndim = sample.reference.spatial_ndim
        first, second = (physical_axis(a, ndim) for a in self.plane)
        return Rot90Parameters(self.k % 4, (first, second))

    def plan(self, parameters: Rot90Parameters, grid: Grid) -> SpatialPlan:
        first, second = parameters.plane
        ndim = grid.ndim
        turn = np.eye(ndim)
        angle = np.pi / 2 * parameters.k
        turn[first, first] = turn[second, second] = np.round(np.cos(angle))
        turn[second, first] = np.round(np.sin(angle))
        turn[first, second] = -turn[second, first]
        shape, spacing = list(grid.shape), list(grid.geometry.spacing)
        if parameters.k % 2 == 1:
            direction = np.abs(grid.geometry.direction_matrix)
            axis_a, axis_b = int(np.argmax(direction[first])), int(np.argmax(direction[second]))
            shape[axis_a], shape[axis_b] = shape[axis_b], shape[axis_a]
            spacing[axis_a], spacing[axis_b] = spacing[axis_b], spacing[axis_a]
        center = grid.center_mm()
        geometry = grid.geometry.replace(spacing=tuple(spacing))
        offset = geometry.direction_matrix @ (np.asarray(spacing) * (np.asarray(shape) - 1) / 2)
        output = Grid(tuple(shape), geometry.replace(origin=tuple(center - offset)))
        backward = homogeneous(turn.T, center - turn.T @ center)
        return SpatialPlan(output, (AffineMap(backward),))

    def inverse(self) -> Rot90:
        return Rot90(-self.k, self.plane)


class RandomRot90(RandomTransform):
    """Turn by a random number of quarter turns drawn from ``k_choices`` (twin: :class:`Rot90`)."""

    kind = "spatial"

    def __init__(self, k_choices: Sequence[int] = (0, 1, 2, 3), plane: Sequence[str] = ("x", "y")) -> None:
        self.k_choices = [int(k) for k in k_choices]
        if not self.k_choices:
            raise ValueError("`k_choices` must contain at least one number of quarter turns")
        self.plane = _check_plane(plane)

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> Rot90Parameters:
        k = int(self.k_choices[int(rng.integers(len(self.k_choices)))])
        return Rot90(k, self.plane).sample_parameters(None, sample)

    def deterministic(self, parameters: Rot90Parameters) -> Transform:
        return Rot90(parameters.k, self.plane)

