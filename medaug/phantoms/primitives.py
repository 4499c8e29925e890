"""Analytic shape primitives: ellipses, ellipsoids, boxes, cylinders, Gaussian blobs.

A primitive is a unit shape ``g(u)`` placed in physical space by a centre
``c`` (mm), semi-axes ``s`` (mm) and a rotation ``R`` whose columns are the
primitive's own axes written in the physical frame::

    f(x) = value * g(u),    u = diag(1 / s) R^T (x - c)

Points are physical LPS coordinates in mm, in (x, y[, z]) order, as in
:mod:`medaug.core.geometry`. The unit shapes are

=============  =====================================  ==========
kind           g(u)                                   dimensions
=============  =====================================  ==========
``ellipse``    1 where |u| <= 1                       2
``ellipsoid``  1 where |u| <= 1                       3
``box``        1 where max_i |u_i| <= 1               2, 3
``cylinder``   1 where u_0^2 + u_1^2 <= 1, |u_2| <= 1  3
``gaussian``   exp(-|u|^2 / 2) (``s`` is sigma)       2, 3
=============  =====================================  ==========

Each has a closed-form Fourier transform and (in 2D) Radon transform, see
:mod:`medaug.phantoms.functional`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "KINDS",
    "Primitive",
    "box",
    "cylinder",
    "ellipse",
    "ellipsoid",
    "euler_zxz_matrix",
    "gaussian_blob",
    "rotation_2d",
    "rotation_z",
]

#: Primitive kinds and the numbers of spatial dimensions each supports.
KINDS: dict[str, tuple[int, ...]] = {
    "ellipse": (2,),
    "ellipsoid": (3,),
    "box": (2, 3),
    "cylinder": (3,),
    "gaussian": (2, 3),
}

# Tolerance on |R^T R - I| and det(R) - 1 for rotations given as matrices:
# matrices written with 6 to 8 decimals deviate by about 1e-7.
_ROTATION_TOLERANCE = 1e-6


def rotation_2d(angle_deg: float) -> np.ndarray:
    """Return the 2x2 rotation turning +x towards +y by ``angle_deg`` degrees."""
    angle = math.radians(float(angle_deg))
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


def rotation_z(angle_deg: float) -> np.ndarray:
    """Return the 3x3 rotation about +z turning +x towards +y by ``angle_deg`` degrees."""
    matrix = np.eye(3)
    matrix[:2, :2] = rotation_2d(angle_deg)
    return matrix


def euler_zxz_matrix(phi_deg: float, theta_deg: float, psi_deg: float) -> np.ndarray:
    """Return the z-x-z Euler matrix ``alpha`` that maps phantom coordinates to local ones.

    ``alpha = Rz(psi)^T Rx(theta)^T Rz(phi)^T``: the frame is turned by
    ``phi`` about z, then ``theta`` about the new x, then ``psi`` about the
    new z, and ``alpha @ x`` gives the coordinates of ``x`` in the turned
    frame. This is the convention of the 3D Shepp-Logan table of
    phantom3d (Schabel 2006); the primitive's rotation is ``alpha.T``.
    """
    phi, theta, psi = (math.radians(float(a)) for a in (phi_deg, theta_deg, psi_deg))

    def turn_z(angle: float) -> np.ndarray:
        c, s = math.cos(angle), math.sin(angle)
        return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])

    def turn_x(angle: float) -> np.ndarray:
        c, s = math.cos(angle), math.sin(angle)
        return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])

    frame = turn_z(phi) @ turn_x(theta) @ turn_z(psi)
    return frame.T


def _vector(value: object, name: str, ndim: int | None) -> tuple[float, ...]:
    try:
        array = np.asarray(value, dtype=float).reshape(-1)
    except (TypeError, ValueError) as error:
        raise TypeError(f"`{name}` must be a sequence of numbers, got {value!r}") from error
    if ndim is not None and array.size != ndim:
        raise ValueError(f"`{name}` must have {ndim} values, got {array.size}: {value!r}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` must be finite, got {value!r}")
    return tuple(float(v) for v in array)


def _rotation(value: object, ndim: int) -> tuple[tuple[float, ...], ...]:
    if value is None:
        return tuple(tuple(float(v) for v in row) for row in np.eye(ndim))
    try:
        matrix = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(f"`rotation` must be a {ndim}x{ndim} matrix, got {value!r}") from error
    if matrix.shape != (ndim, ndim):
        raise ValueError(f"`rotation` must be a {ndim}x{ndim} matrix, got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise ValueError(f"`rotation` must be finite, got {matrix.tolist()}")
    deviation = np.abs(matrix.T @ matrix - np.eye(ndim)).max()
    if deviation > _ROTATION_TOLERANCE or abs(np.linalg.det(matrix) - 1.0) > _ROTATION_TOLERANCE:
        raise ValueError(
            "`rotation` must be a proper rotation (R^T R = I, det R = +1), got "
            f"{matrix.tolist()}"
        )
    return tuple(tuple(float(v) for v in row) for row in matrix)


@dataclass(frozen=True)
class Primitive:
    """One analytic shape with a value and an optional tissue class.

    Parameters
    ----------
    kind : {"ellipse", "ellipsoid", "box", "cylinder", "gaussian"}
        Unit shape, see the module docstring.
    center : sequence of float, length 2 or 3
        Centre in mm, physical (x, y[, z]) order.
    semi_axes : sequence of float
        Half-lengths in mm along the primitive's own axes (sigmas for
        ``gaussian``; for ``cylinder`` the two radii, then the half-length
        along its axis). Must be > 0.
    rotation : (n, n) array_like, optional
        Proper rotation whose columns are the primitive's axes in the
        physical frame. Default: identity.
    value : float, default 1.0
        Weight of the shape in additive phantoms, or its intensity when
        painted.
    tissue : str, optional
        Tissue class name (see :mod:`medaug.phantoms.tissues`). Gaussian
        blobs have no boundary and take no tissue.

    Raises
    ------
    ValueError
        For an unknown kind, a wrong number of coordinates, non-finite
        numbers, semi-axes <= 0, a rotation that is not proper, or a tissue
        on a Gaussian blob.
    TypeError
        For arguments that are not numbers, or a tissue that is not a str.
    """

    kind: str
    center: tuple[float, ...]
    semi_axes: tuple[float, ...]
    rotation: tuple[tuple[float, ...], ...] | None = None
    value: float = 1.0
    tissue: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"`kind` must be one of {sorted(KINDS)}, got {self.kind!r}")
        center = _vector(self.center, "center", None)
        ndim = len(center)
        if ndim not in KINDS[self.kind]:
            raise ValueError(
                f"a {self.kind} needs a centre with {' or '.join(map(str, KINDS[self.kind]))} "
                f"coordinates, got {ndim}: {self.center!r}"
            )
        semi_axes = _vector(self.semi_axes, "semi_axes", ndim)
        if any(s <= 0 for s in semi_axes):
            raise ValueError(f"`semi_axes` must be > 0 mm on every axis, got {semi_axes}")
        value = float(self.value)
        if not math.isfinite(value):
            raise ValueError(f"`value` must be finite, got {self.value!r}")
        if self.tissue is not None:
            if not isinstance(self.tissue, str):
                raise TypeError(f"`tissue` must be a str or None, got {type(self.tissue).__name__}")
            if self.kind == "gaussian":
                raise ValueError(
                    f"a gaussian blob has no boundary and cannot carry tissue {self.tissue!r}; "
                    "use an ellipse, ellipsoid, box or cylinder for a tissue region"
                )
        object.__setattr__(self, "center", center)
        object.__setattr__(self, "semi_axes", semi_axes)
        object.__setattr__(self, "rotation", _rotation(self.rotation, ndim))
        object.__setattr__(self, "value", value)

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions (2 or 3)."""
        return len(self.center)

    @property
    def rotation_matrix(self) -> np.ndarray:
        """Rotation as an ``(n, n)`` float64 array, columns are the primitive's axes."""
        return np.asarray(self.rotation, dtype=float)

    @property
    def has_boundary(self) -> bool:
        """True for indicator shapes (everything except Gaussian blobs)."""
        return self.kind != "gaussian"

    def replace(self, **changes: object) -> Primitive:
        """Return a copy with some fields replaced (validated again)."""
        fields = {
            "kind": self.kind,
            "center": self.center,
            "semi_axes": self.semi_axes,
            "rotation": self.rotation,
            "value": self.value,
            "tissue": self.tissue,
        }
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"Primitive.replace got unknown fields {sorted(unknown)}")
        fields.update(changes)
        return Primitive(**fields)  # type: ignore[arg-type]

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Return a boolean array: which physical points ``(N, n)`` (mm) lie inside.

        Gaussian blobs count as inside where ``g(u) >= exp(-1/2)``, that is
        within one sigma.
        """
        points = np.asarray(points, dtype=float).reshape(-1, self.ndim)
        local = (points - np.asarray(self.center)) @ self.rotation_matrix
        local = local / np.asarray(self.semi_axes)
        if self.kind == "box":
            return np.max(np.abs(local), axis=1) <= 1.0
        if self.kind == "cylinder":
            return (local[:, 0] ** 2 + local[:, 1] ** 2 <= 1.0) & (np.abs(local[:, 2]) <= 1.0)
        return np.sum(local**2, axis=1) <= 1.0

    def boundary_points(self, count: int = 64) -> np.ndarray:
        """Return points (mm) on the boundary, ``(M, n)``, about ``count`` of them.

        Boxes give their corners (they span the box), cylinders the rims of
        their two end faces, ellipses and ellipsoids an even spread of
        surface points (a Fibonacci lattice in 3D).
        """
        ndim = self.ndim
        if self.kind == "box":
            unit = np.array(list(np.ndindex(*(2,) * ndim)), dtype=float) * 2.0 - 1.0
        elif ndim == 2:
            angles = np.linspace(0.0, 2.0 * math.pi, count, endpoint=False)
            unit = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        elif self.kind == "cylinder":
            angles = np.linspace(0.0, 2.0 * math.pi, max(count // 2, 8), endpoint=False)
            rim = np.stack([np.cos(angles), np.sin(angles)], axis=1)
            unit = np.concatenate(
                [np.hstack([rim, np.full((len(rim), 1), z)]) for z in (-1.0, 1.0)]
            )
        else:
            index = np.arange(count) + 0.5
            polar = np.arccos(1.0 - 2.0 * index / count)
            azimuth = math.pi * (1.0 + 5.0**0.5) * index
            unit = np.stack(
                [np.cos(azimuth) * np.sin(polar), np.sin(azimuth) * np.sin(polar), np.cos(polar)],
                axis=1,
            )
        local = unit * np.asarray(self.semi_axes)
        return local @ self.rotation_matrix.T + np.asarray(self.center)

    def bounding_box(self, *, gaussian_sigmas: float = 8.0) -> tuple[np.ndarray, np.ndarray]:
        """Return the axis-aligned ``(low, high)`` corners (mm) that enclose the shape.

        Gaussian blobs are cut at ``gaussian_sigmas`` sigmas; at 8 sigmas
        the neglected tail is below exp(-32), about 1e-14 of the peak.
        """
        rotation = self.rotation_matrix
        semi = np.asarray(self.semi_axes)
        if self.kind == "box":
            half = np.abs(rotation) @ semi
        elif self.kind == "cylinder":
            disk = np.sqrt((rotation[:, :2] ** 2) @ (semi[:2] ** 2))
            half = disk + np.abs(rotation[:, 2]) * semi[2]
        else:
            scale = gaussian_sigmas if self.kind == "gaussian" else 1.0
            half = scale * np.sqrt((rotation**2) @ (semi**2))
        center = np.asarray(self.center)
        return center - half, center + half


def ellipse(
    center: Sequence[float],
    semi_axes: Sequence[float],
    angle_deg: float = 0.0,
    *,
    value: float = 1.0,
    tissue: str | None = None,
) -> Primitive:
    """Build a 2D ellipse turned by ``angle_deg`` degrees (from +x towards +y).

    Examples
    --------
    >>> e = ellipse((0.0, 0.0), (2.0, 1.0), 90.0)
    >>> e.contains([[0.0, 1.5], [1.5, 0.0]]).tolist()
    [True, False]
    """
    return Primitive("ellipse", center, semi_axes, rotation_2d(angle_deg), value, tissue)


def ellipsoid(
    center: Sequence[float],
    semi_axes: Sequence[float],
    rotation: Sequence[Sequence[float]] | np.ndarray | None = None,
    *,
    value: float = 1.0,
    tissue: str | None = None,
) -> Primitive:
    """Build a 3D ellipsoid; ``rotation`` columns are its axes (default identity)."""
    return Primitive("ellipsoid", center, semi_axes, rotation, value, tissue)


def box(
    center: Sequence[float],
    half_widths: Sequence[float],
    rotation: Sequence[Sequence[float]] | np.ndarray | float | None = None,
    *,
    value: float = 1.0,
    tissue: str | None = None,
) -> Primitive:
    """Build a 2D rectangle or 3D box; in 2D ``rotation`` may be an angle in degrees."""
    if isinstance(rotation, (int, float)):
        rotation = rotation_2d(rotation)
    return Primitive("box", center, half_widths, rotation, value, tissue)


def cylinder(
    center: Sequence[float],
    radii: Sequence[float],
    half_length: float,
    rotation: Sequence[Sequence[float]] | np.ndarray | None = None,
    *,
    value: float = 1.0,
    tissue: str | None = None,
) -> Primitive:
    """Build an elliptic cylinder with radii ``(r0, r1)`` mm, axis along rotation column 2."""
    radii = _vector(radii, "radii", 2)
    return Primitive("cylinder", center, (*radii, half_length), rotation, value, tissue)


def gaussian_blob(
    center: Sequence[float],
    sigmas: Sequence[float],
    rotation: Sequence[Sequence[float]] | np.ndarray | float | None = None,
    *,
    value: float = 1.0,
) -> Primitive:
    """Build a Gaussian blob ``value * exp(-|u|^2 / 2)`` with ``sigmas`` in mm (peak = value)."""
    if isinstance(rotation, (int, float)):
        rotation = rotation_2d(rotation)
    return Primitive("gaussian", center, sigmas, rotation, value, None)
