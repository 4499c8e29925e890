"""Shepp-Logan phantoms (2D original and modified, 3D Kak-Slaney and modified) from their tables.

The tables live in ``phantoms/shepp_logan.yaml`` (installed as
``medaug.phantom_tables``) with their sources. Coordinates there are
normalised to [-1, 1] with y up; :func:`shepp_logan` scales them to mm and
maps them to the LPS frame (x_LPS = s x, y_LPS = -s y, z_LPS = s z), so a
grid with identity direction shows the phantom as its source draws it.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import numpy as np

from medaug.phantoms.phantom import Phantom
from medaug.phantoms.primitives import Primitive, euler_zxz_matrix, rotation_2d, rotation_z

__all__ = ["SHEPP_LOGAN_VARIANTS", "shepp_logan", "shepp_logan_table"]

#: Variant names, as keys of ``phantoms/shepp_logan.yaml``.
SHEPP_LOGAN_VARIANTS = ("original_2d", "modified_2d", "kak_slaney_3d", "modified_3d")

# Reflection y -> -y between the published frame (y up) and LPS (y posterior).
_FLIP_2D = np.diag([1.0, -1.0])
_FLIP_3D = np.diag([1.0, -1.0, 1.0])


@functools.cache
def _tables() -> dict[str, Any]:
    import yaml

    text = resources.files("medaug.phantom_tables").joinpath("shepp_logan.yaml").read_text()
    return yaml.safe_load(text)


def shepp_logan_table(variant: str) -> dict[str, Any]:
    """Return the published table of ``variant`` (a copy of the YAML entry)."""
    tables = _tables()
    if variant not in tables:
        raise ValueError(f"`variant` must be one of {list(SHEPP_LOGAN_VARIANTS)}, got {variant!r}")
    entry = dict(tables[variant])
    entry["ellipses"] = [list(row) for row in entry["ellipses"]]
    return entry


def _ellipse_2d(row: list[float], scale: float) -> Primitive:
    cx, cy, ax, ay, angle, value = row
    rotation = _FLIP_2D @ rotation_2d(angle) @ _FLIP_2D
    center = _FLIP_2D @ np.array([cx, cy]) * scale
    return Primitive("ellipse", center, (ax * scale, ay * scale), rotation, value)


def _ellipsoid_3d(row: list[float], rotation_kind: str, scale: float) -> Primitive:
    if rotation_kind == "angle_z_deg":
        cx, cy, cz, ax, ay, az, angle, value = row
        rotation = rotation_z(angle)
        center = np.array([cx, cy, cz])
    elif rotation_kind == "euler_zxz_deg":
        cx, cy, cz, ax, ay, az, phi, theta, psi, value = row
        alpha = euler_zxz_matrix(phi, theta, psi)
        rotation = alpha.T
        center = alpha.T @ np.array([cx, cy, cz])
    else:
        raise ValueError(f"unknown rotation convention {rotation_kind!r} in shepp_logan.yaml")
    rotation = _FLIP_3D @ rotation @ _FLIP_3D
    center = _FLIP_3D @ center * scale
    return Primitive("ellipsoid", center, (ax * scale, ay * scale, az * scale), rotation, value)


def shepp_logan(variant: str = "modified_2d", *, scale_mm: float = 1.0) -> Phantom:
    """Build a Shepp-Logan phantom as an additive :class:`Phantom` of ellipses or ellipsoids.

    Parameters
    ----------
    variant : {"original_2d", "modified_2d", "kak_slaney_3d", "modified_3d"}
        Which published table to use (see ``phantoms/shepp_logan.yaml``).
    scale_mm : float, default 1.0
        Length in mm of one normalised unit: the phantom fits in a square
        (cube) of side ``2 * scale_mm`` centred on 0 mm.

    Returns
    -------
    Phantom
        Mode ``"add"``; values as published, no tissue classes.

    References
    ----------
    .. [1] L. A. Shepp and B. F. Logan, "The Fourier reconstruction of a head
       section", IEEE Trans. Nucl. Sci. 21(3):21-43, 1974.
       doi:10.1109/TNS.1974.6499235
    .. [2] P. Toft, "The Radon Transform: Theory and Implementation", PhD
       thesis, Technical University of Denmark, 1996.
    .. [3] A. C. Kak and M. Slaney, "Principles of Computerized Tomographic
       Imaging", IEEE Press, 1988. doi:10.1137/1.9780898719277

    Examples
    --------
    >>> phantom = shepp_logan("modified_2d", scale_mm=128.0)
    >>> image = phantom.rasterize((8, 8), 256.0)
    >>> round(float(image.data[0, 4, 4]), 3)  # the centre of the interior
    0.2
    """
    if not (isinstance(scale_mm, (int, float)) and np.isfinite(scale_mm) and scale_mm > 0):
        raise ValueError(f"`scale_mm` must be a finite number > 0, got {scale_mm!r}")
    table = shepp_logan_table(variant)
    rows = table["ellipses"]
    if table["ndim"] == 2:
        primitives = [_ellipse_2d(row, float(scale_mm)) for row in rows]
    else:
        primitives = [_ellipsoid_3d(row, table["rotation"], float(scale_mm)) for row in rows]
    return Phantom(primitives, mode="add", name=f"shepp_logan_{variant}")
