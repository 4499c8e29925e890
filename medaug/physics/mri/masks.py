"""Cartesian undersampling masks with a fully sampled calibration region.

A 1-D mask selects phase-encode lines of a width-``W`` k-space axis; a 2-D
mask selects points of an ``(H, W)`` phase-encode plane (3-D Cartesian
imaging). The k-space centre is index ``n // 2``, as in
:mod:`medaug.physics.mri.fft`. Every function returns a :class:`SamplingMask`
that reports the achieved acceleration ``total / sampled``.

The number of sampled locations is an integer, so some accelerations cannot
be reached on small grids: the nearest count must give an acceleration
within ``tolerance`` (2 % by default) of the request, otherwise
:class:`AccelerationError` is raised and names the nearest reachable values.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

__all__ = [
    "AccelerationError",
    "SamplingMask",
    "calibration_slice",
    "random_line_mask",
    "equispaced_line_mask",
    "gaussian_line_mask",
    "random_mask_2d",
    "line_mask_to_grid",
]


class AccelerationError(ValueError):
    """The requested acceleration cannot be reached within the tolerance on this grid."""


@dataclasses.dataclass(frozen=True, eq=False)
class SamplingMask:
    """A boolean sampling mask and the acceleration it achieves.

    Attributes
    ----------
    mask : bool tensor, (W,) or (H, W)
        True where k-space is sampled.
    requested_acceleration : float
        The acceleration asked for.
    calibration_shape : tuple of int
        Size of the fully sampled centre region on each axis (0 for none).
    kind : str
        Name of the pattern ("random", "equispaced", "gaussian", "poisson", "random_2d").
    gap : int or None
        Constant distance between sampled lines outside the calibration
        region (equispaced masks only).
    """

    mask: torch.Tensor
    requested_acceleration: float
    calibration_shape: tuple[int, ...]
    kind: str
    gap: int | None = None

    @property
    def num_sampled(self) -> int:
        """Number of sampled lines or points."""
        return int(self.mask.sum())

    @property
    def acceleration(self) -> float:
        """Achieved acceleration: total locations divided by sampled locations."""
        return self.mask.numel() / self.num_sampled

    @property
    def relative_error(self) -> float:
        """``(achieved - requested) / requested``."""
        return (self.acceleration - self.requested_acceleration) / self.requested_acceleration

    def __repr__(self) -> str:
        return (
            f"SamplingMask(kind={self.kind!r}, shape={tuple(self.mask.shape)}, "
            f"acceleration={self.acceleration:.4f}, requested={self.requested_acceleration}, "
            f"calibration={self.calibration_shape})"
        )


def _check_acceleration(acceleration: float, tolerance: float) -> tuple[float, float]:
    acceleration = float(acceleration)
    if not (math.isfinite(acceleration) and acceleration > 1.0):
        raise ValueError(f"`acceleration` must be > 1, got {acceleration}")
    tolerance = float(tolerance)
    if not (math.isfinite(tolerance) and 0.0 <= tolerance < 1.0):
        raise ValueError(f"`tolerance` must be in [0, 1), got {tolerance}")
    return acceleration, tolerance


def _check_size(size: int, name: str) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"`{name}` must be an int, got {type(size).__name__}")
    if size < 2:
        raise ValueError(f"`{name}` must be >= 2, got {size}")
    return int(size)


def _check_fraction(center_fraction: float) -> float:
    center_fraction = float(center_fraction)
    if not (math.isfinite(center_fraction) and 0.0 <= center_fraction < 1.0):
        raise ValueError(f"`center_fraction` must be in [0, 1), got {center_fraction}")
    return center_fraction


def _target_count(total: int, acceleration: float, tolerance: float) -> int:
    """Return the sample count closest to ``total / acceleration`` or raise AccelerationError."""
    count = max(1, round(total / acceleration))
    error = abs(total / count - acceleration) / acceleration
    if error > tolerance:
        nearest = sorted({total / n for n in (count - 1, count, count + 1) if n >= 1})
        raise AccelerationError(
            f"`acceleration` {acceleration} cannot be reached within {tolerance:.1%} on {total} "
            f"locations; the nearest reachable accelerations are "
            f"{', '.join(f'{a:.4g}' for a in nearest)}; use a larger grid, one of these "
            "values, or a larger `tolerance`"
        )
    return count


def calibration_slice(width: int, size: int) -> slice:
    """Return the slice of the ``size`` central indices of an axis of ``width``.

    The region is centred on index ``width // 2``.

    Examples
    --------
    >>> calibration_slice(10, 4)
    slice(3, 7, None)
    """
    start = width // 2 - size // 2
    return slice(start, start + size)


def _calibration_size(width: int, center_fraction: float, count: int) -> int:
    size = round(center_fraction * width)
    if size > count:
        raise ValueError(
            f"`center_fraction` {center_fraction} asks for {size} calibration lines but the "
            f"acceleration allows only {count} sampled lines in total; lower one of them"
        )
    return size


def _line_plan(
    width: int, acceleration: float, center_fraction: float, tolerance: float
) -> tuple[int, float, int, int]:
    """Validate a line-mask request; return ``(width, acceleration, count, calibration)``."""
    width = _check_size(width, "width")
    acceleration, tolerance = _check_acceleration(acceleration, tolerance)
    count = _target_count(width, acceleration, tolerance)
    calibration = _calibration_size(width, _check_fraction(center_fraction), count)
    return width, acceleration, count, calibration


def _line_mask_from_outside(
    width: int, calibration: int, chosen: np.ndarray
) -> torch.Tensor:
    mask = np.zeros(width, dtype=bool)
    mask[calibration_slice(width, calibration)] = True
    mask[chosen] = True
    return torch.from_numpy(mask)


def _outside_indices(width: int, calibration: int) -> np.ndarray:
    inside = np.zeros(width, dtype=bool)
    inside[calibration_slice(width, calibration)] = True
    return np.flatnonzero(~inside)


def random_line_mask(
    width: int,
    acceleration: float,
    *,
    rng: np.random.Generator,
    center_fraction: float = 0.08,
    tolerance: float = 0.02,
) -> SamplingMask:
    """Sample phase-encode lines uniformly at random around a calibration region.

    Parameters
    ----------
    width : int
        Number of phase-encode lines (>= 2).
    acceleration : float
        Requested acceleration (> 1).
    rng : numpy.random.Generator
        Source of randomness.
    center_fraction : float, default 0.08
        Fraction of lines in the fully sampled centre, ``round(fraction * width)``.
    tolerance : float, default 0.02
        Largest accepted relative error of the achieved acceleration.

    Returns
    -------
    SamplingMask
        ``mask`` shaped ``(width,)`` with exactly ``round(width / acceleration)`` lines.

    Raises
    ------
    AccelerationError
        If no line count reaches ``acceleration`` within ``tolerance``.

    References
    ----------
    Lustig M., Donoho D., Pauly J. M., "Sparse MRI: The application of
    compressed sensing for rapid MR imaging", Magn. Reson. Med. 58(6),
    1182-1195, 2007. DOI: 10.1002/mrm.21391

    Examples
    --------
    >>> m = random_line_mask(100, 4, rng=np.random.default_rng(0))
    >>> m.num_sampled, m.acceleration
    (25, 4.0)
    """
    width, acceleration, count, calibration = _line_plan(width, acceleration, center_fraction, tolerance)

    outside = _outside_indices(width, calibration)
    chosen = rng.choice(outside, size=count - calibration, replace=False)
    mask = _line_mask_from_outside(width, calibration, chosen)
    return SamplingMask(mask, acceleration, (calibration,), "random")


def gaussian_line_mask(
    width: int,
    acceleration: float,
    *,
    rng: np.random.Generator,
    center_fraction: float = 0.08,
    std_fraction: float = 0.25,
    tolerance: float = 0.02,
) -> SamplingMask:
    """Sample lines with a Gaussian variable density around a calibration region.

    Lines outside the calibration region are drawn without replacement with
    probability proportional to ``exp(-k^2 / (2 (std_fraction * width)^2))``,
    ``k`` being the distance in lines from the centre.

    Parameters
    ----------
    width, acceleration, rng, center_fraction, tolerance
        As for :func:`random_line_mask`.
    std_fraction : float, default 0.25
        Standard deviation of the density as a fraction of ``width``.

    References
    ----------
    Lustig M., Donoho D., Pauly J. M., "Sparse MRI: The application of
    compressed sensing for rapid MR imaging", Magn. Reson. Med. 58(6),
    1182-1195, 2007. DOI: 10.1002/mrm.21391

    Examples
    --------
    >>> gaussian_line_mask(128, 4, rng=np.random.default_rng(0)).acceleration
    4.0
    """
    std_fraction = float(std_fraction)
    if not (math.isfinite(std_fraction) and std_fraction > 0):
        raise ValueError(f"`std_fraction` must be > 0, got {std_fraction}")
    width, acceleration, count, calibration = _line_plan(width, acceleration, center_fraction, tolerance)

    outside = _outside_indices(width, calibration)
    distance = (outside - width // 2) / (std_fraction * width)
    weights = np.exp(-0.5 * distance**2)
    chosen = rng.choice(outside, size=count - calibration, replace=False, p=weights / weights.sum())
    mask = _line_mask_from_outside(width, calibration, chosen)
    return SamplingMask(mask, acceleration, (calibration,), "gaussian")


def _equispaced_counts(width: int, gap: int, offset: int) -> np.ndarray:
    """Return the line count for each calibration size 0..width with lines at ``offset + j * gap``."""
    on_grid = (np.arange(width) - offset) % gap == 0
    cumulative = np.concatenate([[0], np.cumsum(on_grid)])
    sizes = np.arange(width + 1)
    starts = width // 2 - sizes // 2
    inside = cumulative[starts + sizes] - cumulative[starts]
    return sizes + int(on_grid.sum()) - inside


def equispaced_line_mask(
    width: int,
    acceleration: float,
    *,
    rng: np.random.Generator,
    center_fraction: float = 0.08,
    tolerance: float = 0.02,
) -> SamplingMask:
    """Sample lines with one constant integer gap outside a calibration region.

    Lines outside the calibration region sit at ``offset + j * gap`` with a
    random ``offset`` in ``[0, gap)``, so every gap between consecutive lines
    on the same side of the centre is exactly ``gap``. Because the
    calibration lines add to the count, an integer gap and a requested
    calibration size cannot both be kept in general. The gap and calibration
    size are therefore chosen together: among all pairs whose acceleration is
    within ``tolerance``, the one with the calibration size closest to
    ``round(center_fraction * width)`` wins, then the smallest gap.

    Parameters
    ----------
    width, acceleration, rng, center_fraction, tolerance
        As for :func:`random_line_mask`.

    Returns
    -------
    SamplingMask
        With ``gap`` set and ``calibration_shape`` the calibration size used.

    Examples
    --------
    >>> m = equispaced_line_mask(256, 4, rng=np.random.default_rng(0))
    >>> m.gap, m.calibration_shape, round(m.acceleration, 3)
    (5, (17,), 3.938)
    """
    width = _check_size(width, "width")
    acceleration, tolerance = _check_acceleration(acceleration, tolerance)
    wanted = round(_check_fraction(center_fraction) * width)
    _target_count(width, acceleration, tolerance)
    position = rng.random()

    best: tuple[int, int, int] | None = None
    for gap in range(2, max(3, math.ceil(4 * acceleration)) + 1):
        offset = int(position * gap)
        counts = _equispaced_counts(width, gap, offset)
        errors = np.abs(width / counts - acceleration) / acceleration
        sizes = np.flatnonzero(errors <= tolerance)
        if sizes.size == 0:
            continue
        size = int(sizes[np.argmin(np.abs(sizes - wanted))])
        if best is None or abs(size - wanted) < abs(best[1] - wanted):
            best = (gap, size, offset)
    if best is None:
        raise AccelerationError(
            f"no constant gap reaches `acceleration` {acceleration} within {tolerance:.1%} on "
            f"{width} lines; use a larger width or a larger `tolerance`"
        )

    gap, size, offset = best
    chosen = _outside_indices(width, size)
    chosen = chosen[(chosen - offset) % gap == 0]
    mask = _line_mask_from_outside(width, size, chosen)
    return SamplingMask(mask, acceleration, (size,), "equispaced", gap=gap)


def _plane_plan(
    shape: tuple[int, int], acceleration: float, center_fraction: float, tolerance: float
) -> tuple[float, int, tuple[int, int], np.ndarray]:
    """Validate a phase-encode plane request.

    Returns ``(acceleration, count, box, calibration)``: the point count,
    the calibration box size and the ``(H, W)`` bool array that is True
    inside the box.
    """
    height, width = (_check_size(n, "shape") for n in _check_shape_2d(shape))
    acceleration, tolerance = _check_acceleration(acceleration, tolerance)
    count = _target_count(height * width, acceleration, tolerance)
    center_fraction = _check_fraction(center_fraction)
    box = (round(center_fraction * height), round(center_fraction * width))
    if box[0] * box[1] > count:
        raise ValueError(
            f"the calibration box {box} contains more points than the {count} the acceleration allows"
        )

    calibration = np.zeros((height, width), dtype=bool)
    calibration[calibration_slice(height, box[0]), calibration_slice(width, box[1])] = True
    return acceleration, count, box, calibration


def random_mask_2d(
    shape: tuple[int, int],
    acceleration: float,
    *,
    rng: np.random.Generator,
    center_fraction: float = 0.08,
    tolerance: float = 0.02,
) -> SamplingMask:
    """Sample points of a phase-encode plane uniformly at random around a calibration box.

    Parameters
    ----------
    shape : (int, int)
        Phase-encode plane ``(H, W)``.
    acceleration, rng, tolerance
        As for :func:`random_line_mask`.
    center_fraction : float, default 0.08
        The calibration box is ``round(fraction * H) x round(fraction * W)``.

    Examples
    --------
    >>> random_mask_2d((64, 64), 4, rng=np.random.default_rng(0)).acceleration
    4.0
    """
    acceleration, count, box, mask = _plane_plan(shape, acceleration, center_fraction, tolerance)

    outside = np.flatnonzero(~mask.ravel())
    chosen = rng.choice(outside, size=count - box[0] * box[1], replace=False)
    mask.ravel()[chosen] = True
    return SamplingMask(torch.from_numpy(mask), acceleration, box, "random_2d")


def _check_shape_2d(shape: tuple[int, int]) -> tuple[int, int]:
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise ValueError(f"`shape` must be (H, W), got {shape!r}")
    return tuple(shape)  # type: ignore[return-value]


def line_mask_to_grid(mask: torch.Tensor, ndim: int, *, axis: int = -1) -> torch.Tensor:
    """Reshape a 1-D line mask so it broadcasts along ``axis`` of an ``ndim``-axis k-space.

    Examples
    --------
    >>> line_mask_to_grid(torch.ones(6, dtype=torch.bool), 3, axis=-1).shape
    torch.Size([1, 1, 6])
    """
    if mask.ndim != 1:
        raise ValueError(f"`mask` must be 1-D, got shape {tuple(mask.shape)}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"`axis` {axis} is out of range for {ndim} axes")
    view = [1] * ndim
    view[axis] = mask.shape[0]
    return mask.reshape(view)
