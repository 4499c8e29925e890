"""Checks shared by the random generators."""

from __future__ import annotations

import numpy as np

__all__ = ["check_generator", "check_range"]


def check_generator(rng: object) -> np.random.Generator:
    """Return ``rng`` if it is a numpy Generator, else raise TypeError."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"`rng` must be a numpy.random.Generator (numpy.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    return rng


def check_range(value: object, name: str, *, low: float = 0.0, strict: bool = True) -> tuple[float, float]:
    """Validate a ``(min, max)`` pair with ``low < min <= max`` (``<=`` when not strict)."""
    try:
        first, second = (float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError) as error:
        raise TypeError(f"`{name}` must be a (min, max) pair of numbers, got {value!r}") from error
    bad_low = first <= low if strict else first < low
    if not (np.isfinite(first) and np.isfinite(second)) or bad_low or second < first:
        relation = "<" if strict else "<="
        raise ValueError(f"`{name}` must be a (min, max) pair with {low:g} {relation} min <= max, got {value!r}")
    return first, second
