"""Noise transforms: every noise model of :mod:`medaug.physics.noise` as a pipeline step.

:class:`AddNoise` applies one noise model object (``GaussianNoise``,
``RicianNoise``, ``PoissonNoise``, ``PoissonGaussianNoise``,
``SpeckleNoise`` or ``SaltAndPepperNoise``) with a seed. The random
transforms (:class:`RandomGaussianNoise`, :class:`RandomRicianNoise`,
:class:`RandomPoissonNoise`, :class:`RandomPoissonGaussianNoise`,
:class:`RandomSpeckleNoise`, :class:`RandomSaltAndPepperNoise`) draw the
model's strength and a 63-bit seed, and their records are the
:class:`AddNoise` twin, so a record replays exactly.

The noise comes from a ``torch.Generator`` on the image's device. Each Image
field of a sample gets its own stream (derived from the seed and the field's
position among the Image fields), so two images never share a noise pattern.
Replays are exact on the same device type; CPU and CUDA generators produce
different streams. Integer images are promoted with
:func:`~medaug.transforms.base.promote_intensity` first, like every
intensity transform.

Examples
--------
>>> import numpy as np
>>> noisy = RandomGaussianNoise((0.1, 0.1))(np.zeros((64, 64), np.float32), rng=0)
>>> round(float(noisy.std()), 1)
0.1
>>> from medaug.physics.noise import PoissonNoise
>>> AddNoise(PoissonNoise(50.0), seed=1).get_config()["model"]
{'name': 'PoissonNoise', 'config': {'counts_per_unit': 50.0}}
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from medaug.core.fields import Image
from medaug.core.sample import Sample
from medaug.core.seeding import spawn_seed
from medaug.physics.noise import (
    GaussianNoise,
    PoissonGaussianNoise,
    PoissonNoise,
    RicianNoise,
    SaltAndPepperNoise,
    SpeckleNoise,
)
from medaug.transforms.base import IntensityTransform, RandomTransform, promote_intensity, to_plain
from medaug.transforms.validation import check_range

__all__ = [
    "AddNoise",
    "NoiseModel",
    "NoiseParameters",
    "RandomGaussianNoise",
    "RandomPoissonGaussianNoise",
    "RandomPoissonNoise",
    "RandomRicianNoise",
    "RandomSaltAndPepperNoise",
    "RandomSpeckleNoise",
]

NoiseModel = GaussianNoise | RicianNoise | PoissonNoise | PoissonGaussianNoise | SpeckleNoise | SaltAndPepperNoise

# Models that AddNoise can write to a config and build again, by class name.
_MODELS: dict[str, type] = {
    cls.__name__: cls
    for cls in (GaussianNoise, RicianNoise, PoissonNoise, PoissonGaussianNoise, SpeckleNoise, SaltAndPepperNoise)
}


@dataclasses.dataclass(frozen=True)
class NoiseParameters:
    """The noise model to apply (its strength fixed) and the seed of its streams."""

    model: NoiseModel
    seed: int


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be an int >= 0, got {seed!r}")
    return int(seed)


def _model_config(model: NoiseModel) -> dict[str, Any]:
    fields = {field.name: to_plain(getattr(model, field.name)) for field in dataclasses.fields(model)}
    return {"name": type(model).__name__, "config": fields}


def _build_model(value: Any) -> NoiseModel:
    """Return a noise model from a model object or ``{"name": ..., "config": {...}}``."""
    if isinstance(value, tuple(_MODELS.values())):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(
            f"`model` must be a noise model of medaug.physics.noise ({', '.join(_MODELS)}) "
            f"or a mapping with 'name' and 'config', got {type(value).__name__}"
        )
    name = value.get("name")
    if name not in _MODELS:
        raise ValueError(f"`model` name must be one of {list(_MODELS)}, got {name!r}")
    unknown = set(value) - {"name", "config"}
    if unknown:
        raise ValueError(f"`model` mapping has only 'name' and 'config', got extra keys {sorted(unknown)}")
    cls = _MODELS[name]
    config = dict(value.get("config") or {})
    allowed = [field.name for field in dataclasses.fields(cls)]
    extra = sorted(set(config) - set(allowed))
    if extra:
        raise ValueError(f"`model` config of {name} has unknown keys {extra}; expected some of {allowed}")
    return cls(**config)


def _field_generator(seed: int, position: int, device: torch.device) -> torch.Generator:
    """Return the generator of the Image field at ``position`` (0, 1, ...) for ``seed``."""
    stream = np.random.SeedSequence(seed, spawn_key=(position,))
    generator = torch.Generator(device=device)
    generator.manual_seed(int(stream.generate_state(1, np.uint64)[0] >> np.uint64(1)))
    return generator


class AddNoise(IntensityTransform):
    """Apply a noise model of :mod:`medaug.physics.noise` to every Image field.

    Parameters
    ----------
    model : noise model or mapping
        A model object such as ``GaussianNoise(0.05)``, or its config
        ``{"name": "GaussianNoise", "config": {"sigma": 0.05}}`` as
        :meth:`get_config` writes it. A model at zero strength is the
        identity.
    seed : int
        Seed (>= 0) of the noise streams.

    Examples
    --------
    >>> import numpy as np
    >>> from medaug.physics.noise import SaltAndPepperNoise
    >>> image = np.linspace(0, 1, 100, dtype=np.float32).reshape(1, 10, 10)
    >>> out = AddNoise(SaltAndPepperNoise(0.1), seed=3)(image)
    >>> int((out != image).sum())
    10
    """

    def __init__(self, model: NoiseModel | Mapping[str, Any], seed: int = 0) -> None:
        self.model = _build_model(model)
        self.seed = _check_seed(seed)

    def get_config(self) -> dict[str, Any]:
        return {"model": _model_config(self.model), "seed": self.seed}

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> NoiseParameters:
        return NoiseParameters(self.model, self.seed)

    def apply(self, sample: Sample, parameters: NoiseParameters) -> Sample:
        changed = {}
        images = [(name, field) for name, field in sample.items() if isinstance(field, Image)]
        for position, (name, field) in enumerate(images):
            data = promote_intensity(field.data)
            generator = _field_generator(parameters.seed, position, data.device)
            changed[name] = field.replace(data=parameters.model(data, generator=generator))
        return sample.replace(changed)


class _RandomNoise(RandomTransform):
    """Base of the random noise transforms: a model from :meth:`draw_model`, then a seed, applied by AddNoise."""

    kind = "intensity"

    def draw_model(self, rng: np.random.Generator) -> NoiseModel:
        """Return a noise model whose strength is drawn from ``rng``."""
        raise NotImplementedError(f"{type(self).__name__} must implement draw_model")

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> NoiseParameters:
        model = self.draw_model(rng)
        return NoiseParameters(model, spawn_seed(rng))

    def deterministic(self, parameters: NoiseParameters) -> AddNoise:
        return AddNoise(parameters.model, parameters.seed)


def _check_counts_range(value: Any) -> tuple[float, float]:
    low, high = check_range(value, "counts_range", minimum=0.0)
    if low <= 0:
        raise ValueError(f"`counts_range` must be > 0 at both ends, got ({low:g}, {high:g})")
    return low, high


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


class RandomGaussianNoise(_RandomNoise):
    """Additive Gaussian noise with its standard deviation drawn uniformly from ``std_range``.

    Parameters
    ----------
    std_range : (low, high) or float
        Range of ``GaussianNoise.sigma``, in the image's intensity unit (>= 0).
    """

    def __init__(self, std_range: Any = (0.0, 0.1)) -> None:
        self.std_range = check_range(std_range, "std_range", minimum=0.0)

    def draw_model(self, rng: np.random.Generator) -> GaussianNoise:
        return GaussianNoise(float(rng.uniform(*self.std_range)))


class RandomRicianNoise(_RandomNoise):
    """Rician (magnitude) noise with its standard deviation drawn uniformly from ``std_range``.

    Parameters
    ----------
    std_range : (low, high) or float
        Range of ``RicianNoise.sigma``, the standard deviation of each of the
        real and imaginary noise parts, in the image's intensity unit (>= 0).
    """

    def __init__(self, std_range: Any = (0.0, 0.1)) -> None:
        self.std_range = check_range(std_range, "std_range", minimum=0.0)

    def draw_model(self, rng: np.random.Generator) -> RicianNoise:
        return RicianNoise(float(rng.uniform(*self.std_range)))


class RandomPoissonNoise(_RandomNoise):
    """Photon (shot) noise with the counts per unit intensity drawn log-uniformly.

    Images must be >= 0 (expected intensities); the model raises otherwise.

    Parameters
    ----------
    counts_range : (low, high) or float
        Range (> 0) of ``PoissonNoise.counts_per_unit``, the expected photon
        count per unit of image intensity. Drawn uniformly in its logarithm,
        because doses span orders of magnitude; fewer counts is more noise.
    """

    def __init__(self, counts_range: Any = (10.0, 1000.0)) -> None:
        self.counts_range = _check_counts_range(counts_range)

    def draw_model(self, rng: np.random.Generator) -> PoissonNoise:
        return PoissonNoise(_log_uniform(rng, *self.counts_range))


class RandomPoissonGaussianNoise(_RandomNoise):
    """Shot plus read noise: counts drawn log-uniformly, read-noise std uniformly.

    Images must be >= 0 (expected intensities); the model raises otherwise.

    Parameters
    ----------
    counts_range : (low, high) or float
        Range (> 0) of ``PoissonGaussianNoise.counts_per_unit``, drawn
        uniformly in its logarithm (see :class:`RandomPoissonNoise`).
    std_range : (low, high) or float
        Range of the Gaussian read noise ``sigma``, in the image's unit (>= 0).
    """

    def __init__(self, counts_range: Any = (10.0, 1000.0), std_range: Any = (0.0, 0.05)) -> None:
        self.counts_range = _check_counts_range(counts_range)
        self.std_range = check_range(std_range, "std_range", minimum=0.0)

    def draw_model(self, rng: np.random.Generator) -> PoissonGaussianNoise:
        counts = _log_uniform(rng, *self.counts_range)
        return PoissonGaussianNoise(counts, float(rng.uniform(*self.std_range)))


class RandomSpeckleNoise(_RandomNoise):
    """Multiplicative speckle with the multiplier's std drawn uniformly from ``std_range``.

    Parameters
    ----------
    std_range : (low, high) or float
        Range of ``SpeckleNoise.sigma``, the standard deviation of the
        multiplier (mean 1; dimensionless, >= 0).
    distribution : {"gamma", "gaussian"}, keyword-only
        Law of the multiplier, see :class:`medaug.physics.noise.SpeckleNoise`.
    """

    def __init__(self, std_range: Any = (0.0, 0.3), *, distribution: str = "gamma") -> None:
        self.std_range = check_range(std_range, "std_range", minimum=0.0)
        self.distribution = SpeckleNoise(0.0, distribution=distribution).distribution

    def draw_model(self, rng: np.random.Generator) -> SpeckleNoise:
        return SpeckleNoise(float(rng.uniform(*self.std_range)), distribution=self.distribution)


class RandomSaltAndPepperNoise(_RandomNoise):
    """Impulse noise with the changed fraction drawn uniformly from ``amount_range``.

    Parameters
    ----------
    amount_range : (low, high) or float
        Range of the fraction of voxels changed, within [0, 1].
    salt_fraction : float, keyword-only
        Probability in [0, 1] that a changed voxel becomes ``high``.
    low, high : float, optional, keyword-only
        Pepper and salt values in image units; default each image's minimum
        and maximum.
    """

    def __init__(
        self,
        amount_range: Any = (0.0, 0.01),
        *,
        salt_fraction: float = 0.5,
        low: float | None = None,
        high: float | None = None,
    ) -> None:
        self.amount_range = check_range(amount_range, "amount_range", minimum=0.0, maximum=1.0)
        template = SaltAndPepperNoise(0.0, salt_fraction, low, high)
        self.salt_fraction = template.salt_fraction
        self.low = template.low
        self.high = template.high

    def draw_model(self, rng: np.random.Generator) -> SaltAndPepperNoise:
        amount = float(rng.uniform(*self.amount_range))
        return SaltAndPepperNoise(amount, self.salt_fraction, self.low, self.high)
