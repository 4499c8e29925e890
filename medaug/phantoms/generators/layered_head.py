"""Layered head phantom: nested ellipsoids for scalp, skull, CSF, grey and white matter.

Layers are nested ellipsoids (ellipses in 2D) painted from the outside in,
so the phantom is laminar and keeps an exact analytic k-space and
sinogram. The cortex is a smooth shell of constant thickness (no gyri),
and the lateral ventricles are two ellipsoids. Use it where measurements
must come from the object itself (no inverse crime); the folded
:func:`~medaug.phantoms.generators.head.procedural_head` has to be
rasterised first. Of :class:`HeadParameters` it uses the head size, the
layer thicknesses, ``ventricle_scale``, the lesion ranges and ``jitter``.
"""

from __future__ import annotations

import math

import numpy as np

from medaug.phantoms.generators.head import HeadParameters, check_head_arguments
from medaug.phantoms.generators.head_model import HEAD_LABELS
from medaug.phantoms.phantom import Phantom
from medaug.phantoms.primitives import Primitive, rotation_2d, rotation_z
from medaug.phantoms.tissues import mr_parameter

__all__ = ["layered_head"]

# Attempts to place one lesion before giving up on it.
_LESION_ATTEMPTS = 200


def _layer(center: np.ndarray, axes: np.ndarray, rotation: np.ndarray, tissue: str,
           value: float) -> Primitive:
    kind = "ellipse" if len(center) == 2 else "ellipsoid"
    return Primitive(kind, center, axes, rotation, value, tissue)


def layered_head(
    rng: np.random.Generator,
    parameters: HeadParameters | None = None,
    *,
    ndim: int = 3,
    field_strength_t: float = 3.0,
) -> Phantom:
    """Draw a layered head phantom in paint mode with tissue labels :data:`HEAD_LABELS`.

    Each primitive's ``value`` is its tissue's proton density at
    ``field_strength_t`` (lesions: times a random contrast factor), so
    ``phantom.rasterize()`` gives a proton-density image. Tissue-based maps
    come from :func:`medaug.phantoms.mr_parameter_maps` and
    :func:`medaug.phantoms.hounsfield_map`.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (layer jitter, head orientation, lesions).
    parameters : HeadParameters, optional
        Anatomy; default :class:`HeadParameters()`.
    ndim : {2, 3}, default 3
        3D head, or its axial slice through the ventricles (z = +12 mm).
    field_strength_t : float, default 3.0
        Field at which proton densities are looked up.

    Returns
    -------
    Phantom
        Mode ``"paint"``, laminar (nested or disjoint shapes), so
        :meth:`Phantom.kspace` is exact.

    Examples
    --------
    >>> head = layered_head(np.random.default_rng(1), ndim=2)
    >>> head.labels[:3]
    ('background', 'skin', 'fat')
    """
    rng, parameters = check_head_arguments(rng, parameters, ndim)

    yaw = rng.normal(0.0, 3.0)
    rotation = rotation_z(yaw) if ndim == 3 else rotation_2d(yaw)
    slice_z = 12.0
    center = np.zeros(ndim)

    depths = np.cumsum([
        0.0,
        parameters.skin_thickness_mm,
        parameters.fat_thickness_mm,
        0.3 * parameters.skull_thickness_mm,
        0.4 * parameters.skull_thickness_mm,
        0.3 * parameters.skull_thickness_mm,
        parameters.csf_thickness_mm,
        parameters.cortical_thickness_mm,
    ])
    tissues = ["skin", "fat", "cortical_bone", "bone_marrow", "cortical_bone", "csf",
               "grey_matter", "white_matter"]
    outer = np.asarray(parameters.head_semi_axes_mm) * (1.0 + parameters.jitter * rng.uniform(-1, 1, 3))
    shapes: list[Primitive] = []
    for depth, tissue in zip(depths, tissues):
        axes3 = outer - depth
        axes = axes3 if ndim == 3 else _slice_axes(axes3, slice_z)
        value = mr_parameter(tissue, "proton_density", field_strength_t)
        shapes.append(_layer(center, axes, rotation, tissue, value))
    white_matter = shapes[-1]

    ventricles = _ventricles(parameters, rotation, ndim, slice_z, field_strength_t)
    shapes.extend(ventricles)
    shapes.extend(_lesions(rng, parameters, white_matter, ventricles, field_strength_t))
    return Phantom(shapes, mode="paint", labels=HEAD_LABELS, name="layered_head")


def _slice_axes(axes3: np.ndarray, z: float) -> np.ndarray:
    """Semi-axes of the ellipse cut from an ellipsoid at height ``z``."""
    factor = math.sqrt(max(1.0 - (z / axes3[2]) ** 2, 0.0))
    return axes3[:2] * factor


def _ventricles(parameters: HeadParameters, rotation: np.ndarray, ndim: int, slice_z: float,
                field_strength_t: float) -> list[Primitive]:
    scale = parameters.ventricle_scale
    axes3 = np.array([5.0, 22.0, 9.0]) * scale  # lateral ventricle body, mm
    value = mr_parameter("csf", "proton_density", field_strength_t)
    shapes = []
    for side in (-1.0, 1.0):
        # 1.5 mm of septum between the two ventricles keeps them disjoint.
        center3 = np.array([side * (axes3[0] + 1.5), -4.0, 14.0])
        if ndim == 3:
            shapes.append(_layer(rotation @ center3, axes3, rotation, "csf", value))
            continue
        offset = (slice_z - center3[2]) / axes3[2]
        if abs(offset) >= 1.0:
            continue
        axes2 = axes3[:2] * math.sqrt(1.0 - offset**2)
        shapes.append(_layer(rotation @ center3[:2], axes2, rotation, "csf", value))
    return shapes


def _lesions(rng: np.random.Generator, parameters: HeadParameters, white_matter: Primitive,
             ventricles: list[Primitive], field_strength_t: float) -> list[Primitive]:
    ndim = white_matter.ndim
    low, high = (int(v) for v in parameters.lesion_count)
    count = int(rng.integers(low, high + 1))
    radius_low, radius_high = parameters.lesion_radius_mm
    contrast_low, contrast_high = parameters.lesion_contrast
    density = mr_parameter("lesion", "proton_density", field_strength_t)
    lesions: list[Primitive] = []
    for _ in range(count):
        for _attempt in range(_LESION_ATTEMPTS):
            axes = rng.uniform(radius_low, radius_high, size=ndim)
            center = rng.uniform(-1.0, 1.0, size=ndim) * np.asarray(white_matter.semi_axes) * 0.8
            angle = rng.uniform(0.0, 360.0)
            rotation = rotation_z(angle) if ndim == 3 else rotation_2d(angle)
            value = density * rng.uniform(contrast_low, contrast_high)
            candidate = _layer(center, axes, rotation, "lesion", value)
            if _fits(candidate, white_matter, ventricles + lesions):
                lesions.append(candidate)
                break
    return lesions


def _fits(candidate: Primitive, container: Primitive, others: list[Primitive]) -> bool:
    """True when ``candidate`` (with a 10 % margin) lies in ``container`` and clear of ``others``."""
    margin = candidate.replace(semi_axes=tuple(1.1 * a for a in candidate.semi_axes))
    if not np.all(container.contains(margin.boundary_points(128))):
        return False
    reach = max(margin.semi_axes)
    for other in others:
        distance = np.linalg.norm(np.asarray(other.center) - np.asarray(candidate.center))
        if distance <= reach + max(other.semi_axes):
            return False
    return True
