"""Per-sample random generators that do not depend on workers or machines.

Sample ``i`` of a dataset with seed ``s`` draws from
``numpy.random.SeedSequence(s, spawn_key=(i,))``; at training time, epoch
``e`` uses ``spawn_key=(e, i)``. The stream is therefore the same whichever
DataLoader worker, process, DistributedSampler rank or machine computes the
sample, and two samples never share a stream.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = ["seed_sequence", "sample_rng", "torch_generator", "as_rng", "spawn_seed"]

# Spawn keys of training epochs are offset so that an epoch's stream can never
# equal a benchmark sample's stream (spawn_key=(i,)) for any i.
_EPOCH_TAG = 0x45504F43  # "EPOC"


def _check_nonnegative_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an int, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"`{name}` must be >= 0, got {value}")
    return int(value)


def seed_sequence(seed: int, index: int, epoch: int | None = None) -> np.random.SeedSequence:
    """Return the seed sequence of sample ``index`` (and ``epoch`` for training).

    Examples
    --------
    >>> seed_sequence(7, 3).spawn_key
    (3,)
    """
    seed = _check_nonnegative_int(seed, "seed")
    index = _check_nonnegative_int(index, "index")
    if epoch is None:
        return np.random.SeedSequence(seed, spawn_key=(index,))
    epoch = _check_nonnegative_int(epoch, "epoch")
    return np.random.SeedSequence(seed, spawn_key=(_EPOCH_TAG, epoch, index))


def sample_rng(seed: int, index: int, epoch: int | None = None) -> np.random.Generator:
    """Return a numpy Generator for sample ``index`` of a set seeded with ``seed``.

    Examples
    --------
    >>> a = sample_rng(0, 5).integers(1 << 30)
    >>> b = sample_rng(0, 5).integers(1 << 30)
    >>> bool(a == b), bool(sample_rng(0, 6).integers(1 << 30) == a)
    (True, False)
    """
    return np.random.default_rng(seed_sequence(seed, index, epoch))


def spawn_seed(rng: np.random.Generator) -> int:
    """Draw a 63-bit integer seed from ``rng`` for a library that wants an int."""
    return int(rng.integers(0, 2**63 - 1))


def torch_generator(rng: np.random.Generator, device: str | torch.device = "cpu") -> torch.Generator:
    """Return a ``torch.Generator`` on ``device`` seeded from ``rng`` (consumes one draw)."""
    import torch

    generator = torch.Generator(device=device)
    generator.manual_seed(spawn_seed(rng))
    return generator


def as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Turn ``rng`` (Generator or int seed) into a Generator; None is rejected.

    Randomness enters medaug only through an explicit argument, so ``None``
    raises instead of silently falling back to fresh OS entropy.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"`rng` must be a numpy.random.Generator or an int seed, got {type(rng).__name__}; "
        "pass numpy.random.default_rng(seed)"
    )
