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

from medaug.core.fields import GridField

__all__ = [
    "axis_count_error",
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


def axis_count_error(name: str, expected: str, got: int, reference: GridField) -> ValueError:
    """Build the ValueError for a per-axis argument whose length does not fit the image.

    ``expected`` states what fits, for example ``"1 or 2 values"``. When the
    image is 2-D with several channels and the argument has 3 values, the
    message adds the likely cause: a 3-D volume passed as a plain array
    without a channel axis is read as ``(C, H, W)``.

    Examples
    --------
    >>> import numpy as np
    >>> from medaug.core import Image
    >>> error = axis_count_error("shape", "1 or 2 values", 3, Image(np.zeros((181, 217, 181), np.float32)))
    >>> print(error)  # doctest: +NORMALIZE_WHITESPACE
    `shape` must have 1 or 2 values for a 2-D image, got 3. The image is 2-D with 181 channels,
    shape (181, 217, 181): a plain array with 3 axes is read as (C, H, W). If it is a 3-D volume
    (D, H, W), add a channel axis with `array[None]`, or call the transform with `spatial_dims=3`.
    """
    ndim = reference.spatial_ndim
    message = f"`{name}` must have {expected} for a {ndim}-D image, got {got}."
    if ndim == 2 and got == 3 and reference.num_channels > 1 and not reference.is_batched:
        message += (
            f" The image is 2-D with {reference.num_channels} channels, shape {tuple(reference.data.shape)}:"
            " a plain array with 3 axes is read as (C, H, W). If it is a 3-D volume (D, H, W), add a"
            " channel axis with `array[None]`, or call the transform with `spatial_dims=3`."
        )
    return ValueError(message)
