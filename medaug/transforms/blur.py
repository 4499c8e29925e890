"""Gaussian blur and unsharp-mask sharpening with widths in mm (FWHM).

Widths are physical, so a 2 mm FWHM blur spans two voxels of 1 mm and half
a voxel of 4 mm. Both transforms filter with
:func:`medaug.physics.optics.psf_blur` and mirrored edges (``edge="reflect"``).
Label maps are never filtered.

Examples
--------
>>> import numpy as np
>>> image = np.zeros((1, 9, 9), np.float32); image[0, 4, 4] = 1.0
>>> blurred = Blur(fwhm_mm=2.0)(image)
>>> round(float(blurred.sum()), 4), float(blurred.max()) < 1.0
(1.0, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from medaug.core.fields import GridField, Image
from medaug.core.sample import Sample
from medaug.physics.optics import psf_blur
from medaug.transforms.base import IntensityTransform, RandomTransform
from medaug.transforms.validation import axis_count_error, check_nonnegative, check_range

__all__ = ["Blur", "BlurParameters", "RandomBlur", "RandomSharpen", "Sharpen", "SharpenParameters"]


def _fwhm(value: Any, name: str) -> float | list[float]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [check_nonnegative(v, f"{name}[{i}]") for i, v in enumerate(value)]
    return check_nonnegative(value, name)


def _per_axis(value: float | Sequence[float], reference: GridField, name: str) -> tuple[float, ...]:
    ndim = reference.spatial_ndim
    if isinstance(value, Sequence):
        if len(value) != ndim:
            raise axis_count_error(name, f"{ndim} values (one per array axis)", len(value), reference)
        return tuple(float(v) for v in value)
    return (float(value),) * ndim


def _blur(data: torch.Tensor, fwhm_mm: tuple[float, ...], field: Image) -> torch.Tensor:
    return psf_blur(data, fwhm_mm, spacing_mm=field.geometry.spacing, edge="reflect")


@dataclass(frozen=True)
class BlurParameters:
    """FWHM in mm per array axis."""

    fwhm_mm: tuple[float, ...]


class Blur(IntensityTransform):
    """Blur images with a Gaussian of full width at half maximum ``fwhm_mm``.

    Parameters
    ----------
    fwhm_mm : float or sequence of float
        FWHM in mm (>= 0), one value or one per array axis. 0 is the identity.
    """

    def __init__(self, fwhm_mm: float | Sequence[float] = 1.0) -> None:
        self.fwhm_mm = _fwhm(fwhm_mm, "fwhm_mm")

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> BlurParameters:
        return BlurParameters(_per_axis(self.fwhm_mm, sample.reference, "fwhm_mm"))

    def apply_to_image(self, data: torch.Tensor, parameters: BlurParameters, field: Image) -> torch.Tensor:
        return _blur(data, parameters.fwhm_mm, field)


class RandomBlur(RandomTransform):
    """Blur with an isotropic FWHM in mm drawn uniformly from ``fwhm_range_mm``."""

    kind = "intensity"

    def __init__(self, fwhm_range_mm: Any = (0.0, 2.0)) -> None:
        self.fwhm_range_mm = check_range(fwhm_range_mm, "fwhm_range_mm", minimum=0.0)

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> BlurParameters:
        fwhm = float(rng.uniform(*self.fwhm_range_mm))
        return BlurParameters((fwhm,) * sample.reference.spatial_ndim)

    def deterministic(self, parameters: BlurParameters) -> Blur:
        return Blur(list(parameters.fwhm_mm))


@dataclass(frozen=True)
class SharpenParameters:
    """FWHM in mm of the unsharp mask's blur per array axis, and its amount."""

    fwhm_mm: tuple[float, ...]
    amount: float


class Sharpen(IntensityTransform):
    """Sharpen by unsharp masking: ``x + amount (x - blur(x))``.

    Parameters
    ----------
    fwhm_mm : float or sequence of float
        FWHM in mm of the Gaussian that defines the detail removed by blurring.
    amount : float
        Weight (>= 0) of the added detail. 0 is the identity.
    """

    def __init__(self, fwhm_mm: float | Sequence[float] = 2.0, amount: float = 1.0) -> None:
        self.fwhm_mm = _fwhm(fwhm_mm, "fwhm_mm")
        self.amount = check_nonnegative(amount, "amount")

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> SharpenParameters:
        fwhm = _per_axis(self.fwhm_mm, sample.reference, "fwhm_mm")
        return SharpenParameters(fwhm, self.amount)

    def apply_to_image(self, data: torch.Tensor, parameters: SharpenParameters, field: Image) -> torch.Tensor:
        if parameters.amount == 0:
            return data
        blurred = _blur(data, parameters.fwhm_mm, field)
        return data + parameters.amount * (data - blurred)


class RandomSharpen(RandomTransform):
    """Unsharp masking with FWHM and amount drawn uniformly from their ranges."""

    kind = "intensity"

    def __init__(self, fwhm_range_mm: Any = (1.0, 3.0), amount_range: Any = (0.0, 1.0)) -> None:
        self.fwhm_range_mm = check_range(fwhm_range_mm, "fwhm_range_mm", minimum=0.0)
        self.amount_range = check_range(amount_range, "amount_range", minimum=0.0)

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> SharpenParameters:
        fwhm = float(rng.uniform(*self.fwhm_range_mm))
        amount = float(rng.uniform(*self.amount_range))
        return SharpenParameters((fwhm,) * sample.reference.spatial_ndim, amount)

    def deterministic(self, parameters: SharpenParameters) -> Sharpen:
        return Sharpen(list(parameters.fwhm_mm), parameters.amount)
