"""Argument checks shared by every transform, so errors read alike.

Each helper raises :class:`ValueError` for a bad value and :class:`TypeError`
for a bad type, with a message that names the argument, shows the value and
states what is expected, for example "`fwhm_mm` must be >= 0, got -1.0".
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

__all__ = [
    "check_choice",
    "check_nonnegative",
    "check_positive",
    "check_probability",
    "check_range",
    "check_vector",
]


def _check_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number, got {type(value).__name__} {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"`{name}` must be finite, got {value!r}")
    return number


def check_probability(value: Any, name: str = "p") -> float:
    """Return ``value`` as a float after checking that it lies in [0, 1].

    Examples
    --------
    >>> check_probability(0.5)
    0.5
    """
    number = _check_number(value, name)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"`{name}` must be a probability in [0, 1], got {value!r}")
    return number


def check_nonnegative(value: Any, name: str) -> float:
    """Return ``value`` as a float after checking that it is finite and >= 0."""
    number = _check_number(value, name)
    if number < 0:
        raise ValueError(f"`{name}` must be >= 0, got {value!r}")
    return number


def check_positive(value: Any, name: str) -> float:
    """Return ``value`` as a float after checking that it is finite and > 0."""
    number = _check_number(value, name)
    if number <= 0:
        raise ValueError(f"`{name}` must be > 0, got {value!r}")
    return number


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` after checking that it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {list(choices)}, got {value!r}")
    return str(value)


def check_range(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    symmetric: bool = False,
) -> tuple[float, float]:
    """Parse a ``(low, high)`` range, or a single number, into a pair of floats.

    Parameters
    ----------
    value : float or (float, float)
        ``(low, high)`` with ``low <= high``. A single number ``x`` means
        ``(-x, x)`` when ``symmetric`` is True and ``(x, x)`` otherwise.
    name : str
        Argument name used in error messages.
    minimum, maximum : float, optional
        Inclusive bounds that both ends must respect.
    symmetric : bool
        How a single number is read (see ``value``).

    Raises
    ------
    ValueError
        If the range is reversed, not finite or outside the bounds.
    TypeError
        If it is not a number or a pair of numbers.

    Examples
    --------
    >>> check_range(15, "rotation_range_deg", symmetric=True)
    (-15.0, 15.0)
    >>> check_range((0.9, 1.1), "scale_range", minimum=0.0)
    (0.9, 1.1)
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = _check_number(value, name)
        if symmetric and number < 0:
            raise ValueError(f"`{name}` given as one number must be >= 0, got {value!r}")
        low, high = (-number, number) if symmetric else (number, number)
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        low = _check_number(value[0], f"{name}[0]")
        high = _check_number(value[1], f"{name}[1]")
    else:
        raise TypeError(f"`{name}` must be a number or a (low, high) pair, got {value!r}")
    if low > high:
        raise ValueError(
            f"`{name}` must be (low, high) with low <= high, got ({low:g}, {high:g}); "
            "swap the two values"
        )
    if minimum is not None and low < minimum:
        raise ValueError(f"`{name}` must lie within [{minimum:g}, ...], got ({low:g}, {high:g})")
    if maximum is not None and high > maximum:
        raise ValueError(f"`{name}` must lie within [..., {maximum:g}], got ({low:g}, {high:g})")
    return low, high


def check_vector(value: Any, name: str, length: int) -> tuple[float, ...]:
    """Broadcast a number or sequence to ``length`` finite floats.

    Examples
    --------
    >>> check_vector(2, "spacing_mm", 3)
    (2.0, 2.0, 2.0)
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return (_check_number(value, name),) * length
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != length:
            raise ValueError(f"`{name}` must have {length} values, got {len(value)}: {value!r}")
        return tuple(_check_number(v, f"{name}[{i}]") for i, v in enumerate(value))
    raise TypeError(f"`{name}` must be a number or a sequence of {length} numbers, got {value!r}")
