"""Deep structures of the procedural head: basal ganglia, thalami, ventricles, corpus callosum, lesions.

Positions are in the head frame in mm: x left, y posterior, z superior,
with z = 0 near the level of the anterior and posterior commissures. They
are written for a brain of semi-axes 60 x 80 x 70 mm and scale per axis
with the drawn brain. They
are rounded estimates of adult anatomy chosen to look right in axial
slices, not measurements taken from an atlas.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from medaug.phantoms.primitives import Primitive, rotation_z

if TYPE_CHECKING:
    from medaug.phantoms.generators.head import HeadParameters
    from medaug.phantoms.generators.head_model import ProceduralHead

__all__ = ["deep_nuclei", "draw_lesions", "sylvian_fissures", "ventricle_segments"]

# Left-side grey-matter nuclei: centre (x, y, z) and semi-axes, mm.
_NUCLEI = (
    ((12.0, -17.0, 11.0), (5.0, 10.0, 9.0)),   # caudate head
    ((14.5, 2.0, 19.0), (3.0, 11.0, 4.0)),     # caudate body
    ((25.0, -2.0, 2.0), (5.5, 15.0, 10.0)),    # lentiform nucleus (putamen and pallidum)
    ((9.0, 12.0, 6.0), (7.0, 13.0, 9.0)),      # thalamus
)

# Left lateral ventricle: control points (x, y, z) and radii along x, y, z, mm.
_LATERAL_VENTRICLE = {
    "frontal_tip": ((5.5, -30.0, 10.0), (2.5, 3.0, 4.5)),
    "frontal": ((6.5, -22.0, 12.0), (4.0, 4.0, 7.0)),
    "body_front": ((6.5, -8.0, 16.0), (3.5, 4.0, 5.5)),
    "body": ((8.0, 6.0, 18.0), (3.5, 4.0, 5.0)),
    "body_back": ((11.0, 18.0, 17.0), (4.0, 4.0, 5.0)),
    "atrium": ((18.0, 30.0, 12.0), (6.0, 6.0, 7.0)),
    "occipital": ((17.0, 42.0, 10.0), (3.0, 3.0, 3.5)),
    "occipital_tip": ((14.0, 52.0, 9.0), (1.5, 2.0, 2.0)),
    "temporal": ((27.0, 24.0, 0.0), (4.0, 4.0, 4.0)),
    "temporal_middle": ((30.0, 12.0, -10.0), (3.0, 3.0, 3.0)),
    "temporal_tip": ((30.0, 0.0, -16.0), (2.0, 2.0, 2.5)),
}
_CHAINS = (
    ("frontal_tip", "frontal", "body_front", "body", "body_back", "atrium"),
    ("atrium", "occipital", "occipital_tip"),
    ("atrium", "temporal", "temporal_middle", "temporal_tip"),
)
# Third ventricle: a midline slit from one point to another, with radii.
_THIRD_VENTRICLE = ((0.0, 0.0, 3.0), (0.0, 16.0, 3.0), (1.5, 3.0, 7.0))

# Point the ventricles grow away from, mm.
_VENTRICLE_CENTER = np.array([0.0, 8.0, 12.0])
# Exponents of the ventricle scale for the radii and for the length; 2 * 1.25 + 0.5 = 3.
_RADIUS_EXPONENT = 1.25
_LENGTH_EXPONENT = 0.5
# Half the thickness of the septum pellucidum between the lateral ventricles, mm.
_SEPTUM_HALF_MM = 1.0
# Corpus callosum arch: centre y, half length, height of its ends, rise at its middle (mm).
_CALLOSUM = (4.0, 40.0, 8.0, 14.0)

# Left Sylvian fissure: insula distance from the midline, centre y and z of
# the insular cistern, its half length (y) and half height (z) in mm, and the
# turn (degrees) of the lateral sulcus forward from the pure lateral direction.
_SYLVIAN = (36.0, -5.0, 5.0, 22.0, 12.0, 20.0)
# Bend (1/mm) of the insula, and standard deviation of the lateral sulcus's bend.
_INSULA_BEND = 0.006
_SULCUS_BEND_SD = 0.008

# Random shifts (standard deviation, mm) and relative radius changes of each side.
_SHIFT_SD_MM = 1.0
_RADIUS_SPREAD = 0.1

# Lesion candidates drawn at once, batches tried per lesion, margin on the semi-axes.
_LESION_BATCH = 16
_LESION_BATCHES = 8
_LESION_MARGIN = 1.1
# Boundary points tested per lesion candidate in a 2D and a 3D head.
_LESION_BOUNDARY_2D = 48
_LESION_BOUNDARY_3D = 96


def deep_nuclei(rng: np.random.Generator, size: np.ndarray) -> tuple[Primitive, ...]:
    """Draw the caudate, lentiform and thalamus of both sides as grey-matter ellipsoids.

    ``size`` is the brain's size per axis relative to the reference brain.
    """
    shapes = []
    for side in (1.0, -1.0):
        for center, semi_axes in _NUCLEI:
            mirrored = np.array([side * center[0], center[1], center[2]]) * size
            shift = rng.normal(0.0, _SHIFT_SD_MM, 3)
            axes = np.asarray(semi_axes) * size * (1.0 + _RADIUS_SPREAD * rng.uniform(-1, 1, 3))
            turn = rng.normal(0.0, 5.0)
            shapes.append(Primitive("ellipsoid", mirrored + shift, axes, rotation_z(turn), 1.0, "grey_matter"))
    return tuple(shapes)


def sylvian_fissures(rng: np.random.Generator, size: np.ndarray) -> tuple[tuple[float, ...], ...]:
    """Draw the left and right Sylvian fissures: the numbers of ``_SYLVIAN`` (x positive) and two bends.

    ``size`` is the brain's size per axis relative to the reference brain.
    """
    fissures = []
    for _side in (1.0, -1.0):
        insula, center_y, center_z, half_length, half_height, turn = _SYLVIAN
        shift = rng.normal(0.0, _SHIFT_SD_MM, 3)
        spread = 1.0 + _RADIUS_SPREAD * rng.uniform(-1.0, 1.0, 2)
        fissures.append((
            float(insula * size[0] + shift[0]),
            float(center_y * size[1] + shift[1]),
            float(center_z * size[2] + shift[2]),
            float(half_length * size[1] * spread[0]),
            float(half_height * size[2] * spread[1]),
            float(turn + rng.normal(0.0, 8.0)),
            _INSULA_BEND,
            float(rng.normal(0.0, _SULCUS_BEND_SD)),
        ))
    return tuple(fissures)


def _grow(point: np.ndarray, radii: np.ndarray, scale: float, lateral: bool) -> tuple[np.ndarray, np.ndarray]:
    """Move ``point`` away from the ventricle centre and widen ``radii`` for ``scale``."""
    grown = _VENTRICLE_CENTER + (point - _VENTRICLE_CENTER) * scale**_LENGTH_EXPONENT
    grown_radii = radii * scale**_RADIUS_EXPONENT
    if lateral:
        # The medial wall stays at the septum however wide the ventricle grows.
        grown[0] = max(point[0] * scale**_LENGTH_EXPONENT, _SEPTUM_HALF_MM + grown_radii[0])
    return grown, grown_radii


def ventricle_segments(
    rng: np.random.Generator, size: np.ndarray, scale: float
) -> tuple[tuple[tuple[float, ...], ...], tuple[float, float, float, float]]:
    """Draw the tube segments of the lateral and third ventricles and the corpus callosum arch.

    Returns the segments, each ``start (3), end (3), start radii (3), end
    radii (3)`` in mm, and the arch ``(y centre, half length, end height,
    rise)`` in mm, raised as the ventricles grow.
    """
    segments = []
    for side in (1.0, -1.0):
        points = {}
        for name, (point, radii) in _LATERAL_VENTRICLE.items():
            grown, grown_radii = _grow(np.asarray(point), np.asarray(radii), scale, lateral=True)
            grown = grown * size * np.array([side, 1.0, 1.0]) + rng.normal(0.0, _SHIFT_SD_MM, 3)
            grown_radii = grown_radii * size * (1.0 + _RADIUS_SPREAD * rng.uniform(-1, 1, 3))
            points[name] = (grown, grown_radii)
        for chain in _CHAINS:
            for first, second in zip(chain[:-1], chain[1:]):
                segments.append((*points[first][0], *points[second][0], *points[first][1], *points[second][1]))

    start, end, radii = (np.asarray(v) for v in _THIRD_VENTRICLE)
    start, start_radii = _grow(start, radii, scale, lateral=False)
    end, _ = _grow(end, radii, scale, lateral=False)
    segments.append((*(start * size), *(end * size), *(start_radii * size), *(start_radii * size)))

    body_point, body_radii = _LATERAL_VENTRICLE["body"]
    body_top = body_point[2] + body_radii[2]
    grown_body, grown_radii = _grow(np.asarray(body_point), np.asarray(body_radii), scale, lateral=False)
    lift = grown_body[2] + grown_radii[2] - body_top
    center, half_length, end_height, rise = _CALLOSUM
    callosum = (center * size[1], half_length * size[1], (end_height + lift) * size[2], rise * size[2])
    segments = [tuple(float(v) for v in segment) for segment in segments]
    return tuple(segments), tuple(float(v) for v in callosum)


def draw_lesions(
    rng: np.random.Generator, head: ProceduralHead, parameters: HeadParameters, density: float
) -> tuple[Primitive, ...]:
    """Draw lesion ellipsoids (physical frame) whose boundary, enlarged by 10 %, lies in white matter.

    ``head`` has no lesions yet. Candidates are drawn in batches. A lesion
    that finds no place after all batches is left out, so a head may carry
    fewer lesions than drawn. A 2D head centres its lesions on its plane.
    """
    low, high = (int(v) for v in parameters.lesion_count)
    count = int(rng.integers(low, high + 1))
    radius_low, radius_high = parameters.lesion_radius_mm
    contrast_low, contrast_high = parameters.lesion_contrast
    brain = parameters.brain_semi_axes_mm
    rotation = np.asarray(head.rotation)
    lesions: list[Primitive] = []
    for _ in range(count):
        for _batch in range(_LESION_BATCHES):
            semi_axes = rng.uniform(radius_low, radius_high, (_LESION_BATCH, 3))
            local = rng.uniform(-1.0, 1.0, (_LESION_BATCH, 3)) * brain * np.array([0.6, 0.6, 0.45])
            centers = (local + np.array([0.0, 0.0, 0.3 * brain[2]])) @ rotation.T
            if head.ndim == 2:
                centers[:, 2] = head.slice_z_mm
            angles = rng.uniform(0.0, 360.0, _LESION_BATCH)
            contrasts = rng.uniform(contrast_low, contrast_high, _LESION_BATCH)
            rotations = np.stack([rotation_z(angle) for angle in angles])
            chosen = _first_fitting(head, centers, semi_axes, rotations, lesions)
            if chosen is not None:
                lesions.append(Primitive(
                    "ellipsoid", centers[chosen], semi_axes[chosen], rotations[chosen],
                    density * contrasts[chosen], "lesion",
                ))
                break
    return tuple(lesions)


def _unit_boundary(ndim: int) -> np.ndarray:
    """Return the unit-sphere points (3D, a Fibonacci lattice) or unit-circle points (2D) tested per lesion."""
    if ndim == 2:
        angles = np.linspace(0.0, 2.0 * math.pi, _LESION_BOUNDARY_2D, endpoint=False)
        return np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], axis=1)
    index = np.arange(_LESION_BOUNDARY_3D) + 0.5
    polar = np.arccos(1.0 - 2.0 * index / _LESION_BOUNDARY_3D)
    azimuth = math.pi * (1.0 + 5.0**0.5) * index
    return np.stack([np.cos(azimuth) * np.sin(polar), np.sin(azimuth) * np.sin(polar), np.cos(polar)], axis=1)


def _first_fitting(
    head: ProceduralHead, centers: np.ndarray, semi_axes: np.ndarray, rotations: np.ndarray,
    placed: list[Primitive],
) -> int | None:
    """Return the index of the first candidate whose enlarged boundary is all white matter, clear of ``placed``.

    ``centers`` and ``semi_axes`` are ``(B, 3)`` in mm and ``rotations``
    ``(B, 3, 3)`` (columns are the axes). The boundary points and the
    centres of all candidates are labelled in one call.
    """
    unit = _unit_boundary(head.ndim)
    boundary = np.einsum("bij,bmj->bmi", rotations, unit[None] * (_LESION_MARGIN * semi_axes)[:, None, :])
    samples = np.concatenate([boundary + centers[:, None, :], centers[:, None, :]], axis=1)
    if head.ndim == 2:
        samples[:, :, 2] = head.slice_z_mm
    labels = head.label_at(samples.reshape(-1, 3)).reshape(len(centers), -1)
    fits = np.all(labels == head.label_of("white_matter"), axis=1)
    reach = _LESION_MARGIN * semi_axes.max(axis=1)
    for other in placed:
        gap = np.linalg.norm(centers - np.asarray(other.center), axis=1)
        fits &= gap > reach + _LESION_MARGIN * max(other.semi_axes)
    chosen = np.flatnonzero(fits)
    return int(chosen[0]) if chosen.size else None
