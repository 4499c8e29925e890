"""Coverage reports: what factors and strata a written set or a real collection covers.

:func:`coverage_report` reads a set's ``manifest.json`` (its per-sample
``factors`` and its ``sampling`` config), counts every factor and stratum,
flags empty strata and summarises image statistics (SNR estimate, spacing,
intensity range) per stratum and over the whole set.
:func:`compare_real_collection` counts a real collection, read by
:func:`medaug.data.report_real.scan_real_collection`, against the set's
strata or the default strata of each modality it holds; the empty strata
are what the real data lacks. :func:`write_report` saves a report as
Markdown, JSON and PNG figures.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medaug.data.report_images import (
    IMAGE_SUFFIXES,
    RAYLEIGH_FACTOR,
    aggregate_statistics,
    image_statistics,
)
from medaug.data.report_real import (
    RealCollection,
    default_real_policies,
    read_acquisition_factors,
    scan_real_collection,
)
from medaug.data.sampling import SamplingConfig, stratum_levels, stratum_of

__all__ = [
    "CoverageReport",
    "coverage_report",
    "summarise_factors",
    "strata_counts",
    "set_modality",
    "compare_real",
    "compare_real_collection",
    "write_report",
    # Re-exported from medaug.data.report_images and medaug.data.report_real.
    "RAYLEIGH_FACTOR",
    "image_statistics",
    "read_acquisition_factors",
    "scan_real_collection",
    "default_real_policies",
]

logger = logging.getLogger(__name__)

#: Record keys that identify a scan rather than describe its acquisition.
_RECORD_KEYS = ("path", "series_uid", "contrast_match")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


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
        ``"all"`` and each stratum label -> number of images, median SNR,
        spacings (mm) and intensity range, from
        :func:`medaug.data.report_images.aggregate_statistics`.
    notes : list of str
        Plain sentences on what the report could not show and why.
    unit : str
        What one counted item is: ``"sample"`` for sets, ``"scan"`` for real data.
    """

    source: str
    factors: dict[str, dict[str, Any]]
    strata: dict[str, int]
    requested: dict[str, int]
    empty_strata: list[str]
    outside_strata: int
    image_statistics: dict[str, dict[str, Any]]
    notes: list[str] = dataclasses.field(default_factory=list)
    unit: str = "sample"

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-serialisable data."""
        return dataclasses.asdict(self)

    def to_markdown(self) -> str:
        """Return the report as Markdown tables."""
        lines = [f"# Coverage of {self.source}", ""]
        lines += self._factor_lines() + self._strata_lines() + self._image_lines()
        if self.notes:
            lines += ["## Notes", ""] + [f"- {note}" for note in self.notes] + [""]
        return "\n".join(lines).rstrip("\n") + "\n"

    def _factor_lines(self) -> list[str]:
        lines = ["## Factors", ""]
        recorded = {name: s for name, s in self.factors.items() if s["count"]}
        if not recorded:
            return lines + [f"No factor is recorded for any {self.unit}.", ""]
        lines += ["| factor | kind | values |", "| --- | --- | --- |"]
        for name, summary in recorded.items():
            if summary["kind"] == "numeric":
                text = _plural(summary["count"], self.unit)
                if summary["values"] != summary["count"]:
                    text += f" ({summary['values']} values)"
                text += f", {summary['min']:.4g} .. {summary['max']:.4g} (mean {summary['mean']:.4g})"
            else:
                text = ", ".join(f"{value}: {count}" for value, count in summary["counts"].items())
            if summary["missing"]:
                text += f"; missing in {summary['missing']}"
            lines.append(f"| {name} | {summary['kind']} | {text} |")
        absent = [name for name in self.factors if name not in recorded]
        if absent:
            lines += ["", f"Not recorded for any {self.unit}: " + ", ".join(absent) + "."]
        return lines + [""]

    def _strata_lines(self) -> list[str]:
        if not self.strata:
            return []
        lines = ["## Strata", "", f"| stratum | {self.unit}s | requested |", "| --- | --- | --- |"]
        for label, count in self.strata.items():
            flag = " **empty**" if label in self.empty_strata else ""
            lines.append(f"| {label} | {count}{flag} | {self.requested.get(label, '')} |")
        outside = _plural(self.outside_strata, self.unit)
        verb = "falls" if self.outside_strata == 1 else "fall"
        return lines + ["", f"{len(self.empty_strata)} of {len(self.strata)} strata are empty; "
                        f"{outside} {verb} outside every stratum.", ""]

    def _image_lines(self) -> list[str]:
        if not self.image_statistics:
            return []
        lines = ["## Images", "", "| group | images | median SNR | spacing (mm, x y z) | intensity range |",
                 "| --- | --- | --- | --- | --- |"]
        for group, stats in self.image_statistics.items():
            snr = f"{stats['median_snr']:.3g}" if "median_snr" in stats else "n/a"
            spacing = "; ".join(f"{s} ({n})" for s, n in stats.get("spacings_mm", {}).items()) or "n/a"
            limits = (f"{stats['intensity_min']:.4g} .. {stats['intensity_max']:.4g}"
                      if "intensity_min" in stats else "n/a")
            name = f"all {self.unit}s" if group == "all" else group
            lines.append(f"| {name} | {stats['images']} | {snr} | {spacing} | {limits} |")
        return lines + [""]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def summarise_factors(factor_dicts: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Tabulate every factor over the samples: numeric range and histogram, or value counts.

    A factor whose values are all numbers is ``numeric`` (min, max, mean,
    10-bin histogram over every value); any other is ``categorical`` (count
    per value). ``count`` is the number of samples with the factor and
    ``missing`` the number without it. Lists (lesion diameters, pixel
    spacing) are flattened for the statistics, so a numeric summary also
    gives the number of ``values``.

    Examples
    --------
    >>> summary = summarise_factors([{"contrast": "t2", "tr_ms": 3000.0}, {"contrast": "pd"}])
    >>> summary["contrast"]["counts"], summary["tr_ms"]["missing"]
    ({'pd': 1, 't2': 1}, 1)
    >>> spacing = summarise_factors([{"pixel_spacing_mm": [0.5, 0.5]}])["pixel_spacing_mm"]
    >>> spacing["count"], spacing["values"]
    (1, 2)
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
        count = len(factor_dicts) - missing
        if values and all(_is_number(v) for v in values):
            array = np.asarray(values, dtype=np.float64)
            counts, edges = np.histogram(array, bins=10)
            summaries[name] = {
                "kind": "numeric", "count": count, "values": int(array.size), "missing": missing,
                "min": float(array.min()), "max": float(array.max()), "mean": float(array.mean()),
                "histogram": {"counts": counts.tolist(), "edges": edges.tolist()},
            }
        else:
            counter = Counter(str(v) for v in values)
            summaries[name] = {"kind": "categorical", "count": count, "missing": missing,
                               "counts": dict(sorted(counter.items()))}
    return summaries


def strata_counts(policy: SamplingConfig, factor_dicts: Sequence[Mapping[str, Any]]) -> tuple[dict[str, int], int]:
    """Count samples per declared stratum; return the counts and the number outside every stratum.

    A policy without strata returns no counts and 0 outside.
    """
    if not policy.strata:
        return {}, 0
    counts = dict.fromkeys(stratum_levels(policy), 0)
    outside = 0
    for factors in factor_dicts:
        label = stratum_of(policy, dict(factors))
        if label is None:
            outside += 1
        else:
            counts[label] += 1
    return counts, outside


def set_modality(config: Mapping[str, Any]) -> str | None:
    """Return ``"MR"`` or ``"CT"`` for a pipeline config that simulates one modality, else None.

    The simulation steps decide (``mri`` or ``ct``); without them, the
    sampled factors do (``kvp`` or ``kernel`` for CT; ``field_strength_t``,
    ``contrast`` or ``coil`` for MR).

    Examples
    --------
    >>> set_modality({"simulation": [{"type": "mri", "coils": 8}]})
    'MR'
    >>> set_modality({"sampling": {"factors": {"kvp": {"choices": [120]}}}})
    'CT'
    >>> set_modality({"source": {"type": "shapes"}}) is None
    True
    """
    types = {step.get("type") for step in config.get("simulation") or [] if isinstance(step, Mapping)}
    found = {modality for step, modality in (("mri", "MR"), ("ct", "CT")) if step in types}
    if not found:
        factors = set((config.get("sampling") or {}).get("factors") or {})
        if factors & {"kvp", "kernel"}:
            found.add("CT")
        if factors & {"field_strength_t", "contrast", "coil"}:
            found.add("MR")
    return found.pop() if len(found) == 1 else None


def _sample_images(set_dir: Path, sample: Mapping[str, Any]) -> list[Path]:
    paths = [set_dir / f["path"] for f in sample.get("files", []) if isinstance(f, Mapping) and "path" in f]
    return [p for p in paths if p.name.lower().endswith(IMAGE_SUFFIXES) and "label" not in p.parts[-2].lower()]


def _set_image_statistics(
    set_dir: Path,
    samples: Sequence[Mapping[str, Any]],
    labels: Sequence[str | None],
    max_images: int | None,
) -> tuple[dict[str, dict[str, Any]], int]:
    """Return image statistics of ``"all"`` and each stratum, and the number of files found."""
    groups: dict[str, list[dict[str, Any]]] = {}
    found = 0
    for sample, label in zip(samples, labels):
        for path in _sample_images(set_dir, sample):
            found += 1
            if max_images is not None and found > max_images:
                continue
            for stats in image_statistics(path):
                groups.setdefault("all", []).append(stats)
                if label is not None:
                    groups.setdefault(label, []).append(stats)
    return {group: aggregate_statistics(stats) for group, stats in groups.items()}, found


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
        If ``set_dir`` does not exist or has no ``manifest.json``.
    """
    set_dir = Path(set_dir)
    if not set_dir.is_dir():
        raise FileNotFoundError(f"set folder not found: {str(set_dir)!r}")
    path = set_dir / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"no manifest.json in {str(set_dir)!r}; is it a finished medaug set?")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    samples = manifest.get("samples", [])
    factor_dicts = [dict((s.get("parameters") or {}).get("factors") or s.get("factors") or {}) for s in samples]
    sampling = (manifest.get("config") or {}).get("sampling")
    policy = SamplingConfig.model_validate(sampling) if sampling else None

    counts, outside, requested = {}, 0, {}
    if policy is not None and policy.strata:
        counts, outside = strata_counts(policy, factor_dicts)
        requested = policy.stratum_counts() if policy.mode == "stratified" else {}
    labels = [stratum_of(policy, f) if counts else None for f in factor_dicts]  # type: ignore[arg-type]
    statistics, found = _set_image_statistics(set_dir, samples, labels, max_images)
    statistics = {group: statistics[group] for group in ("all", *counts) if group in statistics}
    return CoverageReport(
        source=str(set_dir),
        factors=summarise_factors(factor_dicts),
        strata=counts,
        requested=requested,
        empty_strata=[label for label, count in counts.items() if count == 0],
        outside_strata=outside,
        image_statistics=statistics,
        notes=_set_notes(policy, len(samples), found, max_images),
    )


def _set_notes(policy: SamplingConfig | None, samples: int, found: int, max_images: int | None) -> list[str]:
    notes = []
    if policy is None:
        notes.append("The set's config has no `sampling` section, so its samples carry no sampled "
                      "factors and there are no strata to count; image statistics cover the whole set.")
    elif not policy.strata:
        notes.append("The set's `sampling` section declares no `strata`, so image statistics cover "
                      "the whole set.")
    if found == 0:
        notes.append(f"None of the {_plural(samples, 'sample')} lists an image file that the report reads "
                     f"({', '.join(IMAGE_SUFFIXES)}), so there are no image statistics.")
    elif max_images is not None and found > max_images:
        notes.append(f"Image statistics read the first {max_images} of {found} image files "
                     "(raise `--max-images` to read more).")
    return notes


def compare_real(
    records: Sequence[Mapping[str, Any]],
    policy: SamplingConfig | None = None,
    *,
    source: str = "",
    notes: Sequence[str] = (),
) -> CoverageReport:
    """Count real records per stratum of ``policy``; the empty strata are what real data lacks.

    Without a policy (or one without strata) the report tabulates the
    factors only.
    """
    counts, outside = strata_counts(policy, records) if policy is not None else ({}, 0)
    notes = list(notes)
    if counts:
        lacking = Counter(name for r in records for name in policy.strata if r.get(name) is None)  # type: ignore[union-attr]
        for name, count in lacking.items():
            subject = "1 scan has" if count == 1 else f"{count} scans have"
            notes.append(f"{subject} no `{name}` in the header and so no stratum; the empty strata "
                         "may include what the real data covers.")
    return CoverageReport(
        source=source,
        factors=summarise_factors([{k: v for k, v in r.items() if k not in _RECORD_KEYS} for r in records]),
        strata=counts,
        requested={},
        empty_strata=[label for label, count in counts.items() if count == 0],
        outside_strata=outside,
        image_statistics={},
        notes=notes,
        unit="scan",
    )


def _collection_notes(collection: RealCollection) -> list[str]:
    notes = ["Image statistics are not computed for real data: the report reads headers only."]
    if collection.skipped:
        names = ", ".join(f"{Path(p).name} ({reason})" for p, reason in collection.skipped.items())
        notes.append(f"Skipped {_plural(len(collection.skipped), 'label map')}: {names}.")
    weighting = [Path(r["path"]).name for r in collection.records if r.get("contrast_match") == "weighting rule"]
    if weighting:
        notes.append("Contrast named by the TR/TE weighting rule, outside every profile's ranges: "
                     + ", ".join(weighting) + ".")
    unknown = sum(1 for r in collection.records if not r.get("modality"))
    if unknown:
        notes.append(f"{_plural(unknown, 'scan')} of unknown modality (no DICOM Modality, no BIDS sidecar, "
                     "no CT air values) are compared with no modality's strata.")
    return notes


def compare_real_collection(
    collection: RealCollection,
    *,
    set_policy: SamplingConfig | None = None,
    modality: str | None = None,
) -> dict[str, CoverageReport]:
    """Compare a real collection with the set's strata, or with the default strata of each modality present.

    Parameters
    ----------
    collection : RealCollection
        From :func:`medaug.data.report_real.scan_real_collection`.
    set_policy : SamplingConfig, optional
        The set's sampling policy; compared when it declares strata.
    modality : {"MR", "CT"}, optional
        The set's modality (:func:`set_modality`). The set's strata are then
        compared with the real scans of that modality only.

    Returns
    -------
    dict
        ``"real"`` -> the factor overview, then ``"set"`` (the set's strata)
        and/or ``"MR"`` and ``"CT"`` (:func:`default_real_policies`) -> the
        comparison, one per modality present in the collection. A modality
        without scans is not compared, and the overview's notes state that.
    """
    records = collection.records
    notes = _collection_notes(collection)
    present = sorted({r["modality"] for r in records if r.get("modality") in ("MR", "CT")})
    reports: dict[str, CoverageReport] = {}
    defaults = default_real_policies()
    if set_policy is not None and set_policy.strata:
        subset = [r for r in records if modality is None or r.get("modality") == modality]
        if subset:
            reports["set"] = compare_real(subset, set_policy, source=f"{collection.source} (set strata)")
            present = [m for m in present if m != modality] if modality is not None else []
        else:
            notes.append(f"Modality mismatch: the set is {modality} but the real data holds "
                         f"{' and '.join(present) or 'no scan of known modality'}, so the set's strata "
                         "are not compared.")
    elif modality is not None and modality not in present and present:
        notes.append(f"Modality mismatch: the set is {modality} but the real data holds "
                     f"{' and '.join(present)} only; the real scans are compared with the default "
                     f"{' and '.join(present)} strata.")
    for name in present:
        subset = [r for r in records if r.get("modality") == name]
        reports[name] = compare_real(subset, defaults[name], source=f"{collection.source} ({name} strata)")
    if not reports:
        notes.append("No scan has a known modality (MR or CT), so no strata are compared.")
    return {"real": compare_real(records, source=collection.source, notes=notes), **reports}


def write_report(report: CoverageReport, out_dir: str | os.PathLike[str], *, stem: str = "coverage") -> list[Path]:
    """Write ``<stem>.md``, ``<stem>.json``, ``<stem>_factors.png`` and ``<stem>_strata.png``.

    The factor figure is left out when no factor is recorded, the strata
    figure when there are no strata. Empty strata are drawn in red. Returns
    the written paths.
    """
    from medaug.data.report_figures import save_factor_figure, save_strata_figure

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / f"{stem}.md", out_dir / f"{stem}.json"]
    written[0].write_text(report.to_markdown(), encoding="utf-8")
    written[1].write_text(json.dumps(report.to_dict(), indent=1, allow_nan=False) + "\n", encoding="utf-8")
    if save_factor_figure(report.factors, out_dir / f"{stem}_factors.png", unit=report.unit):
        written.append(out_dir / f"{stem}_factors.png")
    if save_strata_figure(report.strata, report.empty_strata, out_dir / f"{stem}_strata.png", unit=report.unit):
        written.append(out_dir / f"{stem}_strata.png")
    return written
