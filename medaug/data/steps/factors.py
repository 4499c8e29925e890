"""Translate sampling factors into the parameters of the steps that use them.

The ``sampling:`` section of a config draws per-sample factors
(:mod:`medaug.data.sampling`). The pipeline passes them to the source and
stores them in ``sample.metadata["factors"]`` for the simulation steps.
The functions here are the pure part of that hand-over:

* field strength, contrast, TR, TE, TI and flip angle choose the MR signal
  equation and its timing (:func:`mr_protocol`); field strength also picks
  the tissue relaxation times and scales the MR SNR (:func:`field_snr_scale`);
* head length and breadth, cortical thickness, ventricle scale, lesion count
  and lesion diameters become :class:`~medaug.phantoms.HeadParameters`
  (:func:`head_parameters`), and a water-equivalent diameter sizes the
  ellipse phantoms (:func:`object_radius_mm`);
* tube voltage gives the effective energy of the CT spectrum
  (:func:`effective_energy_kev`), and a kernel name gives the FBP filter
  (:func:`kernel_filter`).

Coil count, acceleration, SNR and dose are read by the ``mri`` and ``ct``
steps themselves.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

__all__ = [
    "MRProtocol",
    "MR_SEQUENCES",
    "PROFILE_SEQUENCES",
    "mr_protocol",
    "head_parameters",
    "object_radius_mm",
    "effective_energy_kev",
    "mu_water_per_cm",
    "kernel_filter",
    "field_snr_scale",
    "missing_relaxation_times",
]

SequenceName = Literal["spin_echo", "gradient_echo", "inversion_recovery", "inversion_recovery_gradient_echo"]

#: Signal equations the phantom source evaluates.
MR_SEQUENCES: tuple[str, ...] = ("spin_echo", "gradient_echo", "inversion_recovery",
                                 "inversion_recovery_gradient_echo")

#: Signal equation of each ``sequence`` named in the MR contrast profiles.
#: Fast spin echo is evaluated as a spin echo at its effective TE.
PROFILE_SEQUENCES: dict[str, str] = {
    "spin_echo": "spin_echo",
    "fast_spin_echo": "spin_echo",
    "gradient_echo": "gradient_echo",
    "inversion_recovery_spin_echo": "inversion_recovery",
    "inversion_recovery_gradient_echo": "inversion_recovery_gradient_echo",
}


@dataclasses.dataclass(frozen=True)
class MRProtocol:
    """Signal equation and timing of one MR image (times in ms, angle in degrees)."""

    sequence: SequenceName
    tr_ms: float
    te_ms: float
    ti_ms: float | None = None
    flip_angle_deg: float = 90.0
    contrast: str | None = None


def mr_protocol(
    sequence: str,
    *,
    tr_ms: float,
    te_ms: float,
    ti_ms: float | None,
    flip_angle_deg: float,
    factors: Mapping[str, Any],
    profile_sequences: Mapping[str, str] | None = None,
) -> MRProtocol:
    """Return the protocol of a sample: the configured one with its sampled factors applied.

    Parameters
    ----------
    sequence : str
        Configured signal equation, one of :data:`MR_SEQUENCES`.
    tr_ms, te_ms, ti_ms, flip_angle_deg : float
        Configured timing (ms) and flip angle (degrees).
    factors : mapping
        Sampled factors. ``contrast`` (a profile name, with its profile
        ``sequence`` in ``profile_sequences``) replaces the equation;
        ``tr_ms``, ``te_ms``, ``ti_ms`` and ``flip_deg`` replace the timing.
    profile_sequences : mapping of str to str, optional
        Contrast name to profile sequence name (``fast_spin_echo``...).

    Raises
    ------
    ValueError
        If an inversion-recovery protocol has no TI, or TI or TE is not below TR.

    Examples
    --------
    >>> mr_protocol("spin_echo", tr_ms=500, te_ms=15, ti_ms=None, flip_angle_deg=90,
    ...             factors={"contrast": "flair", "tr_ms": 9000.0, "te_ms": 100.0, "ti_ms": 2500.0},
    ...             profile_sequences={"flair": "inversion_recovery_spin_echo"}).sequence
    'inversion_recovery'
    """
    contrast = factors.get("contrast")
    if contrast is not None:
        profile_sequence = (profile_sequences or {}).get(str(contrast))
        if profile_sequence not in PROFILE_SEQUENCES:
            raise ValueError(f"contrast {contrast!r} has no known signal equation; "
                             f"profile sequence {profile_sequence!r}")
        sequence = PROFILE_SEQUENCES[profile_sequence]
    if sequence not in MR_SEQUENCES:
        raise ValueError(f"`sequence` must be one of {', '.join(MR_SEQUENCES)}, got {sequence!r}")
    tr = float(factors.get("tr_ms", tr_ms))
    te = float(factors.get("te_ms", te_ms))
    ti = factors.get("ti_ms", ti_ms)
    flip = float(factors.get("flip_deg", flip_angle_deg))
    if te > tr:
        raise ValueError(f"TE must not exceed TR, got te_ms={te:g} and tr_ms={tr:g}")
    if sequence.startswith("inversion_recovery"):
        if ti is None:
            raise ValueError(f"sequence {sequence!r} needs an inversion time `ti_ms`")
        if not 0 <= float(ti) < tr:
            raise ValueError(f"`ti_ms` must lie in [0, tr_ms), got ti_ms={float(ti):g} and tr_ms={tr:g}")
    return MRProtocol(sequence, tr, te, None if ti is None else float(ti), flip,  # type: ignore[arg-type]
                      None if contrast is None else str(contrast))


def head_parameters(factors: Mapping[str, Any], base: Any) -> Any:
    """Return ``base`` (a :class:`~medaug.phantoms.HeadParameters`) with the anatomy factors applied.

    * ``head_breadth_mm`` and ``head_length_mm`` (outer, over the scalp) set
      the left-right and anterior-posterior semi-axes to half of each; the
      inferior-superior semi-axis keeps its ratio to the geometric mean of
      the other two, because the population table has no head height.
    * ``cortical_thickness_mm``, ``ventricle_scale``, ``sulcal_csf_mm`` and
      ``csf_thickness_mm`` (ageing) are copied.
    * ``lesion_count`` fixes the number of lesions, and ``lesion_diameters_mm``
      sets the range of their semi-axes to half the smallest and largest
      drawn diameter. Placement may drop a lesion that does not fit in the
      white matter (see :func:`~medaug.phantoms.procedural_head`).

    Returns ``base`` unchanged when no factor applies.

    Examples
    --------
    >>> from medaug.phantoms import HeadParameters
    >>> head_parameters({"head_breadth_mm": 160.0, "head_length_mm": 200.0}, HeadParameters()).head_semi_axes_mm[:2]
    (80.0, 100.0)
    """
    updates: dict[str, Any] = {}
    if "head_breadth_mm" in factors and "head_length_mm" in factors:
        x, y, z = base.head_semi_axes_mm
        new_x, new_y = float(factors["head_breadth_mm"]) / 2.0, float(factors["head_length_mm"]) / 2.0
        updates["head_semi_axes_mm"] = (new_x, new_y, z * math.sqrt(new_x * new_y / (x * y)))
    for key in ("cortical_thickness_mm", "ventricle_scale", "sulcal_csf_mm", "csf_thickness_mm"):
        if key in factors:
            updates[key] = float(factors[key])
    if "lesion_count" in factors:
        count = int(factors["lesion_count"])
        updates["lesion_count"] = (count, count)
        diameters = [float(d) for d in factors.get("lesion_diameters_mm") or ()]
        if diameters:
            updates["lesion_radius_mm"] = (min(diameters) / 2.0, max(diameters) / 2.0)
    return dataclasses.replace(base, **updates) if updates else base


def object_radius_mm(factors: Mapping[str, Any]) -> float | None:
    """Return half the sampled ``water_equivalent_diameter_mm``, or None when it was not drawn."""
    diameter = factors.get("water_equivalent_diameter_mm")
    return None if diameter is None else float(diameter) / 2.0


@functools.lru_cache(maxsize=32)
def effective_energy_kev(kvp: float, filtration_mm_al: float = 2.5) -> float:
    """Return the mean energy (keV) of a tungsten tube spectrum seen by an energy-integrating detector.

    The spectrum comes from SpekPy (:func:`medaug.physics.ct.spectrum.tube_spectrum`)
    and is cached per process, because SpekPy takes about 0.4 s per call.

    Notes
    -----
    A CT image in Hounsfield units is treated as monochromatic at this
    energy. NOTE: the mean energy of the unattenuated beam ignores beam
    hardening inside the patient, which raises the effective energy by a
    few keV in a head.

    References
    ----------
    Poludniowski G, Omar A, Bujila R, Andreo P. Technical note: SpekPy v2.0,
    a software toolkit for modeling x-ray tube spectra. Med Phys.
    2021;48(7):3630-3637. DOI 10.1002/mp.14945.
    """
    from medaug.physics.ct.spectrum import tube_spectrum

    return float(tube_spectrum(float(kvp), filtration_mm_al=float(filtration_mm_al)).mean_energy_kev)


def mu_water_per_cm(energy_kev: float) -> float:
    """Return the linear attenuation coefficient of water (1/cm) at ``energy_kev``."""
    from medaug.phantoms.tissues import water_air_attenuation

    return water_air_attenuation(float(energy_kev))[0]


def kernel_filter(kernel: str, kernels: Mapping[str, Any]) -> str:
    """Return the FBP filter name (``ramp``, ``shepp-logan``, ``cosine``, ``hann``) of a kernel profile.

    Examples
    --------
    >>> from medaug.data.profiles import load_profile_library
    >>> kernel_filter("ram_lak", load_profile_library().ct.kernels)
    'ramp'
    """
    if kernel not in kernels:
        raise ValueError(f"unknown kernel {kernel!r}; known: {', '.join(sorted(kernels))}")
    return str(kernels[kernel].window)


def field_snr_scale(field_strength_t: float, reference_field_t: float, *, field_exponent: float = 1.0) -> float:
    """Return SNR at ``field_strength_t`` over SNR at ``reference_field_t``: ``(B0 / B_ref) ** exponent``.

    See :func:`medaug.data.profiles.relative_snr` for the model and its references.

    Examples
    --------
    >>> field_snr_scale(3.0, 1.5)
    2.0
    """
    from medaug.data.profiles import relative_snr

    return float(relative_snr(field_strength_t, field_exponent=field_exponent, reference_field_t=reference_field_t))


def missing_relaxation_times(labels: Sequence[str], field_strength_t: float) -> list[str]:
    """Return ``"tissue parameter"`` for each relaxation time the tissue table lacks at ``field_strength_t``.

    Tissues without any relaxation time (background air) are skipped.

    Examples
    --------
    >>> missing_relaxation_times(["grey_matter", "white_matter"], 3.0)
    []
    """
    from medaug.phantoms import mr_field_strengths

    missing = []
    for tissue in labels:
        for parameter in ("t1_ms", "t2_ms", "t2star_ms"):
            fields = mr_field_strengths(tissue, parameter)
            if fields and not any(math.isclose(field, field_strength_t, abs_tol=1e-6) for field in fields):
                missing.append(f"{tissue} {parameter}")
    return missing
