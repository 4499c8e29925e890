"""Main-field (B0) off-resonance as a random transform of magnitude images.

:class:`KSpaceOffResonance` re-acquires each channel of an
:class:`~medaug.core.fields.Image` with a smooth off-resonance map that
evolves during the readout, which shifts and blurs the image along the
readout axis (susceptibility distortion, chemical shift), and returns the
magnitude. :class:`RandomKSpaceOffResonance` draws the map's coefficients
from a ``numpy.random.Generator``. KSpace fields are left alone, because
the effect needs the object.

The receive (B1-) bias field needs no k-space model: it multiplies the
image by a smooth positive field, and
:class:`medaug.transforms.RandomBiasField` draws exactly the field of
:func:`~medaug.physics.mri.artifacts.polynomial_bias_field` (the exponential
of Legendre polynomials), so medaug keeps one random bias transform.

Examples
--------
>>> import numpy as np
>>> image = np.ones((32, 32), np.float32)
>>> out = RandomKSpaceOffResonance()(image, rng=0)
>>> out.shape, out.dtype
((32, 32), dtype('float32'))
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import torch

from medaug.core.sample import Sample
from medaug.physics.mri.artifacts import bias_field_terms, polynomial_field, readout_off_resonance
from medaug.physics.mri.fft import ifftnc
from medaug.physics.mri.transforms import _KSpaceTransform
from medaug.transforms.base import RandomTransform
from medaug.transforms.validation import check_range

__all__ = ["KSpaceOffResonance", "RandomKSpaceOffResonance", "OffResonanceParameters"]


def _check_order(order: Any) -> int:
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"`order` must be an int >= 1, got {order!r}")
    return order


def _check_dwell(dwell_time_ms: Any) -> float:
    dwell_time_ms = float(dwell_time_ms)
    if not (math.isfinite(dwell_time_ms) and dwell_time_ms > 0):
        raise ValueError(f"`dwell_time_ms` must be > 0 ms, got {dwell_time_ms}")
    return dwell_time_ms


def _check_readout_axis(readout_axis: Any) -> int:
    if isinstance(readout_axis, bool) or not isinstance(readout_axis, int) or not -3 <= readout_axis <= -1:
        raise ValueError(f"`readout_axis` must be -1, -2 or -3 (a spatial axis), got {readout_axis!r}")
    return readout_axis


class KSpaceOffResonance(_KSpaceTransform):
    """Readout off-resonance from a smooth polynomial field map.

    Parameters
    ----------
    coefficients_hz : sequence of float
        Field map coefficients in Hz, one per term of
        :func:`~medaug.physics.mri.artifacts.bias_field_terms` for the
        image's spatial dimension and ``order`` (the map is
        :func:`~medaug.physics.mri.artifacts.polynomial_field`).
    order : int, default 2
        Maximum total degree of the polynomial terms (>= 1).
    dwell_time_ms : float, default 0.05
        Time between readout samples in ms. A voxel at ``df`` Hz moves by
        ``df * n * dwell_time_ms * 1e-3`` pixels along a readout of ``n``
        samples.
    readout_axis : int, default -1
        Readout axis as a negative index among the spatial axes.
    num_segments : int, default 16
        Time segments of :func:`~medaug.physics.mri.artifacts.readout_off_resonance`.
    """

    acts_on_kspace = False

    def __init__(
        self,
        coefficients_hz: Any,
        *,
        order: int = 2,
        dwell_time_ms: float = 0.05,
        readout_axis: int = -1,
        num_segments: int = 16,
    ) -> None:
        self.coefficients_hz = [float(c) for c in coefficients_hz]
        if not all(math.isfinite(c) for c in self.coefficients_hz):
            raise ValueError(f"`coefficients_hz` must be finite, got {self.coefficients_hz}")
        self.order = _check_order(order)
        self.dwell_time_ms = _check_dwell(dwell_time_ms)
        self.readout_axis = _check_readout_axis(readout_axis)
        self.num_segments = int(num_segments)
        if self.num_segments < 2:
            raise ValueError(f"`num_segments` must be >= 2, got {num_segments}")

    def is_identity(self) -> bool:
        return not any(self.coefficients_hz)

    def corrupt(self, kspace: torch.Tensor, spatial_ndim: int, field: Any, position: int) -> torch.Tensor:
        return self.acquire(ifftnc(kspace, tuple(range(-spatial_ndim, 0))), spatial_ndim, field, position)

    def acquire(self, image: torch.Tensor, spatial_ndim: int, field: Any, position: int) -> torch.Tensor:
        shape = tuple(image.shape[-spatial_ndim:])
        frequency = polynomial_field(
            shape, torch.tensor(self.coefficients_hz), order=self.order,
            dtype=image.real.dtype, device=image.device,
        )
        return readout_off_resonance(
            image, frequency, dwell_time_ms=self.dwell_time_ms, readout_axis=self.readout_axis,
            spatial_ndim=spatial_ndim, num_segments=self.num_segments,
        )


@dataclasses.dataclass(frozen=True)
class OffResonanceParameters:
    """Field map coefficients in Hz."""

    coefficients_hz: tuple[float, ...]


class RandomKSpaceOffResonance(RandomTransform):
    """Readout off-resonance with field map coefficients uniform in ``coefficient_range_hz``.

    Parameters
    ----------
    coefficient_range_hz : float or (float, float), default 150
        Range of each coefficient in Hz; a number ``a`` means ``(-a, a)``.
        Each term is bounded by 1 in magnitude, so ``a`` bounds its
        contribution to the map.
    order, dwell_time_ms, readout_axis, num_segments
        As for :class:`KSpaceOffResonance`. With the defaults, 150 Hz moves a
        voxel by about 1 pixel on a 128-sample readout.
    """

    kind = "intensity"

    def __init__(
        self,
        coefficient_range_hz: Any = 150.0,
        *,
        order: int = 2,
        dwell_time_ms: float = 0.05,
        readout_axis: int = -1,
        num_segments: int = 16,
    ) -> None:
        self.coefficient_range_hz = check_range(coefficient_range_hz, "coefficient_range_hz", symmetric=True)
        self.order = _check_order(order)
        self.dwell_time_ms = _check_dwell(dwell_time_ms)
        self.readout_axis = _check_readout_axis(readout_axis)
        self.num_segments = int(num_segments)

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> OffResonanceParameters:
        count = len(bias_field_terms(sample.reference.spatial_ndim, self.order))
        values = rng.uniform(*self.coefficient_range_hz, size=count)
        return OffResonanceParameters(tuple(float(v) for v in values))

    def deterministic(self, parameters: OffResonanceParameters) -> KSpaceOffResonance:
        return KSpaceOffResonance(
            list(parameters.coefficients_hz), order=self.order, dwell_time_ms=self.dwell_time_ms,
            readout_axis=self.readout_axis, num_segments=self.num_segments,
        )
