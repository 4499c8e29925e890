"""Additive Gaussian and Rician noise, seeded so that a record replays exactly.

The random transforms draw a standard deviation and a 63-bit seed. The
deterministic twins generate the noise from that seed with a
``torch.Generator`` on the image's device. Each Image field of a sample gets
its own stream (derived from the seed and the field's position), so two
images never share a noise pattern. Replays are exact on the same device
type; CPU and CUDA generators produce different streams.

Examples
--------
>>> import numpy as np
>>> noisy = RandomGaussianNoise((0.1, 0.1))(np.zeros((64, 64), np.float32), rng=0)
>>> round(float(noisy.std()), 1)
0.1
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from medaug.core.fields import Image
from medaug.core.sample import Sample
from medaug.core.seeding import spawn_seed
from medaug.transforms.base import IntensityTransform, RandomTransform, promote_intensity
from medaug.transforms.functional.intensity import add_gaussian_noise, add_rician_noise
from medaug.transforms.validation import check_nonnegative, check_range

__all__ = [
    "GaussianNoise",
    "NoiseParameters",
    "RandomGaussianNoise",
    "RandomRicianNoise",
    "RicianNoise",
]


@dataclass(frozen=True)
class NoiseParameters:
    """Noise standard deviation (image units) and the seed of its stream."""

    std: float
    seed: int


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be an int >= 0, got {seed!r}")
    return int(seed)


class _SeededNoise(IntensityTransform):
    """Noise applied per Image field, each from its own generator."""

    _noise: Callable[[torch.Tensor, float, torch.Generator], torch.Tensor]

    def __init__(self, std: float, seed: int = 0) -> None:
        self.std = check_nonnegative(std, "std")
        self.seed = _check_seed(seed)

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> NoiseParameters:
        return NoiseParameters(self.std, self.seed)

    def apply(self, sample: Sample, parameters: NoiseParameters) -> Sample:
        if parameters.std == 0:
            return sample
        changed = {}
        images = [(name, field) for name, field in sample.items() if isinstance(field, Image)]
        for position, (name, field) in enumerate(images):
            stream = np.random.SeedSequence(parameters.seed, spawn_key=(position,))
            generator = torch.Generator(device=field.data.device)
            generator.manual_seed(int(stream.generate_state(1, np.uint64)[0] >> np.uint64(1)))
            data = type(self)._noise(promote_intensity(field.data), parameters.std, generator)
            changed[name] = field.replace(data=data)
        return sample.replace(changed)


class GaussianNoise(_SeededNoise):
    """Add zero-mean Gaussian noise of standard deviation ``std`` (image units).

    Parameters
    ----------
    std : float
        Standard deviation (>= 0) in the image's intensity units.
    seed : int
        Seed of the noise stream.
    """

    _noise = staticmethod(add_gaussian_noise)


class RicianNoise(_SeededNoise):
    """Replace intensities by the magnitude of themselves plus complex Gaussian noise.

    See :func:`~medaug.transforms.functional.intensity.add_rician_noise`.

    Parameters
    ----------
    std : float
        Standard deviation (>= 0) of each of the real and imaginary noise parts.
    seed : int
        Seed of the noise stream.
    """

    _noise = staticmethod(add_rician_noise)


class _RandomNoise(RandomTransform):
    kind = "intensity"
    _twin: type[_SeededNoise]

    def __init__(self, std_range: Any = (0.0, 0.1)) -> None:
        self.std_range = check_range(std_range, "std_range", minimum=0.0)

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> NoiseParameters:
        return NoiseParameters(float(rng.uniform(*self.std_range)), spawn_seed(rng))

    def deterministic(self, parameters: NoiseParameters) -> _SeededNoise:
        return self._twin(parameters.std, parameters.seed)


class RandomGaussianNoise(_RandomNoise):
    """Gaussian noise with ``std`` drawn uniformly from ``std_range`` (image units)."""

    _twin = GaussianNoise


class RandomRicianNoise(_RandomNoise):
    """Rician noise with ``std`` drawn uniformly from ``std_range`` (image units)."""

    _twin = RicianNoise
