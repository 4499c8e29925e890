"""Voxel grid geometry: spacing, origin and direction cosines in physical space.

Conventions
-----------
Arrays are stored in the order of their axes in memory: a 3D volume is
``(D, H, W)`` and a 2D image ``(H, W)``. This is the order that
``SimpleITK.GetArrayFromImage`` returns, the reverse of ITK's and NIfTI's
``(i, j, k)`` order.

:class:`Geometry` stores ``spacing`` in that same array-axis order, so
``spacing[a]`` is the distance in mm between neighbours along array axis
``a``. Physical points are in millimetres in the ITK/DICOM patient frame
(LPS: x towards the patient's left, y posterior, z superior) and written in
(x, y, z) order. Column ``a`` of ``direction`` is the unit vector in that
frame along which array axis ``a`` increases, and ``origin`` is the physical
position of the voxel with index 0. A voxel with array index ``idx`` lies at

    point = origin + direction @ (spacing * idx)

Orientation codes follow nibabel's RAS+ convention, where each letter names
the anatomical direction towards which a file axis increases, listed in the
file's (i, j, k) order (the reverse of the array order).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Geometry", "orientation_code_from_direction"]

# Tolerance for |D^T D - I|: direction cosines written by scanners and by
# NIfTI headers in float32 deviate from orthonormality by up to about 1e-5.
_ORTHONORMAL_TOLERANCE = 1e-4

_RAS_LETTERS = (("L", "R"), ("P", "A"), ("I", "S"))


def _as_float_vector(value: object, name: str, length: int | None) -> tuple[float, ...]:
    try:
        array = np.asarray(value, dtype=float).reshape(-1)
    except (TypeError, ValueError) as error:
        raise TypeError(f"`{name}` must be a sequence of numbers, got {value!r}") from error
    if length is not None and array.size != length:
        raise ValueError(f"`{name}` must have {length} values, got {array.size}: {value!r}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` must be finite, got {value!r}")
    return tuple(float(v) for v in array)


@dataclass(frozen=True)
class Geometry:
    """Voxel grid placement in physical space (mm), in array-axis order.

    Parameters
    ----------
    spacing : sequence of float, length n
        Voxel size in mm along each array axis, ``(D, H, W)`` or ``(H, W)``.
    origin : sequence of float, length n, optional
        Physical position (x, y, z) in mm, LPS, of the voxel with index 0.
        Default: zeros.
    direction : (n, n) array_like, optional
        Column ``a`` is the unit vector (LPS, x-y-z order) of array axis ``a``.
        Default: the identity for the array order, that is array axis ``a``
        points along physical axis ``n - 1 - a`` (W along x, H along y, D
        along z), as SimpleITK lays out an image with identity direction.

    Raises
    ------
    ValueError
        If spacing is not finite and positive, if lengths disagree, or if the
        direction is not orthonormal.

    Examples
    --------
    >>> g = Geometry(spacing=(2.0, 1.0, 1.0))
    >>> g.index_to_physical([[1, 0, 0]]).tolist()
    [[0.0, 0.0, 2.0]]
    >>> g.orientation
    'LPS'
    """

    spacing: tuple[float, ...]
    origin: tuple[float, ...] = ()
    direction: tuple[tuple[float, ...], ...] = ()

    def __post_init__(self) -> None:
        spacing = _as_float_vector(self.spacing, "spacing", None)
        n = len(spacing)
        if n not in (2, 3):
            raise ValueError(f"`spacing` must have 2 or 3 values (one per spatial axis), got {n}")
        if any(s <= 0 for s in spacing):
            raise ValueError(f"`spacing` must be > 0 mm on every axis, got {spacing}")
        origin = (0.0,) * n if len(self.origin) == 0 else _as_float_vector(self.origin, "origin", n)
        if len(self.direction) == 0:
            direction_matrix = np.eye(n)[:, ::-1]
        else:
            direction_matrix = np.asarray(self.direction, dtype=float)
            if direction_matrix.size != n * n:
                raise ValueError(
                    f"`direction` must be a {n}x{n} matrix, got shape {direction_matrix.shape}"
                )
            direction_matrix = direction_matrix.reshape(n, n)
            if not np.all(np.isfinite(direction_matrix)):
                raise ValueError(f"`direction` must be finite, got {direction_matrix.tolist()}")
            error = np.abs(direction_matrix.T @ direction_matrix - np.eye(n)).max()
            if error > _ORTHONORMAL_TOLERANCE:
                raise ValueError(
                    "`direction` must be orthonormal (D^T D = I within "
                    f"{_ORTHONORMAL_TOLERANCE}), got {direction_matrix.tolist()} "
                    f"with max deviation {error:.3g}"
                )
        object.__setattr__(self, "spacing", spacing)
        object.__setattr__(self, "origin", origin)
        object.__setattr__(
            self, "direction", tuple(tuple(float(v) for v in row) for row in direction_matrix)
        )

    # Construction ---------------------------------------------------------

    @classmethod
    def identity(cls, ndim: int) -> Geometry:
        """Build a unit-spacing geometry with zero origin and identity direction."""
        if ndim not in (2, 3):
            raise ValueError(f"`ndim` must be 2 or 3, got {ndim}")
        return cls(spacing=(1.0,) * ndim)

    @classmethod
    def from_affine(cls, affine: np.ndarray) -> Geometry:
        """Build a geometry from a ``(n+1, n+1)`` index-to-LPS affine in array order."""
        affine = np.asarray(affine, dtype=float)
        n = affine.shape[0] - 1
        if affine.shape != (n + 1, n + 1) or n not in (2, 3):
            raise ValueError(f"`affine` must be 3x3 or 4x4, got shape {affine.shape}")
        linear = affine[:n, :n]
        spacing = np.linalg.norm(linear, axis=0)
        if np.any(spacing <= 0):
            raise ValueError(f"`affine` has a zero-length axis: {affine.tolist()}")
        return cls(spacing=spacing, origin=affine[:n, n], direction=linear / spacing)

    @classmethod
    def from_sitk_parameters(
        cls, spacing: Sequence[float], origin: Sequence[float], direction: Sequence[float]
    ) -> Geometry:
        """Build a geometry from SimpleITK's (x, y, z)-ordered spacing, origin and direction."""
        n = len(spacing)
        itk_direction = np.asarray(direction, dtype=float).reshape(n, n)
        return cls(
            spacing=tuple(reversed(tuple(spacing))),
            origin=tuple(origin),
            direction=itk_direction[:, ::-1],
        )

    def to_sitk_parameters(self) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
        """Return SimpleITK's ``(spacing, origin, direction)`` in its (x, y, z) axis order."""
        itk_direction = self.direction_matrix[:, ::-1]
        return (
            tuple(reversed(self.spacing)),
            self.origin,
            tuple(float(v) for v in itk_direction.reshape(-1)),
        )

    def replace(self, **changes: object) -> Geometry:
        """Return a copy with some of ``spacing``, ``origin`` or ``direction`` replaced."""
        values = {"spacing": self.spacing, "origin": self.origin, "direction": self.direction}
        unknown = set(changes) - set(values)
        if unknown:
            raise TypeError(f"Geometry.replace got unknown fields {sorted(unknown)}")
        values.update(changes)
        return Geometry(**values)  # type: ignore[arg-type]

    # Properties -----------------------------------------------------------

    @property
    def ndim(self) -> int:
        """Number of spatial axes."""
        return len(self.spacing)

    @property
    def direction_matrix(self) -> np.ndarray:
        """Direction cosines as an ``(n, n)`` float64 array, columns per array axis."""
        return np.asarray(self.direction, dtype=float)

    @property
    def affine(self) -> np.ndarray:
        """Homogeneous ``(n+1, n+1)`` map from array indices to LPS mm."""
        n = self.ndim
        matrix = np.eye(n + 1)
        matrix[:n, :n] = self.direction_matrix * np.asarray(self.spacing)
        matrix[:n, n] = self.origin
        return matrix

    @property
    def orientation(self) -> str:
        """Orientation code in nibabel's RAS+ convention, in file (i, j, k) order.

        For a 3D image read from a NIfTI file this equals
        ``"".join(nibabel.aff2axcodes(nifti.affine))``. For 2D images the two
        letters come from the in-plane (x, y) components.
        """
        return orientation_code_from_direction(self.direction_matrix[:, ::-1])

    @property
    def axis_codes(self) -> tuple[str, ...]:
        """RAS+ letter of each array axis, in array order (reverse of :attr:`orientation`)."""
        return tuple(reversed(self.orientation))

    # Mapping --------------------------------------------------------------

    def index_to_physical(self, indices: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """Map continuous array indices ``(N, n)`` to physical LPS points ``(N, n)`` in mm."""
        points = np.asarray(indices, dtype=float)
        self._check_points(points, "indices")
        linear = self.direction_matrix * np.asarray(self.spacing)
        return points @ linear.T + np.asarray(self.origin)

    def physical_to_index(self, points: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """Map physical LPS points ``(N, n)`` in mm to continuous array indices ``(N, n)``."""
        points = np.asarray(points, dtype=float)
        self._check_points(points, "points")
        # Direction is orthonormal, so its inverse is its transpose.
        relative = points - np.asarray(self.origin)
        return (relative @ self.direction_matrix) / np.asarray(self.spacing)

    def extent_mm(self, shape: Sequence[int]) -> tuple[float, ...]:
        """Return the field of view in mm along each array axis for a grid of ``shape``."""
        if len(shape) != self.ndim:
            raise ValueError(f"`shape` must have {self.ndim} axes, got {tuple(shape)}")
        return tuple(n * s for n, s in zip(shape, self.spacing))

    def center(self, shape: Sequence[int]) -> np.ndarray:
        """Return the physical position (mm) of the centre of a grid of ``shape``."""
        middle = (np.asarray(shape, dtype=float) - 1.0) / 2.0
        return self.index_to_physical(middle[None, :])[0]

    def _check_points(self, points: np.ndarray, name: str) -> None:
        if points.ndim != 2 or points.shape[1] != self.ndim:
            raise ValueError(f"`{name}` must have shape (N, {self.ndim}), got {points.shape}")

    def isclose(self, other: Geometry, *, tolerance: float = 1e-6) -> bool:
        """Return True when both geometries agree within ``tolerance`` (relative for spacing)."""
        if self.ndim != other.ndim:
            return False
        spacing_ok = np.allclose(self.spacing, other.spacing, rtol=tolerance, atol=0)
        origin_ok = np.allclose(self.origin, other.origin, rtol=0, atol=tolerance * 1e3)
        direction_ok = np.allclose(self.direction, other.direction, rtol=0, atol=tolerance)
        return bool(spacing_ok and origin_ok and direction_ok)


def orientation_code_from_direction(file_order_direction: np.ndarray) -> str:
    """Return the RAS+ orientation code of LPS direction columns in file order.

    Parameters
    ----------
    file_order_direction : (n, n) array
        Column ``a`` is the LPS unit vector of file axis ``a`` (ITK order).

    Returns
    -------
    str
        One letter per file axis naming the direction towards which it
        increases, as ``nibabel.aff2axcodes`` does.
    """
    matrix = np.asarray(file_order_direction, dtype=float)
    n = matrix.shape[0]
    # LPS -> RAS flips the first two physical axes.
    ras = matrix.copy()
    ras[:2, :] *= -1.0
    letters = []
    used: set[int] = set()
    # Assign each file axis the physical axis it points along most, resolving
    # ties in favour of the axis with the largest absolute component first.
    order = np.argsort(-np.max(np.abs(ras), axis=0), kind="stable")
    assigned: dict[int, str] = {}
    for column in order:
        magnitudes = np.abs(ras[:, column]).copy()
        for taken in used:
            magnitudes[taken] = -math.inf
        physical = int(np.argmax(magnitudes))
        used.add(physical)
        negative, positive = _RAS_LETTERS[physical]
        assigned[int(column)] = positive if ras[physical, column] > 0 else negative
    for column in range(n):
        letters.append(assigned[column])
    return "".join(letters)
