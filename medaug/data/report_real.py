"""Acquisition factors of real scans, read from DICOM headers and NIfTI files.

:func:`scan_real_collection` walks a folder, skips label maps (see
:func:`label_map_reason`) and reads one record of acquisition factors per
DICOM series or NIfTI volume with :func:`read_acquisition_factors`.
:func:`default_real_policies` gives the strata real collections are compared
on when a set declares none.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from medaug.data.profiles import classify_contrast, load_profile_library
from medaug.data.sampling import SamplingConfig

__all__ = [
    "RealCollection",
    "LABEL_NAME_WORDS",
    "MAX_LABEL_VALUES",
    "label_map_reason",
    "classify_weighting",
    "read_acquisition_factors",
    "scan_real_collection",
    "default_real_policies",
]

logger = logging.getLogger(__name__)

#: Words that mark an integer file as a label map: a word of the file name,
#: or the first word of its folder, split at ``_ - . +`` and case changes,
#: that is one of them (or its plural) or ends in ``seg``.
#: ``ct_head_labels.nii.gz``, ``labelsTr/case.nii.gz``, ``sub-01_dseg.nii.gz``,
#: ``aparc+aseg.nii.gz`` and ``brain_mask.nii.gz`` match; ``t1_masked.nii.gz``
#: and ``study_labels/ct.nii.gz`` do not.
LABEL_NAME_WORDS = ("label", "labelmap", "seg", "segmentation", "mask", "atlas", "parc", "parcellation")

#: An integer volume with at most this many distinct values is a label map.
#: Scans use far more grey levels (the 8-bit ch2 T1 template has 249, the
#: int16 head CT thousands), while label maps hold a few classes. Atlases
#: with more regions (AAL has 117 values) are recognised by name only.
MAX_LABEL_VALUES = 64

#: DICOM modalities that store segmentations or structures, not images.
_LABEL_MODALITIES = ("SEG", "RTSTRUCT")

# Weighting rule for MR scans whose timing lies outside every contrast
# profile: short TR and short TE is T1-weighted, long TR and short TE is
# proton-density-weighted, long TR and long TE is T2-weighted. Thresholds
# from IMAIOS e-MRI, "Signal weighting" (short TR usually < 500 ms, long TR
# > 1500 ms, short TE < 30 ms, long TE usually > 90 ms), widened to take in
# the t1_se profile (TR up to 700 ms) and the t2 profile (TE from 80 ms).
_SHORT_TR_MS, _LONG_TR_MS = 800.0, 1500.0
_SHORT_TE_MS, _LONG_TE_MS = 30.0, 80.0
# An inversion time this long with a long TE nulls fluid (FLAIR).
_FLAIR_MIN_TI_MS = 1500.0


@dataclasses.dataclass
class RealCollection:
    """Acquisition records of the scans in a folder, and the files left out.

    Attributes
    ----------
    source : str
        The folder or file scanned.
    records : list of dict
        One record per DICOM series or NIfTI volume (see
        :func:`read_acquisition_factors`).
    skipped : dict
        Path -> reason, for label maps that were not read as scans.
    """

    source: str
    records: list[dict[str, Any]]
    skipped: dict[str, str]


def _label_word(path: Path) -> str | None:
    """Return the word of the file name, or the first word of its folder, that marks a label map."""
    for part, first_only in ((path.name, False), (path.parent.name, True)):
        stem = re.sub(r"\.(nii\.gz|nii|mha|mhd|nrrd|dcm)$", "", part, flags=re.I)
        words = [w for w in re.split(r"[_\-.+\s]+|(?<=[a-z])(?=[A-Z])", stem) if w]
        for word in words[:1] if first_only else words:
            lower = word.lower()
            if {lower, lower.removesuffix("s")} & set(LABEL_NAME_WORDS) or lower.endswith("seg"):
                return word
    return None


def label_map_reason(path: str | os.PathLike[str], values: np.ndarray | None = None) -> str | None:
    """Return why an integer image file is a label map, or None if it is read as a scan.

    An image with integer voxels is a label map when its file name or
    folder name marks it (see :data:`LABEL_NAME_WORDS`), or when it contains at most
    :data:`MAX_LABEL_VALUES` distinct values. Float images are never label
    maps.

    Parameters
    ----------
    path : path-like
        The image file; read with SimpleITK when ``values`` is None.
    values : numpy.ndarray, optional
        The voxel values, when the caller has read them already.

    Examples
    --------
    >>> label_map_reason("ct_head_labels.nii.gz", np.array([0, 1, 2], np.uint8))
    "integer voxels and the name part 'labels' marks a label map"
    >>> label_map_reason("scan.nii.gz", np.array([0, 1, 2], np.int16))
    'integer voxels with only 3 distinct values (at most 64)'
    >>> label_map_reason("scan.nii.gz", np.array([0.0, 1.0], np.float32)) is None
    True
    """
    path = Path(path)
    if values is None:
        import SimpleITK as sitk

        values = sitk.GetArrayViewFromImage(sitk.ReadImage(str(path)))
    if not np.issubdtype(values.dtype, np.integer):
        return None
    word = _label_word(path)
    if word is not None:
        return f"integer voxels and the name part {word!r} marks a label map"
    distinct = np.unique(values).size
    if distinct <= MAX_LABEL_VALUES:
        return f"integer voxels with only {distinct} distinct values (at most {MAX_LABEL_VALUES})"
    return None


def classify_weighting(tr_ms: float | None, te_ms: float | None, ti_ms: float | None = None) -> str | None:
    """Return the contrast profile that an MR scan's weighting matches, from TR, TE and TI alone.

    The fallback for scans whose timing lies outside every profile range
    of :func:`medaug.data.profiles.classify_contrast`. Without inversion,
    TR <= 800 ms and TE <= 30 ms is T1-weighted, TR >= 1500 ms and
    TE <= 30 ms proton-density-weighted, TR >= 1500 ms and TE >= 80 ms
    T2-weighted. With an inversion time of at least 1500 ms and TE >= 80 ms
    the scan is FLAIR. The result names the profile of that weighting
    (``t1_se``, ``pd``, ``t2`` or ``flair`` in the shipped library). Any
    other timing returns None.

    NOTE: the rule ignores flip angle and sequence type, so a gradient-echo
    scan that is T2*-weighted through a small flip angle can be named by its
    TR and TE alone.

    Examples
    --------
    >>> classify_weighting(4000.0, 240.0)
    't2'
    >>> classify_weighting(450.0, 10.0)
    't1_se'
    >>> classify_weighting(1000.0, 50.0) is None
    True
    """
    if tr_ms is None or te_ms is None:
        return None
    weighting = None
    inversion = bool(ti_ms)
    if inversion:
        if ti_ms >= _FLAIR_MIN_TI_MS and te_ms >= _LONG_TE_MS:
            weighting = "T2"
    elif te_ms <= _SHORT_TE_MS and tr_ms <= _SHORT_TR_MS:
        weighting = "T1"
    elif te_ms <= _SHORT_TE_MS and tr_ms >= _LONG_TR_MS:
        weighting = "PD"
    elif te_ms >= _LONG_TE_MS and tr_ms >= _LONG_TR_MS:
        weighting = "T2"
    if weighting is None:
        return None
    for name, profile in load_profile_library().mri.contrasts.items():
        if profile.weighting == weighting and (profile.ti_ms is not None) == inversion:
            return name
    return None


def _dicom_number(dataset: Any, keyword: str) -> float | None:
    value = dataset.get(keyword)
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _dicom_factors(path: Path) -> dict[str, Any]:
    import pydicom

    dataset = pydicom.dcmread(str(path), stop_before_pixels=True)
    factors: dict[str, Any] = {
        "path": str(path),
        "modality": str(dataset.get("Modality", "")) or None,
        "manufacturer": str(dataset.get("Manufacturer", "")) or None,
        "series_uid": str(dataset.get("SeriesInstanceUID", "")) or None,
        "field_strength_t": _dicom_number(dataset, "MagneticFieldStrength"),
        "kvp": _dicom_number(dataset, "KVP"),
        "mas": _dicom_number(dataset, "Exposure"),
        "ctdivol_mgy": _dicom_number(dataset, "CTDIvol"),
        "convolution_kernel": str(dataset.get("ConvolutionKernel", "")) or None,
        "slice_thickness_mm": _dicom_number(dataset, "SliceThickness"),
        "tr_ms": _dicom_number(dataset, "RepetitionTime"),
        "te_ms": _dicom_number(dataset, "EchoTime"),
        "ti_ms": _dicom_number(dataset, "InversionTime"),
        "flip_deg": _dicom_number(dataset, "FlipAngle"),
        "sex": {"M": "male", "F": "female"}.get(str(dataset.get("PatientSex", ""))),
    }
    spacing = dataset.get("PixelSpacing")
    factors["pixel_spacing_mm"] = [float(s) for s in spacing] if spacing else None
    age = str(dataset.get("PatientAge", ""))
    factors["age_years"] = float(age[:-1]) if age.endswith("Y") and age[:-1].isdigit() else None
    return factors


def _nifti_factors(path: Path, image: Any, values: np.ndarray) -> dict[str, Any]:
    spacing = [float(s) for s in image.GetSpacing()]
    factors: dict[str, Any] = {
        "path": str(path),
        "pixel_spacing_mm": spacing[:2],
        "slice_thickness_mm": spacing[2] if len(spacing) > 2 else None,
        # NIfTI has no modality field: CT is recognised by air near -1000 HU.
        "modality": "CT" if float(values.min()) <= -500 else None,
    }
    sidecar = Path(str(path).removesuffix(".gz").removesuffix(".nii") + ".json")
    if sidecar.is_file():
        # BIDS sidecars give times in seconds.
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        factors["manufacturer"] = meta.get("Manufacturer")
        factors["field_strength_t"] = meta.get("MagneticFieldStrength")
        for key, bids in (("tr_ms", "RepetitionTime"), ("te_ms", "EchoTime"), ("ti_ms", "InversionTime")):
            factors[key] = meta[bids] * 1000.0 if isinstance(meta.get(bids), (int, float)) else None
        factors["flip_deg"] = meta.get("FlipAngle")
        if factors["field_strength_t"] is not None:
            factors["modality"] = "MR"
    return factors


def _nearest_field(field_t: float | None) -> float | None:
    """Snap a header field strength (1.494 T) to the nearest profile field within 10 %."""
    if field_t is None:
        return None
    known = load_profile_library().field_strengths_t
    nearest = min(known, key=lambda k: abs(k - field_t))
    return nearest if abs(nearest - field_t) <= 0.1 * nearest else field_t


def _is_nifti(path: Path) -> bool:
    return path.name.lower().endswith((".nii", ".nii.gz"))


def _read_record(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """Return (acquisition factors, None) for a scan, or (None, reason) for a label map."""
    if _is_nifti(path):
        import SimpleITK as sitk

        image = sitk.ReadImage(str(path))
        values = sitk.GetArrayViewFromImage(image)
        reason = label_map_reason(path, values)
        if reason is not None:
            return None, reason
        factors = _nifti_factors(path, image, values)
    else:
        factors = _dicom_factors(path)
        if factors["modality"] in _LABEL_MODALITIES:
            return None, f"DICOM modality {factors['modality']} stores labels, not an image"
    factors["field_strength_t"] = _nearest_field(factors.get("field_strength_t"))
    contrast = classify_contrast(factors.get("tr_ms"), factors.get("te_ms"), factors.get("ti_ms"))
    factors["contrast_match"] = "profile ranges" if contrast is not None else None
    if contrast is None:
        contrast = classify_weighting(factors.get("tr_ms"), factors.get("te_ms"), factors.get("ti_ms"))
        factors["contrast_match"] = "weighting rule" if contrast is not None else None
    factors["contrast"] = contrast
    return factors, None


def read_acquisition_factors(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the acquisition factors of one DICOM file or NIfTI volume.

    Returns modality, manufacturer, field strength (T, snapped to a profile
    field), kVp, mAs, CTDIvol (mGy), kernel name, slice thickness and pixel
    spacing (mm), TR/TE/TI (ms), flip angle, age, sex, and the contrast
    profile of the timing: ``contrast`` is the profile whose TR, TE and TI
    ranges contain the timing, else the profile of its weighting
    (:func:`classify_weighting`), and ``contrast_match`` records which rule
    matched (``"profile ranges"`` or ``"weighting rule"``). Absent header
    fields are None.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        If ``path`` is a label map (see :func:`label_map_reason`).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {str(path)!r}")
    factors, reason = _read_record(path)
    if factors is None:
        raise ValueError(f"{str(path)!r} is a label map, not a scan: {reason}")
    return factors


def _is_dicom(path: Path) -> bool:
    if path.suffix.lower() == ".dcm":
        return True
    with open(path, "rb") as handle:
        handle.seek(128)
        return handle.read(4) == b"DICM"


def _list_files(root: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> tuple[str, list[Path]]:
    if not isinstance(root, (str, os.PathLike)):
        files = [Path(p) for p in root]
        return ", ".join(str(p) for p in files), files
    root = Path(root)
    if root.is_file():
        return str(root), [root]
    if root.is_dir():
        return str(root), sorted(p for p in root.rglob("*") if p.is_file())
    raise FileNotFoundError(f"real data folder or file not found: {str(root)!r}")


def scan_real_collection(root: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> RealCollection:
    """Read acquisition factors of every DICOM series and NIfTI volume under ``root``.

    ``root`` is a folder (searched recursively), a file, or a list of files.
    DICOM files of one series (same SeriesInstanceUID) give one record, from
    the first file. Label maps (see :func:`label_map_reason`, and DICOM SEG
    and RTSTRUCT objects) are listed in ``skipped``, and files that are
    neither DICOM nor NIfTI are ignored.

    Raises
    ------
    FileNotFoundError
        If ``root`` is a path that does not exist.
    """
    source, files = _list_files(root)
    records: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    series_seen = set()
    for path in files:
        if not (_is_nifti(path) or _is_dicom(path)):
            continue
        factors, reason = _read_record(path)
        if factors is None:
            logger.info("skipped label map %s: %s", path, reason)
            skipped[str(path)] = str(reason)
            continue
        series = factors.get("series_uid")
        if series is not None and series in series_seen:
            continue
        series_seen.add(series)
        records.append(factors)
    logger.info("read acquisition factors of %d series or volumes", len(records))
    return RealCollection(source=source, records=records, skipped=skipped)


def default_real_policies() -> dict[str, SamplingConfig]:
    """Return the strata real collections are compared on when no set config is given.

    MR: field strength x contrast over every profile; CT: tube voltage x
    slice thickness band (thin < 1.5 mm, medium < 3.5 mm, thick <= 10 mm).
    """
    library = load_profile_library()
    mr = SamplingConfig.model_validate({
        "factors": {"field_strength_t": {"choices": list(library.field_strengths_t)},
                    "contrast": {"choices": list(library.mri.contrasts)}},
        "strata": ["field_strength_t", "contrast"], "derive": False,
    })
    ct = SamplingConfig.model_validate({
        "factors": {"kvp": {"choices": list(library.ct.tube_voltage_kvp.values)},
                    "slice_thickness_mm": {"bands": [[0.1, 1.5], [1.5, 3.5], [3.5, 10.0]]}},
        "strata": ["kvp", "slice_thickness_mm"], "derive": False,
    })
    return {"MR": mr, "CT": ct}
