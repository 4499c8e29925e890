"""Coverage reports: what factors and strata a written set or a real collection covers.

:func:`coverage_report` reads a set's ``manifest.json`` (its per-sample
``factors`` and its ``sampling`` config), counts every factor and stratum,
flags empty strata and summarises image statistics per stratum.
:func:`scan_real_collection` reads the acquisition factors of real scans
from DICOM headers (pydicom) or NIfTI files (SimpleITK, plus a BIDS JSON
sidecar when present), and :func:`compare_real` lists the strata the real
data lacks. :func:`write_report` saves the result as Markdown, JSON and
PNG figures.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medaug.data.profiles import classify_contrast, load_profile_library
from medaug.data.sampling import SamplingConfig, stratum_levels, stratum_of

__all__ = [
    "CoverageReport",
    "coverage_report",
    "summarise_factors",
    "strata_counts",
    "image_statistics",
    "read_acquisition_factors",
    "scan_real_collection",
    "default_real_policies",
    "compare_real",
    "write_report",
    "RAYLEIGH_FACTOR",
]

logger = logging.getLogger(__name__)

#: Ratio of the standard deviation of Rayleigh-distributed background noise
#: to the Gaussian sigma of each channel, sqrt(2 - pi / 2) = 0.655
#: (Henkelman, Med Phys 1985;12(2):232-233, DOI 10.1118/1.595711).
RAYLEIGH_FACTOR = math.sqrt(2.0 - math.pi / 2.0)

_IMAGE_SUFFIXES = (".nii", ".nii.gz", ".mha", ".mhd", ".nrrd")


@dataclasses.dataclass
class CoverageReport:
    """Factor tables, strata counts and image statistics of one set or collection.

    Attributes
    ----------
    source : str
        The set folder or real collection folder.
    factors : dict
        Factor name -> summary from :func:`summarise_factors`.
    strata : dict
        Stratum label -> number of samples (declared strata only).
    requested : dict
        Stratum label -> requested count (stratified sets), else empty.
    empty_strata : list of str
        Declared strata with no sample.
    outside_strata : int
        Samples whose factors fall in no declared stratum.
    image_statistics : dict
        Stratum label (or ``"all"``) -> median SNR, spacing and intensity range.
    """

    source: str
    factors: dict[str, dict[str, Any]]
    strata: dict[str, int]
    requested: dict[str, int]
    empty_strata: list[str]
    outside_strata: int
    image_statistics: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-serialisable data."""
        return dataclasses.asdict(self)

    def to_markdown(self) -> str:
        """Return the report as Markdown tables."""
        lines = [f"# Coverage of {self.source}", "", "## Factors", ""]
        lines += ["| factor | kind | values |", "| --- | --- | --- |"]
        for name, summary in self.factors.items():
            if summary["kind"] == "numeric":
                text = f"{summary['count']} values, {summary['min']:.4g} .. {summary['max']:.4g} (mean {summary['mean']:.4g})"
            else:
                text = ", ".join(f"{value}: {count}" for value, count in summary["counts"].items())
            lines.append(f"| {name} | {summary['kind']} | {text} |")
        if self.strata:
            lines += ["", "## Strata", "", "| stratum | samples | requested | statistics |", "| --- | --- | --- | --- |"]
            for label, count in self.strata.items():
                stats = self.image_statistics.get(label, {})
                text = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in stats.items())
                flag = " **empty**" if label in self.empty_strata else ""
                lines.append(f"| {label} | {count}{flag} | {self.requested.get(label, '')} | {text} |")
            lines += ["", f"{len(self.empty_strata)} of {len(self.strata)} strata are empty; "
                      f"{self.outside_strata} samples fall outside every stratum."]
        if "all" in self.image_statistics:
            stats = self.image_statistics["all"]
            lines += ["", "## Images", "", ", ".join(f"{k}: {v}" for k, v in stats.items())]
        return "\n".join(lines) + "\n"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def summarise_factors(factor_dicts: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Tabulate every factor over the samples: numeric range and histogram, or value counts.

    A factor whose values are all numbers is ``numeric`` (count, min, max,
    mean, 10-bin histogram); any other is ``categorical`` (count per value).
    Lists (lesion diameters) are flattened. Missing values are counted in
    ``missing``.

    Examples
    --------
    >>> summary = summarise_factors([{"contrast": "t2", "tr_ms": 3000.0}, {"contrast": "pd"}])
    >>> summary["contrast"]["counts"], summary["tr_ms"]["missing"]
    ({'pd': 1, 't2': 1}, 1)
    """
    names: list[str] = []
    for factors in factor_dicts:
        names += [name for name in factors if name not in names]
    summaries = {}
    for name in names:
        values = []
        for factors in factor_dicts:
            value = factors.get(name)
            if isinstance(value, (list, tuple)):
                values.extend(value)
            elif value is not None:
                values.append(value)
        missing = sum(1 for factors in factor_dicts if factors.get(name) is None)
        if values and all(_is_number(v) for v in values):
            array = np.asarray(values, dtype=np.float64)
            counts, edges = np.histogram(array, bins=10)
            summaries[name] = {
                "kind": "numeric", "count": int(array.size), "missing": missing,
                "min": float(array.min()), "max": float(array.max()), "mean": float(array.mean()),
                "histogram": {"counts": counts.tolist(), "edges": edges.tolist()},
            }
        else:
            counter = Counter(str(v) for v in values)
            summaries[name] = {"kind": "categorical", "count": len(values), "missing": missing,
                               "counts": dict(sorted(counter.items()))}
    return summaries


def strata_counts(policy: SamplingConfig, factor_dicts: Sequence[Mapping[str, Any]]) -> tuple[dict[str, int], int]:
    """Count samples per declared stratum; return the counts and the number outside every stratum."""
    counts = dict.fromkeys(stratum_levels(policy), 0)
    outside = 0
    for factors in factor_dicts:
        label = stratum_of(policy, factors)
        if label is None:
            outside += 1
        else:
            counts[label] += 1
    return counts, outside


def _estimate_snr(values: np.ndarray) -> float | None:
    """Estimate SNR as foreground mean over background noise sigma (Otsu split, Rayleigh-corrected).

    NOTE: the background is assumed to be air that contains only noise, as
    in magnitude MR images. For CT this measures contrast to air noise, not
    the noise inside tissue.
    """
    from skimage.filters import threshold_otsu

    finite = values[np.isfinite(values)]
    if finite.size < 16 or finite.min() == finite.max():
        return None
    threshold = threshold_otsu(finite)
    foreground, background = finite[finite > threshold], finite[finite <= threshold]
    noise = background.std()
    if background.size < 8 or noise == 0:
        return None
    sigma = noise / RAYLEIGH_FACTOR if background.min() >= 0 else noise
    return float(foreground.mean() / sigma)


def image_statistics(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return SNR estimate, spacing (mm, x y z) and intensity range of an image file (SimpleITK)."""
    import SimpleITK as sitk

    image = sitk.ReadImage(str(path))
    values = sitk.GetArrayViewFromImage(image).astype(np.float64)
    return {
        "snr": _estimate_snr(values),
        "spacing_mm": [float(s) for s in image.GetSpacing()],
        "min": float(np.nanmin(values)),
        "max": float(np.nanmax(values)),
    }


def _aggregate(stats: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    snrs = [s["snr"] for s in stats if s.get("snr") is not None]
    spacings = [min(s["spacing_mm"]) for s in stats if s.get("spacing_mm")]
    result: dict[str, Any] = {"images": len(stats)}
    if snrs:
        result["median_snr"] = float(np.median(snrs))
    if spacings:
        result["finest_spacing_mm"] = float(min(spacings))
        result["coarsest_spacing_mm"] = float(max(spacings))
    if stats:
        result["intensity_min"] = float(min(s["min"] for s in stats))
        result["intensity_max"] = float(max(s["max"] for s in stats))
    return result


def _sample_images(set_dir: Path, sample: Mapping[str, Any]) -> list[Path]:
    paths = [set_dir / f["path"] for f in sample.get("files", []) if isinstance(f, Mapping) and "path" in f]
    return [p for p in paths if p.name.endswith(_IMAGE_SUFFIXES) and "label" not in p.parts[-2]]


def coverage_report(set_dir: str | os.PathLike[str], *, max_images: int | None = 200) -> CoverageReport:
    """Build the coverage report of a written set.

    Parameters
    ----------
    set_dir : path-like
        Folder with the ``manifest.json`` that ``medaug generate`` writes.
    max_images : int or None, default 200
        Image files read for statistics (the first ones in index order);
        None reads all.

    Raises
    ------
    FileNotFoundError
        If ``set_dir`` has no ``manifest.json``.
    """
    set_dir = Path(set_dir)
    path = set_dir / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"no manifest.json in {str(set_dir)!r}; is it a finished medaug set?")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    samples = manifest.get("samples", [])
    factor_dicts = [dict((s.get("parameters") or {}).get("factors") or s.get("factors") or {}) for s in samples]
    sampling = (manifest.get("config") or {}).get("sampling")
    policy = SamplingConfig.model_validate(sampling) if sampling else None

    factor_table = summarise_factors(factor_dicts)
    counts, outside, requested = {}, 0, {}
    if policy is not None and policy.strata:
        counts, outside = strata_counts(policy, factor_dicts)
        requested = policy.stratum_counts() if policy.mode == "stratified" else {}

    per_stratum: dict[str, list[dict[str, Any]]] = {}
    read = 0
    for sample, factors in zip(samples, factor_dicts):
        for image_path in _sample_images(set_dir, sample):
            if max_images is not None and read >= max_images:
                break
            stats = image_statistics(image_path)
            read += 1
            per_stratum.setdefault("all", []).append(stats)
            label = stratum_of(policy, factors) if policy is not None and policy.strata else None
            if label is not None:
                per_stratum.setdefault(label, []).append(stats)
    return CoverageReport(
        source=str(set_dir),
        factors=factor_table,
        strata=counts,
        requested=requested,
        empty_strata=[label for label, count in counts.items() if count == 0],
        outside_strata=outside,
        image_statistics={label: _aggregate(stats) for label, stats in per_stratum.items()},
    )


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


def _nifti_factors(path: Path) -> dict[str, Any]:
    import SimpleITK as sitk

    image = sitk.ReadImage(str(path))
    values = sitk.GetArrayViewFromImage(image)
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


def read_acquisition_factors(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the acquisition factors of one DICOM file or NIfTI volume.

    Returns modality, manufacturer, field strength (T, snapped to a profile
    field), kVp, mAs, CTDIvol (mGy), kernel name, slice thickness and pixel
    spacing (mm), TR/TE/TI (ms), flip angle, age, sex and the contrast
    profile its timing matches. Absent header fields are None.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} is not a file")
    if path.name.endswith((".nii", ".nii.gz")):
        factors = _nifti_factors(path)
    else:
        factors = _dicom_factors(path)
    factors["field_strength_t"] = _nearest_field(factors.get("field_strength_t"))
    factors["contrast"] = classify_contrast(factors.get("tr_ms"), factors.get("te_ms"), factors.get("ti_ms"))
    return factors


def _is_dicom(path: Path) -> bool:
    if path.suffix.lower() == ".dcm":
        return True
    with open(path, "rb") as handle:
        handle.seek(128)
        return handle.read(4) == b"DICM"


def scan_real_collection(root: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """Read acquisition factors of every DICOM series and NIfTI volume under ``root``.

    ``root`` is a folder (searched recursively) or a list of files. DICOM
    files of one series (same SeriesInstanceUID) give one record, from the
    first file; files that are neither DICOM nor NIfTI are skipped.
    """
    if isinstance(root, (str, os.PathLike)):
        root = Path(root)
        if root.is_file():
            files = [root]
        elif root.is_dir():
            files = sorted(p for p in root.rglob("*") if p.is_file())
        else:
            raise FileNotFoundError(f"{str(root)!r} is neither a file nor a folder")
    else:
        files = [Path(p) for p in root]
    records, series_seen = [], set()
    for path in files:
        if not (path.name.endswith((".nii", ".nii.gz")) or _is_dicom(path)):
            continue
        factors = read_acquisition_factors(path)
        series = factors.get("series_uid")
        if series is not None and series in series_seen:
            continue
        series_seen.add(series)
        records.append(factors)
    logger.info("read acquisition factors of %d series or volumes", len(records))
    return records


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


def compare_real(records: Sequence[Mapping[str, Any]], policy: SamplingConfig, *, source: str = "") -> CoverageReport:
    """Count real records per stratum of ``policy``; the empty strata are what real data lacks."""
    counts, outside = strata_counts(policy, records)
    return CoverageReport(
        source=source,
        factors=summarise_factors([{k: v for k, v in r.items() if k not in ("path", "series_uid")} for r in records]),
        strata=counts,
        requested={},
        empty_strata=[label for label, count in counts.items() if count == 0],
        outside_strata=outside,
        image_statistics={},
    )


def _plot_factor(axis: Any, name: str, summary: Mapping[str, Any]) -> None:
    if summary["kind"] == "numeric":
        edges = np.asarray(summary["histogram"]["edges"])
        axis.bar(edges[:-1], summary["histogram"]["counts"], width=np.diff(edges), align="edge", edgecolor="black")
    else:
        axis.bar(list(summary["counts"]), list(summary["counts"].values()), edgecolor="black")
        axis.tick_params(axis="x", labelrotation=45)
    axis.set_title(name, fontsize=9)
    axis.set_ylabel("samples")


def write_report(report: CoverageReport, out_dir: str | os.PathLike[str], *, stem: str = "coverage") -> list[Path]:
    """Write ``<stem>.md``, ``<stem>.json``, ``<stem>_factors.png`` and ``<stem>_strata.png``.

    Empty strata are drawn in red. Returns the written paths.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / f"{stem}.md", out_dir / f"{stem}.json"]
    written[0].write_text(report.to_markdown(), encoding="utf-8")
    written[1].write_text(json.dumps(report.to_dict(), indent=1, allow_nan=False) + "\n", encoding="utf-8")

    if report.factors:
        columns = min(4, len(report.factors))
        rows = math.ceil(len(report.factors) / columns)
        figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows), squeeze=False)
        for axis, (name, summary) in zip(axes.flat, report.factors.items()):
            _plot_factor(axis, name, summary)
        for axis in list(axes.flat)[len(report.factors):]:
            axis.set_visible(False)
        figure.tight_layout()
        written.append(out_dir / f"{stem}_factors.png")
        figure.savefig(written[-1], dpi=80)
        plt.close(figure)

    if report.strata:
        labels = list(report.strata)
        height = max(2.5, 0.25 * len(labels) + 1.0)
        figure, axis = plt.subplots(figsize=(8, height))
        colours = ["tab:red" if label in report.empty_strata else "tab:blue" for label in labels]
        axis.barh(range(len(labels)), list(report.strata.values()), color=colours)
        axis.set_yticks(range(len(labels)), labels, fontsize=7)
        axis.invert_yaxis()
        axis.set_xlabel("samples (red: empty stratum)")
        figure.tight_layout()
        written.append(out_dir / f"{stem}_strata.png")
        figure.savefig(written[-1], dpi=80)
        plt.close(figure)
    return written
