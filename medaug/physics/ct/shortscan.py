"""Fan-beam scan arcs: full scans and short scans with Parker weights.

A fan-beam scan over 360 degrees measures every line twice, once from each
side. A short scan covers 180 degrees plus the fan angle, the least that
measures every line through the covered disc at least once, but lines near
its start and end are measured twice and others once. Parker weights
``w(beta, gamma)`` fade the doubly measured rays in and out so that the
two measurements of each line sum to weight 1.

With ``beta`` the source angle from the first view, ``gamma`` the fan
angle of a ray (positive towards the detector axis ``e``, see
:mod:`medaug.physics.ct.geometry`) and ``delta`` half the excess of the
scan arc over 180 degrees:

    w = sin^2(pi/4 * beta / (delta + gamma))                 0 <= beta <= 2 (delta + gamma)
    w = 1                                                    2 (delta + gamma) <= beta <= pi + 2 gamma
    w = sin^2(pi/4 * (pi + 2 delta - beta) / (delta - gamma))    pi + 2 gamma <= beta <= pi + 2 delta

In this geometry the ray ``(beta, gamma)`` runs along the same line as
``(beta + pi - 2 gamma, -gamma)``, and the weights of that pair sum to 1.
Parker's paper writes the conjugate as ``(beta + pi + 2 gamma, -gamma)``
because its fan angle has the opposite sign; the formula here is his with
``gamma`` negated. With ``delta`` equal to half the fan angle this is the
minimal short scan. A longer arc (still under 360 degrees) uses the same
formula with the larger ``delta``, and the pair still sums to 1 for every
``|gamma| <= delta``.

References
----------
Parker D. L., "Optimal short scan convolution reconstruction for fan beam
CT", Medical Physics 9(2), 254-257, 1982. DOI: 10.1118/1.595078
"""

from __future__ import annotations

import math

import numpy as np

from medaug.physics.ct.geometry import FanBeamGeometry

__all__ = ["parker_weights", "scan_arc", "short_scan_weights"]

# Angle steps that differ by less than this (degrees) count as equal.
_STEP_TOLERANCE_DEG = 1e-6


def parker_weights(beta_rad: np.ndarray, gamma_rad: np.ndarray, delta_rad: float) -> np.ndarray:
    """Return the Parker weights ``(V, n)`` of views ``beta_rad`` ``(V,)`` and fan angles ``gamma_rad`` ``(n,)``.

    Parameters
    ----------
    beta_rad : ndarray, (V,)
        Source angles from the first view, radians, within ``[0, pi + 2 delta]``.
    gamma_rad : ndarray, (n,)
        Fan angle of each detector element, radians, with ``|gamma| <= delta``.
    delta_rad : float
        Half the excess of the scan arc over pi, radians.

    Raises
    ------
    ValueError
        When a fan angle exceeds ``delta_rad`` (the arc is too short) or a
        view lies outside the arc.

    Examples
    --------
    >>> weights = parker_weights(np.array([0.0, 0.2, np.pi / 2]), np.array([0.0]), 0.1)
    >>> weights.round(3).tolist()
    [[0.0], [1.0], [1.0]]
    """
    beta = np.asarray(beta_rad, dtype=float)[:, None]
    gamma = np.asarray(gamma_rad, dtype=float)[None, :]
    largest = float(np.abs(gamma).max())
    if largest > delta_rad:
        raise ValueError(
            f"fan angles reach {math.degrees(largest):.3f} degrees but the scan arc leaves only "
            f"{math.degrees(delta_rad):.3f} degrees beyond 180 on each side; scan at least "
            f"{180 + 2 * math.degrees(largest):.3f} degrees"
        )
    if beta.min() < 0 or beta.max() > math.pi + 2 * delta_rad + 1e-12:
        raise ValueError(f"`beta_rad` must lie within [0, pi + 2 delta] = [0, {math.pi + 2 * delta_rad:.6f}]")

    rising_width = delta_rad + gamma
    falling_width = delta_rad - gamma
    rising = beta < 2 * rising_width
    # The widths vanish only at the fan's edges (|gamma| = delta). The ray
    # (0, -delta) and the ray (pi + 2 delta, delta) then run along the same
    # line, and both would get 1; counting the second as falling (weight 0)
    # keeps the sum over the line at 1.
    falling = (beta > math.pi + 2 * gamma) | ((falling_width == 0) & (beta >= math.pi + 2 * gamma))
    # 1 keeps the division finite where a width vanishes; its branch is empty or gives 0 there.
    safe_rising = np.where(rising_width > 0, rising_width, 1.0)
    safe_falling = np.where(falling_width > 0, falling_width, 1.0)
    weights = np.ones(np.broadcast_shapes(beta.shape, gamma.shape))
    weights = np.where(rising, np.sin(math.pi / 4 * beta / safe_rising) ** 2, weights)
    ending = math.pi + 2 * delta_rad - beta
    return np.where(falling, np.sin(math.pi / 4 * ending / safe_falling) ** 2, weights)


def scan_arc(geometry: FanBeamGeometry) -> tuple[bool, float]:
    """Return whether a fan-beam scan is short, and its angle step in radians.

    A scan whose ``V`` equally spaced views span ``V * step`` = 360 degrees
    (within half a step) is a full scan. A scan spanning less is a short
    scan, whose views must be equally spaced and increasing.

    Raises
    ------
    ValueError
        For fewer than 2 views, views spanning more than 360 degrees, or a
        short scan with unequal steps.
    """
    angles = np.asarray(geometry.angles_deg, dtype=float)
    count = angles.size
    if count < 2:
        raise ValueError(f"fan-beam FBP needs at least 2 views, got {count}")
    step = (angles[-1] - angles[0]) / (count - 1)
    covered = count * step
    if abs(abs(covered) - 360.0) <= abs(step) / 2:
        return False, math.radians(360.0 / count)
    if abs(covered) > 360.0:
        raise ValueError(f"fan-beam views must span at most 360 degrees, got {covered:.3f} degrees")
    steps = np.diff(angles)
    if step <= 0 or np.any(np.abs(steps - step) > _STEP_TOLERANCE_DEG):
        raise ValueError(
            "a fan-beam short scan needs equally spaced, increasing view angles, "
            f"got steps from {steps.min():.6f} to {steps.max():.6f} degrees"
        )
    return True, math.radians(step)


def short_scan_weights(geometry: FanBeamGeometry) -> np.ndarray:
    """Return the Parker weights ``(V, n_detectors)`` of a fan-beam short scan."""
    angles = np.asarray(geometry.angles_deg, dtype=float)
    beta = np.radians(angles - angles[0])
    delta = (float(beta[-1]) - math.pi) / 2
    return parker_weights(beta, geometry.fan_angles_rad(), delta)
