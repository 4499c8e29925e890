"""Polychromatic acquisition: tube spectra, material attenuation and beam hardening.

A polychromatic detector reading sums Beer-Lambert over the spectrum:

    I = I0 * sum_E w(E) exp(-sum_m mu_m(E) L_m),   sum_E w(E) = 1,

where ``L_m`` is the projected path length (cm) of material ``m`` and the
weights ``w`` are the photon fluence per energy bin (photon counting) or
fluence times energy (energy integrating). Low energies are absorbed
first, so the beam hardens along the path and the log transform
under-estimates long paths: a uniform water cylinder reconstructs darker in
its centre than at its edge (cupping). A single-energy spectrum gives none.

Spectra come from SpekPy (installed with medaug, runs offline). Materials
are those of the X-ray material table of :mod:`medaug.phantoms` (ICRU 44
compositions, in ``phantoms/xray_materials.yaml``), and their attenuation is
:func:`medaug.phantoms.linear_attenuation` (xraydb's Elam, Ravel and Sieber
cross sections), so phantoms and CT simulation share one table.

References
----------
Poludniowski G. et al., "Technical Note: SpekPy v2.0 - a software toolkit
for modeling x-ray tube spectra", Medical Physics 48(7), 3630-3637, 2021.
DOI: 10.1002/mp.14945

Elam W. T., Ravel B. D., Sieber J. R., "A new atomic database for X-ray
spectroscopic calculations", Radiation Physics and Chemistry 63(2),
121-128, 2002. DOI: 10.1016/S0969-806X(01)00227-4

Brooks R. A., Di Chiro G., "Beam hardening in x-ray reconstructive
tomography", Physics in Medicine and Biology 21(3), 390-398, 1976.
DOI: 10.1088/0031-9155/21/3/004
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping

import numpy as np
import torch

from medaug.phantoms import XrayMaterial, linear_attenuation, xray_material
from medaug.physics.ct.acquisition import _check_i0

__all__ = [
    "Spectrum",
    "tube_spectrum",
    "monochromatic_spectrum",
    "attenuation_per_cm",
    "polychromatic_photons",
    "effective_attenuation_per_cm",
]

@dataclasses.dataclass(frozen=True)
class Spectrum:
    """A discrete x-ray spectrum.

    Attributes
    ----------
    energies_kev : tuple of float
        Bin centres, keV.
    weights : tuple of float
        Relative photon fluence per bin, summing to 1.
    """

    energies_kev: tuple[float, ...]
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        energies = np.asarray(self.energies_kev, dtype=float)
        weights = np.asarray(self.weights, dtype=float)
        if energies.ndim != 1 or energies.shape != weights.shape or energies.size == 0:
            raise ValueError("`energies_kev` and `weights` must be 1-D of equal, non-zero length")
        if np.any(energies <= 0) or np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError("energies must be > 0 keV and weights >= 0 with a positive sum")
        object.__setattr__(self, "energies_kev", tuple(energies.tolist()))
        object.__setattr__(self, "weights", tuple((weights / weights.sum()).tolist()))

    @property
    def mean_energy_kev(self) -> float:
        """Fluence-weighted mean energy, keV."""
        return float(np.dot(self.energies_kev, self.weights))


def monochromatic_spectrum(energy_kev: float) -> Spectrum:
    """Return a single-energy spectrum (no beam hardening)."""
    return Spectrum((float(energy_kev),), (1.0,))


@functools.lru_cache(maxsize=16)
def tube_spectrum(
    kvp: float,
    *,
    filtration_mm_al: float = 2.5,
    anode_angle_deg: float = 12.0,
    energy_bin_kev: float = 1.0,
    energy_integrating: bool = True,
) -> Spectrum:
    """Return a tungsten-anode tube spectrum from SpekPy.

    Parameters
    ----------
    kvp : float
        Tube voltage, kV (SpekPy's validated range is about 30-150 kV).
    filtration_mm_al : float, default 2.5
        Total aluminium filtration, mm.
    anode_angle_deg : float, default 12.0
        Anode angle, degrees.
    energy_bin_kev : float, default 1.0
        Width of the energy bins, keV.
    energy_integrating : bool, default True
        Weight each bin by its energy, as an energy-integrating detector
        does; False gives the photon-counting (fluence) spectrum.

    Examples
    --------
    >>> spectrum = tube_spectrum(120.0)
    >>> 55 < spectrum.mean_energy_kev < 75
    True
    """
    if not (math.isfinite(kvp) and 10 <= kvp <= 300):
        raise ValueError(f"`kvp` must be within 10-300 kV, got {kvp}")
    if not (math.isfinite(filtration_mm_al) and filtration_mm_al >= 0):
        raise ValueError(f"`filtration_mm_al` must be >= 0 mm, got {filtration_mm_al}")
    import spekpy

    model = spekpy.Spek(kvp=kvp, th=anode_angle_deg, dk=energy_bin_kev)
    if filtration_mm_al > 0:
        model.filter("Al", filtration_mm_al)
    energies, fluence = model.get_spectrum()
    weights = fluence * energies if energy_integrating else fluence
    keep = weights > 0
    return Spectrum(tuple(energies[keep].tolist()), tuple(weights[keep].tolist()))


@functools.lru_cache(maxsize=64)
def _attenuation_table(material: XrayMaterial, energies_kev: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(np.atleast_1d(linear_attenuation(material, energies_kev)).tolist())


def _as_material(material: str | XrayMaterial) -> XrayMaterial:
    if isinstance(material, XrayMaterial):
        return material
    if not isinstance(material, str):
        raise TypeError(f"`material` must be a str or XrayMaterial, got {type(material).__name__}")
    return xray_material(material)


def _label(material: str | XrayMaterial) -> str:
    return material.name if isinstance(material, XrayMaterial) else str(material)


def attenuation_per_cm(material: str | XrayMaterial, energies_kev: tuple[float, ...] | list[float]) -> np.ndarray:
    """Return the linear attenuation coefficient of ``material`` at each energy, 1/cm.

    Parameters
    ----------
    material : str or XrayMaterial
        A name from :func:`medaug.phantoms.xray_material_names` (for
        example ``"water"``, ``"soft_tissue"``, ``"cortical_bone"``,
        ``"titanium"``) or any :class:`medaug.phantoms.XrayMaterial`.
    energies_kev : sequence of float
        Photon energies, keV.

    Raises
    ------
    ValueError
        For a name missing from the table, or an energy that is not > 0 keV.

    Examples
    --------
    >>> round(float(attenuation_per_cm("water", [60.0])[0]), 3)
    0.206
    """
    energies = tuple(float(e) for e in np.atleast_1d(np.asarray(energies_kev, dtype=float)))
    return np.asarray(_attenuation_table(_as_material(material), energies))


def effective_attenuation_per_cm(material: str | XrayMaterial, spectrum: Spectrum) -> float:
    """Return the spectrum-weighted mean attenuation of ``material``, 1/cm."""
    return float(np.dot(attenuation_per_cm(material, spectrum.energies_kev), spectrum.weights))


def polychromatic_photons(
    path_lengths_cm: Mapping[str | XrayMaterial, torch.Tensor], spectrum: Spectrum, i0: float | torch.Tensor
) -> torch.Tensor:
    """Return the expected polychromatic reading ``I0 sum_E w(E) exp(-sum_m mu_m(E) L_m)``.

    Parameters
    ----------
    path_lengths_cm : mapping of material (name or XrayMaterial) to tensor
        Projected path length of each material, cm, all of one shape
        (project a map of the material's volume fraction and multiply by
        0.1 to go from mm to cm). Names are those of
        :func:`medaug.phantoms.xray_material_names`.
    spectrum : Spectrum
    i0 : float or tensor
        Incident photons (or energy units) per detector element and view.
    """
    if not path_lengths_cm:
        raise ValueError("`path_lengths_cm` must name at least one material")
    lengths = list(path_lengths_cm.values())
    like = lengths[0]
    for name, value in path_lengths_cm.items():
        if value.shape != like.shape:
            raise ValueError(f"path length of {_label(name)!r} has shape {tuple(value.shape)}, expected {tuple(like.shape)}")
        if bool((value < 0).any()) or not bool(torch.isfinite(value).all()):
            raise ValueError(f"path length of {_label(name)!r} must be finite and >= 0 (negative attenuation)")
    incident = _check_i0(i0, like)

    table = {name: attenuation_per_cm(name, spectrum.energies_kev) for name in path_lengths_cm}

    total = torch.zeros_like(like)
    for index, weight in enumerate(spectrum.weights):
        exponent = torch.zeros_like(like)
        for name, value in path_lengths_cm.items():
            exponent = exponent + float(table[name][index]) * value
        total = total + weight * torch.exp(-exponent)
    return incident * total
