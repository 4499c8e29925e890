"""Noise models of imaging detectors, as objects applied with an explicit generator.

Each model is a frozen dataclass whose ``__call__(x, *, generator)`` returns
a noisy copy of ``x`` (a numpy array or a torch tensor, any shape; numpy in
gives numpy out). ``generator`` is a ``numpy.random.Generator`` or a
``torch.Generator`` on the tensor's device; nothing draws from global state.
``apply_noise(data, generator)`` is the same noise on a floating-point tensor
without the checks below, for code that has already validated its input.

Rules shared by all models:

* zero strength is the exact identity: the input is returned unchanged,
  whatever its sign or dtype;
* integer and bool inputs are promoted to floating point before noise is
  added (int8/int16/uint8/bool to float32, wider integers to float64), so
  nothing wraps; :class:`SaltAndPepperNoise` only writes values taken from
  the input and keeps the dtype;
* nothing is clipped: Gaussian noise can make a positive image negative.

References
----------
Foi A. et al., "Practical Poissonian-Gaussian noise modeling and fitting for
single-image raw-data", IEEE Transactions on Image Processing 17(10),
1737-1754, 2008. DOI: 10.1109/TIP.2008.2001399

Gudbjartsson H., Patz S., "The Rician distribution of noisy MRI data",
Magnetic Resonance in Medicine 34(6), 910-914, 1995.
DOI: 10.1002/mrm.1910340618

Goodman J. W., "Some fundamental properties of speckle", Journal of the
Optical Society of America 66(11), 1145-1150, 1976.
DOI: 10.1364/JOSA.66.001145
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np
import torch

from medaug.core.fields import as_tensor

__all__ = [
    "GaussianNoise",
    "RicianNoise",
    "PoissonNoise",
    "PoissonGaussianNoise",
    "SpeckleNoise",
    "SaltAndPepperNoise",
    "promote_to_float",
]

Generator = np.random.Generator | torch.Generator


def promote_to_float(x: torch.Tensor) -> torch.Tensor:
    """Return ``x`` as floating point without losing integer range.

    Examples
    --------
    >>> promote_to_float(torch.tensor([1], dtype=torch.int16)).dtype
    torch.float32
    """
    if x.is_floating_point() or x.is_complex():
        return x
    if x.dtype in (torch.bool, torch.uint8, torch.int8, torch.int16):
        return x.to(torch.float32)
    return x.to(torch.float64)


def _prepare(x: Any) -> tuple[torch.Tensor, bool]:
    was_numpy = isinstance(x, np.ndarray)
    tensor = as_tensor(x, "x")
    if tensor.is_complex():
        raise TypeError(f"`x` must be real, got {tensor.dtype}")
    # Integers are always finite; checking floats in their own dtype avoids a copy.
    if tensor.is_floating_point() and tensor.numel() and not bool(torch.isfinite(tensor).all()):
        raise ValueError("`x` contains NaN or inf; replace non-finite values first")
    return tensor, was_numpy


def _finish(result: torch.Tensor, was_numpy: bool) -> Any:
    return result.detach().cpu().numpy() if was_numpy else result


def _check_generator(generator: Any) -> None:
    if not isinstance(generator, (np.random.Generator, torch.Generator)):
        raise TypeError(
            "`generator` must be a numpy.random.Generator or torch.Generator, "
            f"got {type(generator).__name__}"
        )


def _normal(like: torch.Tensor, generator: Generator) -> torch.Tensor:
    if isinstance(generator, torch.Generator):
        return torch.randn(like.shape, generator=generator, dtype=like.dtype, device=like.device)
    return torch.from_numpy(generator.standard_normal(tuple(like.shape))).to(like)


def _poisson(rate: torch.Tensor, generator: Generator) -> torch.Tensor:
    if isinstance(generator, torch.Generator):
        return torch.poisson(rate, generator=generator)
    draws = generator.poisson(rate.detach().cpu().to(torch.float64).numpy())
    return torch.from_numpy(draws.astype(np.float64)).to(rate)


def _check_nonnegative(value: float, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 or math.isnan(value):
        raise ValueError(f"`{name}` must be >= 0, got {value!r}")


class _NoiseModel:
    """Shared call of the models: check, return ``x`` at zero strength, promote, add noise."""

    #: True for models that only write values taken from the input (no promotion).
    keeps_dtype: ClassVar[bool] = False

    def is_identity(self, data: torch.Tensor) -> bool:
        """Return True when this model leaves ``data`` unchanged (zero strength)."""
        raise NotImplementedError(f"{type(self).__name__} must implement is_identity")

    def apply_noise(self, data: torch.Tensor, generator: Generator) -> torch.Tensor:
        """Return a noisy copy of ``data`` (floating point unless ``keeps_dtype``), unchecked."""
        raise NotImplementedError(f"{type(self).__name__} must implement apply_noise")

    def __call__(self, x: Any, *, generator: Generator) -> Any:
        """Return a noisy copy of ``x``, or ``x`` itself at zero strength."""
        _check_generator(generator)
        tensor, was_numpy = _prepare(x)
        if self.is_identity(tensor):
            return x
        data = tensor if self.keeps_dtype else promote_to_float(tensor)
        return _finish(self.apply_noise(data, generator), was_numpy)


@dataclasses.dataclass(frozen=True)
class GaussianNoise(_NoiseModel):
    """Additive white Gaussian noise ``x + mean + sigma * n``, ``n ~ N(0, 1)``.

    Parameters
    ----------
    sigma : float
        Standard deviation, in the image's unit.
    mean : float, default 0.0
        Offset, in the image's unit.

    Examples
    --------
    >>> x = np.zeros(3)
    >>> GaussianNoise(0.0)(x, generator=np.random.default_rng(0)) is x
    True
    """

    sigma: float
    mean: float = 0.0

    def __post_init__(self) -> None:
        _check_nonnegative(self.sigma, "sigma")
        if not math.isfinite(self.mean):
            raise ValueError(f"`mean` must be finite, got {self.mean!r}")

    def is_identity(self, data: torch.Tensor) -> bool:
        return self.sigma == 0 and self.mean == 0

    def apply_noise(self, data: torch.Tensor, generator: Generator) -> torch.Tensor:
        return data + self.mean + self.sigma * _normal(data, generator)


@dataclasses.dataclass(frozen=True)
class RicianNoise(_NoiseModel):
    """Magnitude noise ``|x + sigma (n1 + i n2)|``, ``n1, n2 ~ N(0, 1)`` independent.

    This is the noise of a magnitude MR image reconstructed from one coil:
    a zero signal becomes Rayleigh distributed with mean
    ``sigma sqrt(pi / 2)`` (Gudbjartsson and Patz 1995). With ``sigma > 0``
    the output is >= 0 for any input, so a negative ``x`` comes back as a
    magnitude; ``sigma = 0`` returns the input unchanged, like every model.

    Parameters
    ----------
    sigma : float
        Standard deviation of each of the real and imaginary noise parts,
        in the image's unit.

    Examples
    --------
    >>> y = RicianNoise(1.0)(np.zeros(4), generator=np.random.default_rng(0))
    >>> bool((y >= 0).all())
    True
    """

    sigma: float

    def __post_init__(self) -> None:
        _check_nonnegative(self.sigma, "sigma")

    def is_identity(self, data: torch.Tensor) -> bool:
        return self.sigma == 0

    def apply_noise(self, data: torch.Tensor, generator: Generator) -> torch.Tensor:
        real = _normal(data, generator)
        imaginary = _normal(data, generator)
        return torch.sqrt((data + self.sigma * real) ** 2 + (self.sigma * imaginary) ** 2)


@dataclasses.dataclass(frozen=True)
class PoissonNoise(_NoiseModel):
    """Photon (shot) noise: ``Poisson(x * counts_per_unit) / counts_per_unit``.

    ``x`` must be >= 0 (an expected intensity). ``counts_per_unit = inf``
    is the noiseless limit and returns the input unchanged; the
    signal-to-noise ratio at intensity ``x`` is ``sqrt(x * counts_per_unit)``.
    """

    counts_per_unit: float

    def __post_init__(self) -> None:
        if not (isinstance(self.counts_per_unit, (int, float)) and self.counts_per_unit > 0):
            raise ValueError(f"`counts_per_unit` must be > 0 (inf for no noise), got {self.counts_per_unit!r}")

    def is_identity(self, data: torch.Tensor) -> bool:
        return math.isinf(self.counts_per_unit)

    def apply_noise(self, data: torch.Tensor, generator: Generator) -> torch.Tensor:
        if data.numel() and bool((data < 0).any()):
            raise ValueError(f"`x` must be >= 0 for Poisson noise, got minimum {float(data.min())}")
        return _poisson(data * self.counts_per_unit, generator) / self.counts_per_unit


@dataclasses.dataclass(frozen=True)
class PoissonGaussianNoise(_NoiseModel):
    """Poisson shot noise plus Gaussian read noise, the usual model of raw detector data.

    ``y = Poisson(x * counts_per_unit) / counts_per_unit + sigma * n``. With
    ``counts_per_unit = inf`` and ``sigma = 0`` the input is returned unchanged.
    """

    counts_per_unit: float
    sigma: float

    def __post_init__(self) -> None:
        PoissonNoise(self.counts_per_unit)
        _check_nonnegative(self.sigma, "sigma")

    def is_identity(self, data: torch.Tensor) -> bool:
        return math.isinf(self.counts_per_unit) and self.sigma == 0

    def apply_noise(self, data: torch.Tensor, generator: Generator) -> torch.Tensor:
        # Shot noise is drawn before read noise; each part is skipped at its zero strength.
        for model in (PoissonNoise(self.counts_per_unit), GaussianNoise(self.sigma)):
            if not model.is_identity(data):
                data = model.apply_noise(data, generator)
        return data


@dataclasses.dataclass(frozen=True)
class SpeckleNoise(_NoiseModel):
    """Multiplicative speckle ``x * m`` with ``E[m] = 1`` and ``std(m) = sigma``.

    ``distribution="gamma"`` draws ``m`` from a gamma law of shape
    ``1 / sigma^2`` (the intensity of ``1 / sigma^2`` averaged looks of fully
    developed speckle, Goodman 1976; ``sigma = 1`` is single-look
    exponential speckle of ultrasound envelope intensity).
    ``distribution="gaussian"`` uses ``m = 1 + sigma * n``.
    """

    sigma: float
    distribution: str = "gamma"

    def __post_init__(self) -> None:
        _check_nonnegative(self.sigma, "sigma")
        if self.distribution not in ("gamma", "gaussian"):
            raise ValueError(f"`distribution` must be 'gamma' or 'gaussian', got {self.distribution!r}")

    def is_identity(self, data: torch.Tensor) -> bool:
        return self.sigma == 0

    def apply_noise(self, data: torch.Tensor, generator: Generator) -> torch.Tensor:
        if self.distribution == "gaussian":
            multiplier = 1 + self.sigma * _normal(data, generator)
        else:
            shape = 1.0 / self.sigma**2
            if isinstance(generator, torch.Generator):
                concentration = torch.full(data.shape, shape, dtype=data.dtype, device=data.device)
                multiplier = torch._standard_gamma(concentration, generator=generator) / shape
            else:
                draws = generator.gamma(shape, 1.0 / shape, size=tuple(data.shape))
                multiplier = torch.from_numpy(draws).to(data)
        return data * multiplier


@dataclasses.dataclass(frozen=True)
class SaltAndPepperNoise(_NoiseModel):
    """Impulse noise that sets exactly ``round(amount * N)`` of ``N`` elements to ``low`` or ``high``.

    Parameters
    ----------
    amount : float
        Fraction of elements to change, in [0, 1].
    salt_fraction : float, default 0.5
        Probability that a changed element becomes ``high`` (salt).
    low, high : float, optional
        Pepper and salt values; default the input's minimum and maximum.

    Notes
    -----
    An element already equal to its drawn value gets the other one, so
    exactly ``round(amount * N)`` elements change; ``low == high`` then
    raises because no element could change.

    Examples
    --------
    >>> x = np.linspace(0, 1, 100)
    >>> y = SaltAndPepperNoise(0.1)(x, generator=np.random.default_rng(0))
    >>> int((y != x).sum())
    10
    """

    amount: float
    salt_fraction: float = 0.5
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        for name in ("amount", "salt_fraction"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value <= 1):
                raise ValueError(f"`{name}` must be in [0, 1], got {value!r}")
        for name in ("low", "high"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"`{name}` must be a number or None, got {type(value).__name__} {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"`{name}` must be finite, got {value!r}")

    keeps_dtype: ClassVar[bool] = True

    def is_identity(self, data: torch.Tensor) -> bool:
        return round(self.amount * data.numel()) == 0

    def apply_noise(self, data: torch.Tensor, generator: Generator) -> torch.Tensor:
        count = round(self.amount * data.numel())
        low = float(data.min()) if self.low is None else float(self.low)
        high = float(data.max()) if self.high is None else float(self.high)
        if low == high:
            raise ValueError(f"`low` and `high` are both {low}: no element could change; pass distinct values")

        if isinstance(generator, torch.Generator):
            order = torch.randperm(data.numel(), generator=generator, device=generator.device)[:count]
            salt = torch.rand(count, generator=generator, device=generator.device) < self.salt_fraction
        else:
            order = torch.from_numpy(generator.permutation(data.numel())[:count])
            salt = torch.from_numpy(generator.random(count) < self.salt_fraction)
        order, salt = order.to(data.device), salt.to(data.device)
        flat = data.reshape(-1).clone()
        current = flat[order]
        value = torch.where(salt, high, low).to(flat.dtype)
        other = torch.where(salt, low, high).to(flat.dtype)
        if not bool((value.to(torch.float64) == torch.where(salt, high, low)).all()):
            raise ValueError(f"`low` {low} or `high` {high} is not representable in {data.dtype}")
        flat[order] = torch.where(current == value, other, value)
        return flat.reshape(data.shape)
