"""Procedural head phantom with a folded cortex, deep grey matter, lateral ventricles and lesions.

The head is an implicit model (see :class:`ProceduralHead`): its layers are
offsets below a smoothly deformed ellipsoidal skin, and the brain inside
them has a grey-matter ribbon of set thickness around sulci, the
interhemispheric fissure and the brain surface. This is a coarse
anatomical model for simulation and augmentation, not an atlas. For a
head of nested ellipsoids with an exact analytic k-space, see
:func:`~medaug.phantoms.generators.layered_head.layered_head`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch

from medaug.phantoms.functional.anatomy import MONOMIAL_COUNT, fibonacci_sphere, monomials
from medaug.phantoms.generators.common import check_generator, check_range
from medaug.phantoms.generators.head_model import HEAD_LABELS, ProceduralHead
from medaug.phantoms.generators.head_shapes import (
    deep_nuclei,
    draw_lesions,
    sylvian_fissures,
    ventricle_segments,
)
from medaug.phantoms.primitives import rotation_z
from medaug.phantoms.tissues import mr_parameter

__all__ = ["HEAD_LABELS", "HeadParameters", "ProceduralHead", "check_head_arguments", "procedural_head"]

# Semi-axes (mm) of the brain surface that the deep structures' coordinates
# in head_shapes.py were written for; other brains scale them per axis.
REFERENCE_BRAIN_MM = np.array([60.0, 80.0, 70.0])

# Number of plane waves in the sulcal field, and their spread of frequency.
_SULCAL_WAVES = 48
_SULCAL_FREQUENCY_SPREAD = 0.15

# Zero crossings of an isotropic 2D field of one spatial frequency k
# (cycles/mm) lie on average pi / (4 k) apart along a line (Rice's formula
# averaged over directions), so spacing S needs k = pi / (4 S). On the brain
# the waves are partly radial, which widened the spacing: measured along 18
# axial curves 2 mm below the brain surface of 6 heads, pi / 4 gave 14.9 mm
# for 14 mm, hence the factor 1.06.
_SPACING_FACTOR = 1.06 * math.pi / 4.0

# Sulci bend by this fraction of a wavelength over one sulcal depth.
_BEND_CYCLES = 0.45

# Relative amplitude of the smooth fields: head radius (set by `jitter`),
# fat, skull and CSF thickness, sulcal depth.
_MODULATION = (0.3, 0.2, 0.35, 0.35)

# Standard deviation (degrees) of the head's turn about z (yaw) and x (pitch).
_YAW_SD_DEG = 3.0
_PITCH_SD_DEG = 3.0

# Directions on which the smooth fields are normalised to zero mean, unit RMS.
_NORMALISATION_POINTS = 2000


@dataclass(frozen=True)
class HeadParameters:
    """Anatomical parameters of a procedural head (mm unless stated).

    Parameters
    ----------
    head_semi_axes_mm : (float, float, float), default (75, 95, 85)
        Outer semi-axes of the scalp along x (left-right), y
        (anterior-posterior) and z (inferior-superior).
    skin_thickness_mm, fat_thickness_mm : float, default 2, 3
        Scalp layers; the fat varies by about +-30 % over the head.
    skull_thickness_mm : float, default 7
        Outer table, diploe (marrow) and inner table in proportions 0.3,
        0.4, 0.3; it varies by about +-20 % over the head.
    csf_thickness_mm : float, default 3
        Subarachnoid CSF between skull and brain surface (+-35 %).
    cortical_thickness_mm : float, default 2.5
        Grey-matter ribbon thickness: every cortical point lies within
        this distance of CSF (brain surface, sulcus or fissure).
    ventricle_scale : float, default 1.0
        Size factor of the lateral and third ventricles: their radii grow as
        ``ventricle_scale**1.25`` and their length as ``ventricle_scale**0.5``,
        so their volume grows about as ``ventricle_scale**3``.
    lesion_count : (int, int), default (0, 4)
        Inclusive range of the number of white-matter lesions.
    lesion_radius_mm : (float, float), default (2, 8)
        Range of lesion semi-axes.
    lesion_contrast : (float, float), default (0.7, 1.3)
        Range of each lesion's value relative to the lesion tissue's proton density.
    jitter : float, default 0.03
        Relative random perturbation of the head's semi-axes and of its
        radius over directions.
    sulcus_spacing_mm : float, default 14
        Typical distance between neighbouring sulci along the brain surface.
    sulcus_depth_mm : float, default 10
        Mean depth of the sulci below the brain surface (+-35 % by region);
        0 gives a smooth cortex.
    sulcal_csf_mm : float, default 1.2
        Width of the CSF inside each sulcus.
    fissure_width_mm : float, default 2.5
        Width of the CSF of the interhemispheric fissure.
    slice_z_mm : (float, float), default (5, 35)
        Range of the height of a 2D head's axial plane above the head
        centre (drawn uniformly); 0 is near the level of the basal ganglia,
        +20 cuts the bodies of the lateral ventricles.
    """

    head_semi_axes_mm: tuple[float, float, float] = (75.0, 95.0, 85.0)
    skin_thickness_mm: float = 2.0
    fat_thickness_mm: float = 3.0
    skull_thickness_mm: float = 7.0
    csf_thickness_mm: float = 3.0
    cortical_thickness_mm: float = 2.5
    ventricle_scale: float = 1.0
    lesion_count: tuple[int, int] = (0, 4)
    lesion_radius_mm: tuple[float, float] = (2.0, 8.0)
    lesion_contrast: tuple[float, float] = (0.7, 1.3)
    jitter: float = 0.03
    sulcus_spacing_mm: float = 14.0
    sulcus_depth_mm: float = 10.0
    sulcal_csf_mm: float = 1.2
    fissure_width_mm: float = 2.5
    slice_z_mm: tuple[float, float] = (5.0, 35.0)

    def __post_init__(self) -> None:
        axes = np.asarray(self.head_semi_axes_mm, dtype=float)
        if axes.shape != (3,) or not np.all(np.isfinite(axes)) or np.any(axes <= 0):
            raise ValueError(f"`head_semi_axes_mm` must be 3 values > 0, got {self.head_semi_axes_mm!r}")
        for name in ("skin_thickness_mm", "fat_thickness_mm", "skull_thickness_mm", "csf_thickness_mm",
                     "cortical_thickness_mm", "ventricle_scale", "sulcus_spacing_mm", "sulcal_csf_mm",
                     "fissure_width_mm"):
            _check_number(getattr(self, name), name, strict=True)
        _check_number(self.sulcus_depth_mm, "sulcus_depth_mm", strict=False)
        if not (isinstance(self.jitter, (int, float)) and 0 <= self.jitter < 0.2):
            raise ValueError(f"`jitter` must be in [0, 0.2), got {self.jitter!r}")
        low, high = (int(v) for v in self.lesion_count)
        if low < 0 or high < low:
            raise ValueError(f"`lesion_count` must be a range 0 <= min <= max, got {self.lesion_count!r}")
        check_range(self.lesion_radius_mm, "lesion_radius_mm")
        check_range(self.lesion_contrast, "lesion_contrast")
        check_range(self.slice_z_mm, "slice_z_mm", low=-math.inf)
        depth = (self.skin_thickness_mm + self.fat_thickness_mm + self.skull_thickness_mm
                 + self.csf_thickness_mm + self.cortical_thickness_mm)
        if depth >= 0.6 * axes.min():
            raise ValueError(
                f"the layers ({depth:g} mm in total) leave too little white matter inside a head "
                f"of semi-axes {tuple(axes)}; reduce the thicknesses or enlarge the head"
            )

    @property
    def brain_semi_axes_mm(self) -> np.ndarray:
        """Semi-axes (mm) of the brain surface before random changes."""
        layers = self.skin_thickness_mm + self.fat_thickness_mm + self.skull_thickness_mm + self.csf_thickness_mm
        return np.asarray(self.head_semi_axes_mm, dtype=float) - layers


def _check_number(value: object, name: str, *, strict: bool) -> None:
    valid = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not valid or value < 0 or (strict and value == 0):
        relation = ">" if strict else ">="
        raise ValueError(f"`{name}` must be {relation} 0, got {value!r}")


def check_head_arguments(
    rng: np.random.Generator, parameters: HeadParameters | None, ndim: int
) -> tuple[np.random.Generator, HeadParameters]:
    """Check the arguments common to the head generators; return the generator and parameters.

    ``parameters`` None gives the default :class:`HeadParameters`.
    """
    rng = check_generator(rng)
    parameters = HeadParameters() if parameters is None else parameters
    if not isinstance(parameters, HeadParameters):
        raise TypeError(f"`parameters` must be HeadParameters, got {type(parameters).__name__}")
    if ndim not in (2, 3):
        raise ValueError(f"`ndim` must be 2 or 3, got {ndim!r}")
    return rng, parameters


def procedural_head(
    rng: np.random.Generator,
    parameters: HeadParameters | None = None,
    *,
    ndim: int = 3,
    field_strength_t: float = 3.0,
) -> ProceduralHead:
    """Draw a procedural head with tissue labels :data:`HEAD_LABELS`.

    The model, in the head frame (x left, y posterior, z superior, mm):

    * Skin surface: an ellipsoid, wider at the back (egg-shaped), whose
      radius is modulated by a smooth random field of the direction (a
      random polynomial of degree 3, i.e. spherical harmonics up to
      degree 3). Skin, subcutaneous fat, outer table, diploe (bone
      marrow), inner table and subarachnoid CSF are layers at increasing
      depth below it, their thicknesses modulated by further smooth fields.
    * Cortex: sulci are the zero set of a band-limited random field of the
      direction from the head centre (a sum of plane waves of one spatial
      frequency). They stop at a depth that varies by region and hold CSF
      of width ``sulcal_csf_mm``. The interhemispheric
      fissure is a midline CSF sheet from the top of the brain down to the
      corpus callosum (and to the base in front of and behind it). Brain
      points closer than ``cortical_thickness_mm`` to CSF are grey matter,
      the others white matter. Each Sylvian fissure is a CSF sheet along
      the insula joined to the lateral surface by a vertical sheet.
    * Deep grey matter: caudate (head and body), lentiform nucleus and
      thalamus on each side, as ellipsoids in white matter.
    * Ventricles: each lateral ventricle is a tapered tube along a curved
      centre line (frontal horn, body, atrium, occipital and temporal
      horns), with the septum between them; the third ventricle is a
      midline slit. Random shifts make the two sides differ.
    * Lesions: ellipsoids whose boundary lies in white matter, labelled
      only where they cover white matter.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (shape, orientation, folding, deep structures,
        plane of a 2D head, lesions).
    parameters : HeadParameters, optional
        Anatomy; default :class:`HeadParameters()`.
    ndim : {2, 3}, default 3
        3D head, or an axial plane of it at a random height in
        ``parameters.slice_z_mm``. The same seed gives the same anatomy in
        both, except the lesions, which a 2D head centres on its plane.
    field_strength_t : float, default 3.0
        Field at which :meth:`ProceduralHead.rasterize` looks up proton
        densities.

    Returns
    -------
    ProceduralHead
        Labels through :meth:`~ProceduralHead.label_map`, partial volume
        through :meth:`~ProceduralHead.tissue_fractions`; it has no analytic
        k-space.

    Examples
    --------
    >>> head = procedural_head(np.random.default_rng(1), ndim=2)
    >>> head.labels[:3]
    ('background', 'skin', 'fat')
    >>> sorted(head.label_map((64, 64), 220.0).labels)
    [0, 1, 2, 3, 4, 5, 6, 7, 8]
    """
    rng, parameters = check_head_arguments(rng, parameters, ndim)

    rotation = rotation_z(rng.normal(0.0, _YAW_SD_DEG)) @ _rotation_x(rng.normal(0.0, _PITCH_SD_DEG))
    axes = np.asarray(parameters.head_semi_axes_mm) * (1.0 + parameters.jitter * rng.uniform(-1, 1, 3))
    egg = float(rng.uniform(0.02, 0.08))
    coefficients, offsets = _smooth_fields(rng, 5)
    brain = axes - (np.asarray(parameters.head_semi_axes_mm) - parameters.brain_semi_axes_mm)
    frequencies, phases, bend = _sulcal_waves(rng, parameters, brain)
    size = brain / REFERENCE_BRAIN_MM
    nuclei = deep_nuclei(rng, size)
    segments, callosum = ventricle_segments(rng, size, parameters.ventricle_scale)
    sylvian = sylvian_fissures(rng, size)
    slice_z = float(rng.uniform(*parameters.slice_z_mm))

    skull = parameters.skull_thickness_mm
    values = tuple((t, float(mr_parameter(t, "proton_density", field_strength_t))) for t in HEAD_LABELS)
    head = ProceduralHead(
        ndim=ndim,
        slice_z_mm=slice_z,
        rotation=_tuples(rotation),
        head_semi_axes_mm=tuple(float(a) for a in axes),
        egg=egg,
        layer_thickness_mm=(parameters.skin_thickness_mm, parameters.fat_thickness_mm, 0.3 * skull,
                            0.4 * skull, 0.3 * skull, parameters.csf_thickness_mm),
        cortical_thickness_mm=float(parameters.cortical_thickness_mm),
        shape_coefficients=_tuples(coefficients),
        shape_offsets=tuple(float(v) for v in offsets),
        shape_amplitudes=(float(parameters.jitter), *_MODULATION),
        sulcal_frequencies=_tuples(frequencies),
        sulcal_phases=tuple(float(v) for v in phases),
        sulcus_depth_mm=float(parameters.sulcus_depth_mm),
        sulcal_csf_mm=float(parameters.sulcal_csf_mm),
        sulcal_bend=bend,
        fissure_width_mm=float(parameters.fissure_width_mm),
        callosum_mm=callosum,
        sylvian_mm=sylvian,
        ventricle_segments=segments,
        ventricle_margin_mm=3.0,
        nuclei=nuclei,
        lesions=(),
        tissue_values=values,
    )
    # Lesions come last so that the rest of the anatomy does not depend on them.
    lesions = draw_lesions(rng, head, parameters, dict(values)["lesion"])
    return dataclasses.replace(head, lesions=lesions)


def _tuples(array: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in np.asarray(array))


def _rotation_x(angle_deg: float) -> np.ndarray:
    """Return the 3x3 rotation about +x turning +y towards +z by ``angle_deg`` degrees."""
    angle = math.radians(float(angle_deg))
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _smooth_fields(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``count`` random polynomials of the direction, normalised to mean 0 and RMS 1 on the sphere.

    Returns the coefficients ``(19, count)`` of :func:`monomials` and the
    constant terms ``(count,)``.
    """
    coefficients = rng.normal(size=(MONOMIAL_COUNT, count))
    basis = monomials(torch.as_tensor(fibonacci_sphere(_NORMALISATION_POINTS))).numpy()
    values = basis @ coefficients
    mean, spread = values.mean(axis=0), values.std(axis=0)
    return coefficients / spread, -mean / spread


def _sulcal_waves(
    rng: np.random.Generator, parameters: HeadParameters, brain_semi_axes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """Draw the plane waves of the sulcal field (cycles per unit direction) and the bend."""
    radius = float(np.prod(brain_semi_axes) ** (1.0 / 3.0))
    frequency = _SPACING_FACTOR * radius / parameters.sulcus_spacing_mm
    directions = rng.normal(size=(_SULCAL_WAVES, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    spread = 1.0 + _SULCAL_FREQUENCY_SPREAD * rng.uniform(-1.0, 1.0, _SULCAL_WAVES)
    frequencies = directions * (frequency * spread)[:, None]
    phases = rng.uniform(0.0, 2.0 * math.pi, _SULCAL_WAVES)
    return frequencies, phases, _BEND_CYCLES / frequency
