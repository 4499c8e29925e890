"""Population variation for procedural phantoms: body size, ageing, lesion load, CT noise.

The distributions come from ``medaug/data/profiles/population.yaml``
(each with its source); the functions here draw from them with an explicit
``numpy.random.Generator`` and compute the size measures CT dosimetry uses
(AAPM Report 220 water-equivalent diameter) and the resulting noise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = [
    "draw_head_size",
    "draw_body_size",
    "age_changes",
    "SULCAL_CSF_MM_AT_REFERENCE",
    "OUTER_CSF_MM_AT_REFERENCE",
    "SULCAL_CSF_WIDENING_MM_PER_DECADE",
    "OUTER_CSF_WIDENING_MM_PER_DECADE",
    "draw_lesions",
    "derive_population",
    "effective_diameter_mm",
    "water_equivalent_diameter_mm",
    "ct_noise_sigma_hu",
    "MAX_REDRAWS",
]

#: Redraws allowed before a truncated distribution is declared impossible.
MAX_REDRAWS = 1000

SEXES = ("male", "female")


def _table(table: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if table is None:
        from medaug.data.profiles import load_profile_library

        return load_profile_library().population
    return table


def _check_sex(sex: str) -> None:
    if sex not in SEXES:
        raise ValueError(f"`sex` must be one of {SEXES}, got {sex!r}")


def _truncated_normal(rng: np.random.Generator, mean: float, sd: float, low: float, high: float, name: str) -> float:
    """Draw from a normal distribution, redrawing values outside ``[low, high]``."""
    for _ in range(MAX_REDRAWS):
        value = float(rng.normal(mean, sd))
        if low <= value <= high:
            return value
    raise ValueError(f"`{name}`: no draw of N({mean}, {sd}) fell in [{low}, {high}] after {MAX_REDRAWS} tries")


def effective_diameter_mm(ap_mm: float, lateral_mm: float) -> float:
    """Return the effective diameter sqrt(AP x LAT) (mm) of an elliptical cross-section.

    References
    ----------
    Boone JM, Strauss KJ, Cody DD, et al. Size-specific dose estimates
    (SSDE) in pediatric and adult body CT examinations. AAPM Report No. 204;
    2011. DOI 10.37206/143.

    Examples
    --------
    >>> round(effective_diameter_mm(200.0, 320.0), 3)
    252.982
    """
    if not (ap_mm > 0 and lateral_mm > 0):
        raise ValueError(f"`ap_mm` and `lateral_mm` must be > 0, got {ap_mm} and {lateral_mm}")
    return math.sqrt(ap_mm * lateral_mm)


def draw_head_size(rng: np.random.Generator, sex: str, table: Mapping[str, Any] | None = None) -> dict[str, float]:
    """Draw head length, breadth and circumference (mm) of an adult of ``sex``.

    The three are drawn independently from their normal distributions
    (truncated at 3 standard deviations); the water-equivalent diameter of
    the head is estimated as the effective diameter sqrt(length x breadth).

    Examples
    --------
    >>> size = draw_head_size(np.random.default_rng(0), "female")
    >>> 150 < size["head_length_mm"] < 230
    True
    """
    _check_sex(sex)
    head = _table(table)["head"][sex]
    drawn = {}
    for key in ("head_length_mm", "head_breadth_mm", "head_circumference_mm"):
        mean, sd = head[key]["mean"], head[key]["sd"]
        drawn[key] = _truncated_normal(rng, mean, sd, mean - 3 * sd, mean + 3 * sd, key)
    drawn["water_equivalent_diameter_mm"] = effective_diameter_mm(drawn["head_length_mm"], drawn["head_breadth_mm"])
    return drawn


def draw_body_size(rng: np.random.Generator, sex: str, table: Mapping[str, Any] | None = None) -> dict[str, float]:
    """Draw the waist circumference (mm) of an adult of ``sex`` and its water-equivalent diameter.

    The diameter is ``waist / pi`` (a circle of that perimeter), redrawn
    until it lies in the table's body limits.
    """
    _check_sex(sex)
    population = _table(table)
    waist = population["body"][sex]["waist_circumference_mm"]
    low, high = population["water_equivalent_diameter_mm"]["body"]
    circumference = _truncated_normal(
        rng, waist["mean"], waist["sd"], low * math.pi, high * math.pi, "waist_circumference_mm"
    )
    return {"waist_circumference_mm": circumference, "water_equivalent_diameter_mm": circumference / math.pi}


# Sulcal and subarachnoid CSF widths (mm) at the reference age: the defaults of
# medaug.phantoms.HeadParameters (`sulcal_csf_mm`, `csf_thickness_mm`).
SULCAL_CSF_MM_AT_REFERENCE = 1.2
OUTER_CSF_MM_AT_REFERENCE = 3.0

# NOTE: both widening rates (mm per decade after the reference age) are estimates, not
# measurements. From 20 to 80 years they double the sulcal width and widen the CSF over
# the brain by half. In the default 3D procedural head this turns about 13 % of the brain
# volume into CSF, which is assumed to be the order of the brain volume lost with age.
SULCAL_CSF_WIDENING_MM_PER_DECADE = 0.2
OUTER_CSF_WIDENING_MM_PER_DECADE = 0.25


def age_changes(age_years: float, rng: np.random.Generator | None = None, table: Mapping[str, Any] | None = None) -> dict[str, float]:
    """Return cortical thickness (mm), ventricle scale and CSF widths (mm) at ``age_years``.

    Parameters
    ----------
    age_years : float
        Age in years, inside the table's ``age_range_years``.
    rng : numpy.random.Generator or None
        Draws the between-subject spread; None returns the population mean.
    table : mapping, optional
        Population table (default: the shipped one).

    Returns
    -------
    dict
        ``cortical_thickness_mm`` = c0 - rate (age - a0) / 10 (+ normal
        spread), and ``ventricle_scale`` = exp(k (age - a0) / 3 + e / 3), the
        linear size factor of a ventricle volume growing as exp(k (age - a0))
        with log-normal spread e, relative to age a0.
        ``sulcal_csf_mm`` and ``csf_thickness_mm`` (the CSF inside a sulcus
        and over the brain, :class:`~medaug.phantoms.HeadParameters`) widen
        linearly from 1.2 mm and 3 mm at age a0, by
        ``SULCAL_CSF_WIDENING_MM_PER_DECADE`` and
        ``OUTER_CSF_WIDENING_MM_PER_DECADE``, because cortical atrophy
        widens the sulci. These two rates are estimates and carry no
        between-subject spread of their own, so ``rng`` draws the same
        numbers as without them.

    References
    ----------
    Salat DH, Buckner RL, Snyder AZ, et al. Thinning of the cerebral cortex
    in aging. Cereb Cortex. 2004;14(7):721-730. DOI 10.1093/cercor/bhh032.
    Scahill RI, Frost C, Jenkins R, et al. A longitudinal study of brain
    volume changes in normal aging using serial registered magnetic
    resonance imaging. Arch Neurol. 2003;60(7):989-994.
    DOI 10.1001/archneur.60.7.989.

    Examples
    --------
    >>> {k: round(v, 3) for k, v in age_changes(80.0).items()}
    {'cortical_thickness_mm': 2.0, 'ventricle_scale': 1.492, 'sulcal_csf_mm': 2.4, 'csf_thickness_mm': 4.5}
    """
    aging = _table(table)["aging"]
    low, high = aging["age_range_years"]
    if not low <= age_years <= high:
        raise ValueError(f"`age_years` must lie in [{low:g}, {high:g}], got {age_years}")

    years = age_years - aging["reference_age_years"]
    thickness = aging["cortical_thickness_mm_at_reference"] - aging["cortical_thinning_mm_per_decade"] * years / 10.0
    log_volume = aging["ventricle_volume_growth_per_year"] * years
    if rng is not None:
        thickness += float(rng.normal(0.0, aging["cortical_thickness_sd_mm"]))
        log_volume += float(rng.normal(0.0, aging["ventricle_volume_log_sd"]))
    if thickness <= 0:
        raise ValueError(f"cortical thickness at age {age_years} came out {thickness:.3f} mm <= 0; check the aging table")
    return {
        "cortical_thickness_mm": float(thickness),
        "ventricle_scale": float(math.exp(log_volume / 3.0)),
        "sulcal_csf_mm": SULCAL_CSF_MM_AT_REFERENCE + SULCAL_CSF_WIDENING_MM_PER_DECADE * years / 10.0,
        "csf_thickness_mm": OUTER_CSF_MM_AT_REFERENCE + OUTER_CSF_WIDENING_MM_PER_DECADE * years / 10.0,
    }


def draw_lesions(rng: np.random.Generator, load: str, table: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Draw a lesion count and the lesion diameters (mm) for a lesion ``load`` band.

    Examples
    --------
    >>> lesions = draw_lesions(np.random.default_rng(1), "low")
    >>> 1 <= lesions["lesion_count"] <= 5, len(lesions["lesion_diameters_mm"]) == lesions["lesion_count"]
    (True, True)
    """
    lesions = _table(table)["lesions"]
    if load not in lesions["loads"]:
        raise ValueError(f"`load` must be one of {sorted(lesions['loads'])}, got {load!r}")
    low, high = lesions["loads"][load]["count"]
    count = int(rng.integers(low, high + 1))
    median, log_sd = lesions["diameter_median_mm"], lesions["diameter_log_sd"]
    smallest, largest = lesions["diameter_range_mm"]
    diameters = []
    for _ in range(count):
        log_diameter = _truncated_normal(
            rng, math.log(median), log_sd, math.log(smallest), math.log(largest), "lesion_diameters_mm"
        )
        diameters.append(math.exp(log_diameter))
    return {"lesion_count": count, "lesion_diameters_mm": diameters}


def derive_population(factors: Mapping[str, Any], rng: np.random.Generator, table: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the population values implied by ``factors`` (empty when none applies).

    ``age_years`` gives age changes; ``lesion_load`` gives lesions;
    ``region`` (``head`` or ``body``) gives size. Sex is drawn with equal
    odds when needed and not declared. Declared keys are never overwritten.
    """
    needs_person = any(key in factors for key in ("age_years", "lesion_load", "region"))
    if not needs_person:
        return {}
    derived: dict[str, Any] = {}
    sex = factors.get("sex")
    if sex is None:
        sex = SEXES[int(rng.integers(2))]
        derived["sex"] = sex
    if "region" in factors:
        draw = draw_head_size if factors["region"] == "head" else draw_body_size
        derived.update(draw(rng, str(sex), table))
    if "age_years" in factors:
        derived.update(age_changes(float(factors["age_years"]), rng, table))
    if "lesion_load" in factors:
        derived.update(draw_lesions(rng, str(factors["lesion_load"]), table))
    return {key: value for key, value in derived.items() if key not in factors}


def water_equivalent_diameter_mm(image_hu: np.ndarray, pixel_area_mm2: float, *, mask: np.ndarray | None = None) -> float:
    """Return the water-equivalent diameter Dw (mm) of one CT slice (AAPM Report 220).

    Parameters
    ----------
    image_hu : ndarray, shape (H, W)
        Slice in Hounsfield units.
    pixel_area_mm2 : float
        Area of one pixel (mm^2), > 0.
    mask : ndarray of bool, shape (H, W), optional
        Patient region; default: pixels above -500 HU (excludes air).

    Notes
    -----
    ``Dw = 2 sqrt((mean(HU) / 1000 + 1) A / pi)`` with A the area of the
    region and mean(HU) its mean CT number: the diameter of a water disk
    with the same X-ray attenuation.

    References
    ----------
    McCollough C, Bakalyar DM, Bostani M, et al. Use of water equivalent
    diameter for calculating patient size and size-specific dose estimates
    (SSDE) in CT. AAPM Report No. 220; 2014. DOI 10.37206/146.
    """
    image = np.asarray(image_hu, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"`image_hu` must be a 2D slice (H, W), got shape {image.shape}")
    if not pixel_area_mm2 > 0:
        raise ValueError(f"`pixel_area_mm2` must be > 0, got {pixel_area_mm2}")
    region = image > -500.0 if mask is None else np.asarray(mask, dtype=bool)
    if region.shape != image.shape:
        raise ValueError(f"`mask` shape {region.shape} must equal `image_hu` shape {image.shape}")
    if not region.any():
        raise ValueError("the patient region is empty: no pixel above -500 HU and no `mask` given")

    area = region.sum() * pixel_area_mm2
    mean_hu = image[region].mean()
    return float(2.0 * math.sqrt((mean_hu / 1000.0 + 1.0) * area / math.pi))


def ct_noise_sigma_hu(
    water_equivalent_diameter_mm: float | np.ndarray,
    mas: float | np.ndarray,
    *,
    mu_water_per_mm: float,
    reference_sigma_hu: float,
    reference_diameter_mm: float,
    reference_mas: float,
) -> np.ndarray | float:
    """Return the noise standard deviation (HU) at the centre of a water-like patient.

    Parameters
    ----------
    water_equivalent_diameter_mm : float or ndarray
        Patient size Dw (mm).
    mas : float or ndarray
        Tube current-time product (mAs), > 0.
    mu_water_per_mm : float
        Linear attenuation coefficient of water at the beam's effective
        energy (1/mm), e.g. about 0.0206 at 60 keV.
    reference_sigma_hu, reference_diameter_mm, reference_mas : float
        A measured point: noise ``reference_sigma_hu`` in a water phantom of
        ``reference_diameter_mm`` at ``reference_mas``.

    Returns
    -------
    float or ndarray
        ``sigma_ref * exp(mu (Dw - D_ref) / 2) * sqrt(mAs_ref / mAs)``.

    Notes
    -----
    A ray through the centre of a water cylinder of diameter D keeps
    ``N = N0 exp(-mu D)`` of ``N0`` photons, proportional to mAs; the
    variance of its log-transformed measurement is 1/N, and filtered
    backprojection passes it to the image linearly. Hence sigma is
    proportional to ``exp(mu D / 2) / sqrt(mAs)``. Beam hardening makes the
    effective mu fall with D, so the growth is slightly slower in practice.

    References
    ----------
    Kak AC, Slaney M. Principles of Computerized Tomographic Imaging. IEEE
    Press; 1988, chapter 5 (noise in reconstructed images).
    DOI 10.1137/1.9780898719277.

    Examples
    --------
    >>> round(ct_noise_sigma_hu(300.0, 50.0, mu_water_per_mm=0.02, reference_sigma_hu=10.0,
    ...                         reference_diameter_mm=300.0, reference_mas=200.0), 6)
    20.0
    """
    diameter = np.asarray(water_equivalent_diameter_mm, dtype=np.float64)
    current = np.asarray(mas, dtype=np.float64)
    if np.any(~(diameter > 0)):
        raise ValueError(f"`water_equivalent_diameter_mm` must be > 0, got {water_equivalent_diameter_mm}")
    if np.any(~(current > 0)):
        raise ValueError(f"`mas` must be > 0, got {mas}")
    for name, value in (("mu_water_per_mm", mu_water_per_mm), ("reference_sigma_hu", reference_sigma_hu),
                        ("reference_diameter_mm", reference_diameter_mm), ("reference_mas", reference_mas)):
        if not value > 0:
            raise ValueError(f"`{name}` must be > 0, got {value}")

    sigma = reference_sigma_hu * np.exp(mu_water_per_mm * (diameter - reference_diameter_mm) / 2.0)
    sigma = sigma * np.sqrt(reference_mas / current)
    return float(sigma) if sigma.ndim == 0 else sigma
