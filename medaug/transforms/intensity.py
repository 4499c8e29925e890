"""Intensity transforms: gamma, brightness and contrast, bias field, intensity curves.

All act on Image fields only (label maps are never touched), promote
integer images to float32, and neither clip nor cast their output. Curves
and gamma work on each channel's own [min, max] range, so they are defined
for negative intensities (CT in HU, z-scored MR).

Examples
--------
>>> import numpy as np
>>> ct = np.array([[-1000, 0, 1000]], dtype=np.int16)
>>> Gamma(2.0)(ct).tolist()
[[-1000.0, -500.0, 1000.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from medaug.core.fields import Image
from medaug.core.sample import Sample
from medaug.transforms.base import IntensityTransform, RandomTransform
from medaug.transforms.functional.intensity import (
    adjust_brightness_contrast,
    adjust_gamma,
    apply_intensity_curve,
    bias_field,
    bias_field_terms,
)
from medaug.transforms.validation import check_nonnegative, check_positive, check_range

__all__ = [
    "BiasField",
    "BiasFieldParameters",
    "BrightnessContrast",
    "BrightnessContrastParameters",
    "CurveParameters",
    "Gamma",
    "GammaParameters",
    "IntensityCurve",
    "RandomBiasField",
    "RandomBrightnessContrast",
    "RandomGamma",
    "RandomHistogramShift",
    "RandomIntensityCurve",
]

# Points at which a random Bezier curve is tabulated for piecewise-linear use.
_CURVE_SAMPLES = 65


@dataclass(frozen=True)
class GammaParameters:
    """Gamma exponent (> 0)."""

    gamma: float


class Gamma(IntensityTransform):
    """Apply gamma ``gamma`` on each channel's [min, max] range (< 1 brightens, > 1 darkens).

    See :func:`~medaug.transforms.functional.intensity.adjust_gamma`.
    """

    def __init__(self, gamma: float = 1.0) -> None:
        self.gamma = check_positive(gamma, "gamma")

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> GammaParameters:
        return GammaParameters(self.gamma)

    def apply_to_image(self, data: torch.Tensor, parameters: GammaParameters, field: Image) -> torch.Tensor:
        return adjust_gamma(data, parameters.gamma)


class RandomGamma(RandomTransform):
    """Gamma ``exp(u)`` with ``u`` uniform in ``log_gamma_range`` (symmetric about 1 by default)."""

    kind = "intensity"

    def __init__(self, log_gamma_range: Any = (-0.3, 0.3)) -> None:
        self.log_gamma_range = check_range(log_gamma_range, "log_gamma_range", symmetric=True)

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> GammaParameters:
        return GammaParameters(float(np.exp(rng.uniform(*self.log_gamma_range))))

    def deterministic(self, parameters: GammaParameters) -> Gamma:
        return Gamma(parameters.gamma)


@dataclass(frozen=True)
class BrightnessContrastParameters:
    """Brightness in channel standard deviations and contrast factor."""

    brightness: float
    contrast: float


class BrightnessContrast(IntensityTransform):
    """Apply ``mean + contrast (x - mean) + brightness std`` per channel.

    Parameters
    ----------
    brightness : float
        Shift in units of the channel's standard deviation.
    contrast : float
        Factor (>= 0) on deviations from the channel mean.
    """

    def __init__(self, brightness: float = 0.0, contrast: float = 1.0) -> None:
        self.brightness = check_range(brightness, "brightness")[0]
        self.contrast = check_nonnegative(contrast, "contrast")

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> BrightnessContrastParameters:
        return BrightnessContrastParameters(self.brightness, self.contrast)

    def apply_to_image(self, data: torch.Tensor, parameters: BrightnessContrastParameters, field: Image):
        return adjust_brightness_contrast(data, parameters.brightness, parameters.contrast)


class RandomBrightnessContrast(RandomTransform):
    """Brightness and contrast drawn uniformly from their ranges (twin: :class:`BrightnessContrast`)."""

    kind = "intensity"

    def __init__(self, brightness_range: Any = (-0.2, 0.2), contrast_range: Any = (0.8, 1.2)) -> None:
        self.brightness_range = check_range(brightness_range, "brightness_range", symmetric=True)
        self.contrast_range = check_range(contrast_range, "contrast_range", minimum=0.0)

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> BrightnessContrastParameters:
        brightness = float(rng.uniform(*self.brightness_range))
        contrast = float(rng.uniform(*self.contrast_range))
        return BrightnessContrastParameters(brightness, contrast)

    def deterministic(self, parameters: BrightnessContrastParameters) -> BrightnessContrast:
        return BrightnessContrast(parameters.brightness, parameters.contrast)


@dataclass(frozen=True)
class BiasFieldParameters:
    """Legendre coefficients of the log field and the polynomial order."""

    coefficients: tuple[float, ...]
    order: int


class BiasField(IntensityTransform):
    """Multiply images by a smooth field ``exp(sum c_k P_k)`` (MR intensity inhomogeneity).

    See :func:`~medaug.transforms.functional.intensity.bias_field` for the
    model. All zero coefficients give the identity.

    Parameters
    ----------
    coefficients : sequence of float
        One per term of :func:`~medaug.transforms.functional.intensity.bias_field_terms`.
    order : int
        Maximum total polynomial degree (>= 0).
    """

    def __init__(self, coefficients: Sequence[float], order: int = 3) -> None:
        if isinstance(order, bool) or not isinstance(order, int) or order < 0:
            raise ValueError(f"`order` must be an int >= 0, got {order!r}")
        self.coefficients = [float(c) for c in coefficients]
        if not np.all(np.isfinite(self.coefficients)):
            raise ValueError(f"`coefficients` must be finite, got {self.coefficients}")
        self.order = order

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> BiasFieldParameters:
        return BiasFieldParameters(tuple(self.coefficients), self.order)

    def apply_to_image(self, data: torch.Tensor, parameters: BiasFieldParameters, field: Image):
        spatial = tuple(data.shape[1:])
        values = bias_field(spatial, parameters.coefficients, parameters.order, dtype=data.dtype, device=data.device)
        return data * values


class RandomBiasField(RandomTransform):
    """Bias field with coefficients uniform in ``coefficient_range`` (constant term 0).

    Parameters
    ----------
    coefficient_range : float or (low, high)
        A number ``a`` means (-a, a). About 0.3 gives a +-30 % field.
    order : int
        Maximum total polynomial degree.
    """

    kind = "intensity"

    def __init__(self, coefficient_range: Any = 0.3, order: int = 3) -> None:
        self.coefficient_range = check_range(coefficient_range, "coefficient_range", symmetric=True)
        if isinstance(order, bool) or not isinstance(order, int) or order < 0:
            raise ValueError(f"`order` must be an int >= 0, got {order!r}")
        self.order = order

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> BiasFieldParameters:
        count = len(bias_field_terms(sample.reference.spatial_ndim, self.order))
        values = rng.uniform(*self.coefficient_range, size=count)
        values[0] = 0.0
        return BiasFieldParameters(tuple(float(v) for v in values), self.order)

    def deterministic(self, parameters: BiasFieldParameters) -> BiasField:
        return BiasField(list(parameters.coefficients), parameters.order)


@dataclass(frozen=True)
class CurveParameters:
    """Piecewise-linear curve knots in normalised intensity units ([0, 1] = channel range)."""

    knots_in: tuple[float, ...]
    knots_out: tuple[float, ...]


class IntensityCurve(IntensityTransform):
    """Map each channel's normalised intensities through a piecewise-linear curve.

    Parameters
    ----------
    knots_in : sequence of float
        Strictly increasing, from 0 to 1 (channel minimum to maximum).
    knots_out : sequence of float
        Output level at each knot, in the same normalised units.
    """

    def __init__(self, knots_in: Sequence[float] = (0.0, 1.0), knots_out: Sequence[float] = (0.0, 1.0)) -> None:
        self.knots_in = [float(k) for k in knots_in]
        self.knots_out = [float(k) for k in knots_out]
        if len(self.knots_in) < 2 or len(self.knots_in) != len(self.knots_out):
            raise ValueError(
                f"`knots_in` and `knots_out` must have the same length >= 2, got "
                f"{len(self.knots_in)} and {len(self.knots_out)}"
            )
        steps = np.diff(self.knots_in)
        if self.knots_in[0] != 0.0 or self.knots_in[-1] != 1.0 or np.any(steps <= 0):
            raise ValueError(f"`knots_in` must increase strictly from 0 to 1, got {self.knots_in}")

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> CurveParameters:
        return CurveParameters(tuple(self.knots_in), tuple(self.knots_out))

    def apply_to_image(self, data: torch.Tensor, parameters: CurveParameters, field: Image):
        return apply_intensity_curve(data, parameters.knots_in, parameters.knots_out)


class RandomHistogramShift(RandomTransform):
    """Shift ``num_knots`` evenly spaced histogram levels by random amounts, keeping order.

    Interior knots move by up to ``max_shift`` (normalised units) and are
    sorted, so the curve stays monotone and non-decreasing; the end points
    stay fixed.
    """

    kind = "intensity"

    def __init__(self, num_knots: int = 8, max_shift: float = 0.1) -> None:
        if isinstance(num_knots, bool) or not isinstance(num_knots, int) or num_knots < 3:
            raise ValueError(f"`num_knots` must be an int >= 3, got {num_knots!r}")
        self.num_knots = num_knots
        self.max_shift = check_nonnegative(max_shift, "max_shift")

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> CurveParameters:
        knots = np.linspace(0.0, 1.0, self.num_knots)
        shifted = knots.copy()
        shifted[1:-1] = np.clip(knots[1:-1] + rng.uniform(-self.max_shift, self.max_shift, self.num_knots - 2), 0, 1)
        shifted = np.sort(shifted)
        return CurveParameters(tuple(knots.tolist()), tuple(shifted.tolist()))

    def deterministic(self, parameters: CurveParameters) -> IntensityCurve:
        return IntensityCurve(parameters.knots_in, parameters.knots_out)


class RandomIntensityCurve(RandomTransform):
    """A random smooth monotone curve: a cubic Bezier from (0, 0) to (1, 1).

    The two inner control points are drawn uniformly in the unit square, so
    the curve spans mild to strong non-linear contrast changes while
    keeping the order of intensities when both inner points have increasing
    x and y.

    References
    ----------
    Z. Zhou, V. Sodha, J. Pang, M. B. Gotway and J. Liang, "Models Genesis",
    Medical Image Analysis 67, 101840, 2021. DOI: 10.1016/j.media.2020.101840
    """

    kind = "intensity"

    def __init__(self, monotone: bool = True) -> None:
        self.monotone = bool(monotone)

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> CurveParameters:
        inner = rng.uniform(0.0, 1.0, size=(2, 2))
        if self.monotone:
            inner = np.sort(inner, axis=0)
        points = np.vstack([[0.0, 0.0], inner, [1.0, 1.0]])
        t = np.linspace(0.0, 1.0, _CURVE_SAMPLES)[:, None]
        weights = np.hstack([(1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t**2 * (1 - t), t**3])
        curve = weights @ points
        x = np.maximum.accumulate(curve[:, 0])
        keep = np.concatenate([[True], np.diff(x) > 1e-9])
        x, y = x[keep], curve[keep, 1]
        x[0], x[-1] = 0.0, 1.0
        return CurveParameters(tuple(x.tolist()), tuple(y.tolist()))

    def deterministic(self, parameters: CurveParameters) -> IntensityCurve:
        return IntensityCurve(parameters.knots_in, parameters.knots_out)
