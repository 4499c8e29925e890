"""Affine matrices in physical space (mm, degrees), following the medaug convention.

Convention
----------
Physical axes are LPS (x towards the patient's left, y posterior, z
superior), see :mod:`medaug.core.geometry`. A rotation by ``+theta`` about an
axis is right-handed: about z it turns the +x axis towards +y, which is
counter-clockwise when the x-y plane is drawn with x to the right and y up.
In 2D the single angle is about the (implicit) z axis. In 3D the angles
``(ax, ay, az)`` are applied about x first, then y, then z:
``R = Rz(az) @ Ry(ay) @ Rx(ax)``.

The forward (active) transform of a point ``p`` about a centre ``c`` is

    p' = c + t + R @ S @ H @ (p - c)

with ``S = diag(scale)`` (scale > 1 enlarges the content) and ``H`` an upper
triangular shear (x += s_xy y + s_xz z, y += s_yz z in 3D; x += s y in 2D).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "affine_matrix",
    "homogeneous",
    "rotation_matrix",
    "shear_matrix",
]


def rotation_matrix(angles_deg: Sequence[float]) -> np.ndarray:
    """Return the rotation matrix for one angle (2D) or three angles (3D) in degrees.

    Examples
    --------
    >>> rotation_matrix([90.0]).round(6).tolist()
    [[0.0, -1.0], [1.0, 0.0]]
    """
    angles = np.deg2rad(np.asarray(angles_deg, dtype=np.float64).reshape(-1))
    if angles.size == 1:
        c, s = np.cos(angles[0]), np.sin(angles[0])
        return np.array([[c, -s], [s, c]])
    if angles.size != 3:
        raise ValueError(f"`angles_deg` must have 1 (2D) or 3 (3D) values, got {angles.size}")
    cx, cy, cz = np.cos(angles)
    sx, sy, sz = np.sin(angles)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def shear_matrix(shear: Sequence[float], ndim: int) -> np.ndarray:
    """Return the upper triangular shear: 1 value in 2D, 3 (xy, xz, yz) in 3D."""
    values = np.asarray(shear, dtype=np.float64).reshape(-1)
    matrix = np.eye(ndim)
    if ndim == 2:
        if values.size != 1:
            raise ValueError(f"`shear` must have 1 value in 2D, got {values.size}")
        matrix[0, 1] = values[0]
        return matrix
    if values.size != 3:
        raise ValueError(f"`shear` must have 3 values (xy, xz, yz) in 3D, got {values.size}")
    matrix[0, 1], matrix[0, 2], matrix[1, 2] = values
    return matrix


def homogeneous(linear: np.ndarray, translation: Sequence[float]) -> np.ndarray:
    """Return the ``(n+1, n+1)`` matrix of ``p -> linear @ p + translation``."""
    n = linear.shape[0]
    matrix = np.eye(n + 1)
    matrix[:n, :n] = linear
    matrix[:n, n] = translation
    return matrix


def affine_matrix(
    *,
    rotation_deg: Sequence[float],
    scale: Sequence[float],
    shear: Sequence[float],
    translation_mm: Sequence[float],
    center_mm: Sequence[float],
) -> np.ndarray:
    """Return the forward homogeneous matrix ``p' = c + t + R S H (p - c)`` (mm).

    Examples
    --------
    >>> m = affine_matrix(rotation_deg=[90], scale=[1, 1], shear=[0],
    ...                   translation_mm=[0, 0], center_mm=[0, 0])
    >>> (m @ [1.0, 0.0, 1.0]).round(6).tolist()
    [0.0, 1.0, 1.0]
    """
    center = np.asarray(center_mm, dtype=np.float64)
    n = center.size
    linear = rotation_matrix(rotation_deg) @ np.diag(np.asarray(scale, dtype=np.float64)) @ shear_matrix(shear, n)
    if linear.shape != (n, n):
        raise ValueError(f"rotation and scale must be {n}-D to match the centre, got {linear.shape}")
    offset = center + np.asarray(translation_mm, dtype=np.float64) - linear @ center
    return homogeneous(linear, offset)
