"""Random ellipse (ellipsoid) phantoms for reconstruction benchmarks."""

from __future__ import annotations

import math

import numpy as np

from medaug.phantoms.generators.common import check_generator, check_range
from medaug.phantoms.phantom import Phantom
from medaug.phantoms.primitives import ellipse, ellipsoid, euler_zxz_matrix

__all__ = ["random_ellipses"]


def random_ellipses(
    rng: np.random.Generator,
    *,
    ndim: int = 2,
    count: int | tuple[int, int] = (5, 15),
    radius_mm: float = 100.0,
    value_range: tuple[float, float] = (-0.5, 1.0),
    axis_range: tuple[float, float] = (0.05, 0.5),
) -> Phantom:
    """Draw an additive phantom of random ellipses (2D) or ellipsoids (3D).

    Centres are uniform in the disk (ball) of radius ``0.6 radius_mm``,
    semi-axes uniform in ``axis_range * radius_mm``, orientations uniform,
    values uniform in ``value_range``. The first shape is a large support
    (semi-axes 0.8 to 0.95 of ``radius_mm``, value 1) so that the object
    has a body, as in the Shepp-Logan phantom.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness; the same seed gives the same phantom.
    ndim : {2, 3}
    count : int or (int, int), default (5, 15)
        Number of inner shapes, or an inclusive range to draw it from.
    radius_mm : float, default 100
        Size of the object in mm; rasterise with ``fov_mm >= 2 * radius_mm``.
    value_range : (float, float)
        Range of the inner shapes' values.
    axis_range : (float, float)
        Range of inner semi-axes as fractions of ``radius_mm``.

    Returns
    -------
    Phantom
        Mode ``"add"``, no tissue classes.

    Examples
    --------
    >>> phantom = random_ellipses(np.random.default_rng(0), count=3)
    >>> len(phantom.primitives)
    4
    """
    rng = check_generator(rng)
    if ndim not in (2, 3):
        raise ValueError(f"`ndim` must be 2 or 3, got {ndim!r}")
    if not (isinstance(radius_mm, (int, float)) and math.isfinite(radius_mm) and radius_mm > 0):
        raise ValueError(f"`radius_mm` must be > 0, got {radius_mm!r}")
    if isinstance(count, (int, np.integer)):
        low = high = int(count)
    else:
        low, high = (int(c) for c in count)
    if low < 0 or high < low:
        raise ValueError(f"`count` must be >= 0 (or a range 0 <= min <= max), got {count!r}")
    value_low, value_high = check_range(value_range, "value_range", low=-math.inf)
    axis_low, axis_high = check_range(axis_range, "axis_range")

    support_axes = rng.uniform(0.8, 0.95, size=ndim) * radius_mm
    if ndim == 2:
        shapes = [ellipse((0.0, 0.0), support_axes, rng.uniform(0.0, 180.0), value=1.0)]
    else:
        shapes = [ellipsoid((0.0,) * 3, support_axes, _random_rotation(rng), value=1.0)]

    number = int(rng.integers(low, high + 1))
    for _ in range(number):
        direction = rng.normal(size=ndim)
        direction /= np.linalg.norm(direction)
        center = direction * 0.6 * radius_mm * rng.uniform() ** (1.0 / ndim)
        axes = rng.uniform(axis_low, axis_high, size=ndim) * radius_mm
        value = rng.uniform(value_low, value_high)
        if ndim == 2:
            shapes.append(ellipse(center, axes, rng.uniform(0.0, 180.0), value=value))
        else:
            shapes.append(ellipsoid(center, axes, _random_rotation(rng), value=value))
    return Phantom(shapes, mode="add", name="random_ellipses")


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    """Return a rotation drawn uniformly (Haar measure) through z-x-z Euler angles."""
    phi, psi = rng.uniform(0.0, 360.0, size=2)
    theta = math.degrees(math.acos(rng.uniform(-1.0, 1.0)))
    return euler_zxz_matrix(phi, theta, psi).T
