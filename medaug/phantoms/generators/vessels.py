"""Random 3D vessel trees: branching tubes whose radii follow Murray's law."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from medaug.phantoms.generators.common import check_generator, check_range
from medaug.phantoms.phantom import Phantom
from medaug.phantoms.primitives import Primitive

__all__ = ["vessel_tree"]

# Murray's law r_parent^3 = r_child1^3 + r_child2^3 with equal children.
_MURRAY_RATIO = 2.0 ** (-1.0 / 3.0)


def _frame(axis: np.ndarray) -> np.ndarray:
    """Return a rotation whose third column is the unit vector ``axis``."""
    axis = axis / np.linalg.norm(axis)
    helper = np.array([1.0, 0.0, 0.0]) if abs(axis[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    first = np.cross(helper, axis)
    first /= np.linalg.norm(first)
    second = np.cross(axis, first)
    return np.stack([first, second, axis], axis=1)


def vessel_tree(
    rng: np.random.Generator,
    *,
    root_mm: Sequence[float] = (0.0, 0.0, -40.0),
    direction: Sequence[float] = (0.0, 0.0, 1.0),
    radius_mm: float = 3.0,
    length_mm: float = 30.0,
    depth: int = 4,
    branch_angle_deg: tuple[float, float] = (20.0, 45.0),
    length_ratio: float = 0.8,
    tissue: str = "blood",
) -> Phantom:
    """Draw a branching vessel tree of cylinders, with spheres rounding each joint.

    Every segment splits into two children whose radii follow Murray's law
    for equal branches (``r_child = r / 2^(1/3)``), whose lengths shrink by
    ``length_ratio``, and whose directions leave the parent's axis at an
    angle drawn from ``branch_angle_deg``, on opposite sides around a random
    azimuth.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    root_mm : (float, float, float)
        Start of the trunk (mm, LPS).
    direction : (float, float, float)
        Direction of the trunk (normalised here).
    radius_mm, length_mm : float
        Radius and length of the trunk.
    depth : int, default 4
        Levels of branching (``2^(depth + 1) - 1`` segments).
    branch_angle_deg : (float, float)
        Range of the angle between a child and its parent, degrees.
    length_ratio : float, default 0.8
        Child length over parent length.
    tissue : str, default "blood"
        Tissue class of the lumen.

    Returns
    -------
    Phantom
        Mode ``"paint"``. Tubes overlap at the joints, so the tree has no
        exact analytic k-space (:class:`~medaug.phantoms.NotLaminarError`);
        rasterise it.

    References
    ----------
    .. [1] C. D. Murray, "The physiological principle of minimum work: I. The
       vascular system and the cost of blood volume", Proc. Natl. Acad. Sci.
       USA 12(3):207-214, 1926. doi:10.1073/pnas.12.3.207

    Examples
    --------
    >>> tree = vessel_tree(np.random.default_rng(0), depth=2)
    >>> len(tree.primitives)  # 7 tubes and 7 end spheres
    14
    """
    rng = check_generator(rng)
    root = np.asarray(root_mm, dtype=float)
    axis = np.asarray(direction, dtype=float)
    if root.shape != (3,) or not np.all(np.isfinite(root)):
        raise ValueError(f"`root_mm` must be 3 finite values, got {root_mm!r}")
    if axis.shape != (3,) or not np.all(np.isfinite(axis)) or np.linalg.norm(axis) == 0:
        raise ValueError(f"`direction` must be a finite non-zero 3-vector, got {direction!r}")
    for name, value in (("radius_mm", radius_mm), ("length_mm", length_mm), ("length_ratio", length_ratio)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"`{name}` must be > 0, got {value!r}")
    if not isinstance(depth, int) or depth < 0 or depth > 10:
        raise ValueError(f"`depth` must be an int in [0, 10], got {depth!r}")
    angle_low, angle_high = check_range(branch_angle_deg, "branch_angle_deg", strict=False)

    shapes: list[Primitive] = []
    pending = [(root, axis / np.linalg.norm(axis), float(radius_mm), float(length_mm), 0)]
    while pending:
        start, unit, radius, length, level = pending.pop(0)
        frame = _frame(unit)
        middle = start + 0.5 * length * unit
        end = start + length * unit
        shapes.append(Primitive("cylinder", middle, (radius, radius, 0.5 * length), frame, 1.0, tissue))
        shapes.append(Primitive("ellipsoid", end, (radius,) * 3, frame, 1.0, tissue))
        if level == depth:
            continue
        azimuth = rng.uniform(0.0, 2.0 * math.pi)
        for side in (0.0, math.pi):
            tilt = math.radians(rng.uniform(angle_low, angle_high))
            local = np.array([
                math.sin(tilt) * math.cos(azimuth + side),
                math.sin(tilt) * math.sin(azimuth + side),
                math.cos(tilt),
            ])
            pending.append((end, frame @ local, radius * _MURRAY_RATIO, length * length_ratio, level + 1))
    return Phantom(shapes, mode="paint", name="vessel_tree")
