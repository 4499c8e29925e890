"""Tissue tables: MR properties per tissue class and X-ray materials with their attenuation.

The data live in ``phantoms/mr_tissues.yaml`` and ``phantoms/xray_materials.yaml``
(installed as ``medaug.phantom_tables``), each value with its source.
X-ray attenuation is computed from elemental composition with xraydb's
cross sections (which follow the NIST/XCOM data), never typed by hand.

Where no measurement at 0.55 T was at hand, the table contains estimates made
with :func:`t1_power_law` (T1), :data:`T2_RATIO_055T` (T2) and
:func:`t2star_from_r2prime` (T2*). Each such entry is marked ``estimate``
and states its basis.

References
----------
.. [1] J. H. Hubbell and S. M. Seltzer, "Tables of X-ray mass attenuation
   coefficients and mass energy-absorption coefficients", NIST Standard
   Reference Database 126, 2004. doi:10.18434/T4D01F
.. [2] W. T. Elam, B. D. Ravel and J. R. Sieber, "A new atomic database for
   X-ray spectroscopic calculations", Radiat. Phys. Chem. 63(2):121-128,
   2002. doi:10.1016/S0969-806X(01)00227-4
.. [3] P. A. Bottomley, T. H. Foster, R. E. Argersinger and L. M. Pfeifer,
   "A review of normal tissue hydrogen NMR relaxation times and relaxation
   mechanisms from 1-100 MHz: dependence on tissue type, NMR frequency,
   temperature, species, excision, and age", Med. Phys. 11(4):425-448,
   1984. doi:10.1118/1.595535
.. [4] A. E. Campbell-Washburn, R. Ramasawmy, M. C. Restivo et al.,
   "Opportunities in interventional and diagnostic imaging by using
   high-performance low-field-strength MRI", Radiology 293(2):384-393,
   2019. doi:10.1148/radiol.2019190452
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

__all__ = [
    "MR_PARAMETERS",
    "T2_RATIO_055T",
    "XrayMaterial",
    "hounsfield_units",
    "iodine_solution",
    "linear_attenuation",
    "mass_attenuation",
    "mr_field_strengths",
    "mr_parameter",
    "mr_parameters",
    "mr_tissue_names",
    "mr_tissue_table",
    "t1_power_law",
    "t2star_from_r2prime",
    "tissue_attenuation",
    "water_air_attenuation",
    "xray_material",
    "xray_material_names",
    "xray_material_table",
]

#: MR parameters in the tissue table, with their units.
MR_PARAMETERS = {"proton_density": "relative to water", "t1_ms": "ms", "t2_ms": "ms", "t2star_ms": "ms"}

#: Ratio of T2 at 0.55 T to T2 at 1.5 T, averaged over the tissues that
#: Campbell-Washburn et al. (2019) measured at both fields (their abstract:
#: "T2 was 26% longer"). It is a mean over tissues, so applying it to one
#: tissue gives an estimate.
T2_RATIO_055T = 1.26


@functools.cache
def _load(name: str) -> dict[str, Any]:
    import yaml

    text = resources.files("medaug.phantom_tables").joinpath(name).read_text()
    return yaml.safe_load(text)


def mr_tissue_table() -> dict[str, Any]:
    """Return the MR tissue table as loaded from ``mr_tissues.yaml`` (sources and tissues)."""
    return _load("mr_tissues.yaml")


def xray_material_table() -> dict[str, Any]:
    """Return the X-ray material table as loaded from ``xray_materials.yaml``."""
    return _load("xray_materials.yaml")


def mr_tissue_names() -> tuple[str, ...]:
    """Return the tissue classes of the MR table, ``"background"`` first."""
    return tuple(mr_tissue_table()["tissues"])


def xray_material_names() -> tuple[str, ...]:
    """Return the names of the X-ray materials."""
    return tuple(xray_material_table()["materials"])


def _tissue_entry(tissue: str) -> dict[str, Any]:
    tissues = mr_tissue_table()["tissues"]
    if not isinstance(tissue, str):
        raise TypeError(f"`tissue` must be a str, got {type(tissue).__name__}")
    if tissue not in tissues:
        raise ValueError(f"unknown tissue {tissue!r}: known tissues are {sorted(tissues)}")
    return tissues[tissue]


def _field_key(field_strength_t: float) -> str:
    value = float(field_strength_t)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"`field_strength_t` must be finite and > 0 T, got {field_strength_t!r}")
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.1f}"


def mr_field_strengths(tissue: str, parameter: str) -> tuple[float, ...]:
    """Return the field strengths (T) at which ``parameter`` of ``tissue`` is tabulated.

    Examples
    --------
    >>> mr_field_strengths("white_matter", "t1_ms")
    (0.55, 1.5, 3.0, 7.0)
    """
    entry = _tissue_entry(tissue)
    if parameter not in MR_PARAMETERS or parameter == "proton_density":
        raise ValueError(
            f"`parameter` must be one of t1_ms, t2_ms, t2star_ms, got {parameter!r}"
        )
    return tuple(sorted(float(key) for key in entry[parameter]))


def mr_parameter(tissue: str, parameter: str, field_strength_t: float = 3.0) -> float | None:
    """Return one MR parameter of ``tissue`` at ``field_strength_t`` tesla.

    ``parameter`` is ``"proton_density"`` (relative to water, any field) or
    ``"t1_ms"``, ``"t2_ms"``, ``"t2star_ms"``. Relaxation times of
    background (air) are None: it has no signal.

    Raises
    ------
    ValueError
        For an unknown tissue or parameter, or a field strength at which the
        table has no value (nothing is interpolated or extrapolated; the
        message lists the fields available).

    Examples
    --------
    >>> mr_parameter("blood", "t1_ms", 7.0)
    2087.0
    """
    entry = _tissue_entry(tissue)
    if parameter not in MR_PARAMETERS:
        raise ValueError(f"`parameter` must be one of {sorted(MR_PARAMETERS)}, got {parameter!r}")
    key = _field_key(field_strength_t)
    if parameter == "proton_density":
        return float(entry["proton_density"]["value"])
    values = entry[parameter]
    if not values:
        return None
    if key not in values:
        available = ", ".join(f"{float(k):g} T" for k in sorted(values, key=float))
        raise ValueError(
            f"{parameter} of {tissue!r} is not tabulated at {float(field_strength_t):g} T; "
            f"available: {available}"
        )
    return float(values[key]["value"])


def mr_parameters(tissue: str, field_strength_t: float = 3.0) -> dict[str, float | None]:
    """Return proton density and T1, T2, T2* (ms) of ``tissue`` at ``field_strength_t`` tesla.

    Raises the ``ValueError`` of :func:`mr_parameter` when any of the four
    is missing at that field.

    Examples
    --------
    >>> mr_parameters("white_matter", 3.0)["t1_ms"]
    838.0
    """
    return {name: mr_parameter(tissue, name, field_strength_t) for name in MR_PARAMETERS}


def t1_power_law(
    t1_low_ms: float, field_low_t: float, t1_high_ms: float, field_high_t: float, field_strength_t: float
) -> float:
    """Estimate T1 (ms) at ``field_strength_t`` from T1 at two other field strengths.

    Bottomley et al. (1984) fitted ``T1 = A * nu**B`` to tissue T1 over
    1-100 MHz (0.023-2.35 T for protons). Because the Larmor frequency ``nu``
    is proportional to B0, two measurements fix the exponent ``B`` of a
    tissue, and the law then gives T1 at any other field.

    Parameters
    ----------
    t1_low_ms, t1_high_ms : float
        T1 in ms at ``field_low_t`` and ``field_high_t``, > 0.
    field_low_t, field_high_t : float
        Field strengths in T of the two measurements, > 0 and different.
    field_strength_t : float
        Field strength in T at which to estimate T1, > 0.

    Returns
    -------
    float
        The estimated T1 in ms.

    Raises
    ------
    ValueError
        If a time or field is not finite and > 0, or the two fields are equal.

    Notes
    -----
    ``B = ln(T1_high / T1_low) / ln(B0_high / B0_low)`` and
    ``T1(B0) = T1_low * (B0 / B0_low) ** B``. Bottomley et al. validated the
    form over 1-100 MHz only; outside it the result is an extrapolation.

    References
    ----------
    .. [1] P. A. Bottomley, T. H. Foster, R. E. Argersinger and
       L. M. Pfeifer, Med. Phys. 11(4):425-448, 1984. doi:10.1118/1.595535

    Examples
    --------
    >>> round(t1_power_law(646.0, 1.5, 838.0, 3.0, 0.55))  # white matter
    443
    """
    values = {
        "t1_low_ms": t1_low_ms, "field_low_t": field_low_t, "t1_high_ms": t1_high_ms,
        "field_high_t": field_high_t, "field_strength_t": field_strength_t,
    }
    for name, value in values.items():
        if not (math.isfinite(float(value)) and float(value) > 0):
            raise ValueError(f"`{name}` must be finite and > 0, got {value!r}")
    if float(field_low_t) == float(field_high_t):
        raise ValueError(
            f"`field_low_t` and `field_high_t` must differ to fix the exponent, got {field_low_t!r} twice"
        )

    exponent = math.log(t1_high_ms / t1_low_ms) / math.log(field_high_t / field_low_t)
    return float(t1_low_ms * (field_strength_t / field_low_t) ** exponent)


def t2star_from_r2prime(
    t2star_ref_ms: float, t2_ref_ms: float, field_ref_t: float, t2_ms: float, field_strength_t: float
) -> float:
    """Estimate T2* (ms) at ``field_strength_t`` from T2 there and T2, T2* at a reference field.

    ``1/T2* = 1/T2 + R2'``, where the reversible rate ``R2'`` comes from
    susceptibility-induced field offsets. Those offsets scale with B0, so
    ``R2'`` is taken proportional to B0. This agrees with the near-linear
    growth of R2* with B0 that Hoogenraad, Peters et al. (2006) measured in
    brain between 1.5 and 7 T.

    Parameters
    ----------
    t2star_ref_ms, t2_ref_ms : float
        T2* and T2 in ms at ``field_ref_t``, > 0, with T2* <= T2.
    field_ref_t : float
        Reference field strength in T, > 0.
    t2_ms : float
        T2 in ms at ``field_strength_t``, > 0.
    field_strength_t : float
        Field strength in T at which to estimate T2*, > 0.

    Returns
    -------
    float
        The estimated T2* in ms; never longer than ``t2_ms``.

    Raises
    ------
    ValueError
        If a time or field is not finite and > 0, or ``t2star_ref_ms`` exceeds
        ``t2_ref_ms``.

    Notes
    -----
    ``R2'_ref = 1/T2*_ref - 1/T2_ref`` and
    ``T2*(B0) = 1 / (1/T2(B0) + R2'_ref * B0 / B0_ref)``.

    References
    ----------
    .. [1] F. Hoogenraad, R. Bowtell, P. Morris, P. Gowland, S. Francis,
       M. Brookes and A. Peters, "Comparison of T2* measurements in human
       brain at 1.5, 3 and 7 T", Proc. Intl. Soc. Mag. Reson. Med. 14,
       abstract 926, 2006. https://archive.ismrm.org/2006/0926.html

    Examples
    --------
    >>> round(t2star_from_r2prime(66.2, 80.0, 1.5, 100.8, 0.55), 1)  # white matter
    91.9
    """
    values = {
        "t2star_ref_ms": t2star_ref_ms, "t2_ref_ms": t2_ref_ms, "field_ref_t": field_ref_t,
        "t2_ms": t2_ms, "field_strength_t": field_strength_t,
    }
    for name, value in values.items():
        if not (math.isfinite(float(value)) and float(value) > 0):
            raise ValueError(f"`{name}` must be finite and > 0, got {value!r}")
    if t2star_ref_ms > t2_ref_ms:
        raise ValueError(
            f"`t2star_ref_ms` must be <= `t2_ref_ms` (T2* never exceeds T2), got {t2star_ref_ms!r} > {t2_ref_ms!r}"
        )

    r2prime_ref = 1.0 / t2star_ref_ms - 1.0 / t2_ref_ms
    return float(1.0 / (1.0 / t2_ms + r2prime_ref * field_strength_t / field_ref_t))


@dataclass(frozen=True)
class XrayMaterial:
    """An X-ray material: mass fractions of elements and a density.

    Parameters
    ----------
    name : str
        Material name.
    composition : tuple of (str, float)
        Element symbols with mass fractions summing to 1.
    density_g_cm3 : float
        Density in g/cm^3.
    """

    name: str
    composition: tuple[tuple[str, float], ...]
    density_g_cm3: float

    def __post_init__(self) -> None:
        if not self.composition:
            raise ValueError(f"material {self.name!r} needs at least one element")
        fractions = np.array([w for _, w in self.composition], dtype=float)
        if np.any(fractions < 0) or abs(fractions.sum() - 1.0) > 1e-3:
            raise ValueError(
                f"mass fractions of {self.name!r} must be >= 0 and sum to 1 (within 1e-3), "
                f"got sum {fractions.sum():.6f}"
            )
        if not (np.isfinite(self.density_g_cm3) and self.density_g_cm3 > 0):
            raise ValueError(f"`density_g_cm3` must be > 0, got {self.density_g_cm3!r}")


def xray_material(name: str) -> XrayMaterial:
    """Return the X-ray material ``name`` from the table."""
    materials = xray_material_table()["materials"]
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a str, got {type(name).__name__}")
    if name not in materials:
        raise ValueError(f"unknown X-ray material {name!r}: known materials are {sorted(materials)}")
    entry = materials[name]
    composition = tuple((element, float(w)) for element, w in entry["composition"].items())
    return XrayMaterial(name, composition, float(entry["density_g_cm3"]))


def iodine_solution(concentration_mg_per_ml: float) -> XrayMaterial:
    """Return water with ``concentration_mg_per_ml`` mg of iodine per mL.

    The density is taken as ``1 + c / 1000`` g/cm^3, neglecting the volume
    of the contrast agent: an estimate that is exact as ``c`` goes to 0.
    """
    concentration = float(concentration_mg_per_ml)
    if not (np.isfinite(concentration) and concentration >= 0):
        raise ValueError(f"`concentration_mg_per_ml` must be >= 0, got {concentration_mg_per_ml!r}")
    iodine = concentration / 1000.0
    density = 1.0 + iodine
    water = xray_material("water")
    composition = [(element, w / density) for element, w in water.composition]
    if iodine > 0:
        composition.append(("I", iodine / density))
    return XrayMaterial(f"iodine_{concentration:g}mg_per_ml", tuple(composition), density)


def _energies_ev(energy_kev: Any) -> np.ndarray:
    energies = np.asarray(energy_kev, dtype=float)
    if not np.all(np.isfinite(energies)) or np.any(energies <= 0):
        raise ValueError(f"`energy_kev` must be finite and > 0 keV, got {energy_kev!r}")
    return energies * 1000.0


def _as_material(material: str | XrayMaterial) -> XrayMaterial:
    return material if isinstance(material, XrayMaterial) else xray_material(material)


def mass_attenuation(material: str | XrayMaterial, energy_kev: Any) -> np.ndarray | float:
    """Return the mass attenuation coefficient mu/rho in cm^2/g (coherent scattering included).

    ``mu/rho = sum_i w_i (mu/rho)_i`` over the elements, from xraydb.

    Examples
    --------
    >>> round(float(mass_attenuation("water", 60.0)), 4)  # NIST: 0.2059 cm^2/g
    0.2059
    """
    import xraydb

    material = _as_material(material)
    energies = _energies_ev(energy_kev)
    total = np.zeros_like(energies)
    for element, fraction in material.composition:
        total = total + fraction * np.asarray(xraydb.mu_elam(element, energies, kind="total"))
    return float(total) if total.ndim == 0 else total


def linear_attenuation(material: str | XrayMaterial, energy_kev: Any) -> np.ndarray | float:
    """Return the linear attenuation coefficient mu in 1/cm at ``energy_kev``."""
    material = _as_material(material)
    return mass_attenuation(material, energy_kev) * material.density_g_cm3


def tissue_attenuation(tissue: str, energy_kev: Any) -> np.ndarray | float:
    """Return mu (1/cm) of a tissue class of the MR table, through its ``xray_material``."""
    return linear_attenuation(_tissue_entry(tissue)["xray_material"], energy_kev)


def hounsfield_units(mu_per_cm: Any, energy_kev: float) -> np.ndarray:
    """Convert mu (1/cm) at ``energy_kev`` to Hounsfield units.

    ``HU = 1000 (mu - mu_water) / (mu_water - mu_air)``, so water is 0 HU
    and air -1000 HU at that energy.
    """
    mu_water, mu_air = water_air_attenuation(float(energy_kev))
    return 1000.0 * (np.asarray(mu_per_cm, dtype=float) - mu_water) / (mu_water - mu_air)


@functools.lru_cache(maxsize=256)
def water_air_attenuation(energy_kev: float) -> tuple[float, float]:
    """Return mu (1/cm) of water and of air at ``energy_kev``, the two ends of the Hounsfield scale.

    Cached, because every CT image of a pipeline converts to Hounsfield
    units and each xraydb query takes about 0.5 ms.
    """
    return float(linear_attenuation("water", energy_kev)), float(linear_attenuation("air", energy_kev))


def tissue_values(
    tissues: Sequence[str], parameter: str, *, field_strength_t: float = 3.0, energy_kev: float = 70.0
) -> dict[str, float]:
    """Return ``{tissue: value}`` of one property for several tissues (helper for maps).

    ``parameter`` is an MR parameter name (None times become 0) or
    ``"mu_per_cm"`` (linear attenuation at ``energy_kev``).
    """
    result = {}
    for tissue in tissues:
        if parameter == "mu_per_cm":
            result[tissue] = float(tissue_attenuation(tissue, energy_kev))
            continue
        if parameter not in MR_PARAMETERS:
            raise ValueError(
                f"`parameter` must be one of {sorted(MR_PARAMETERS)} or 'mu_per_cm', got {parameter!r}"
            )
        value = mr_parameters(tissue, field_strength_t)[parameter]
        result[tissue] = 0.0 if value is None else float(value)
    return result
