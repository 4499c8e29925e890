"""Summaries of image files: shape, dtype, geometry, orientation and intensities.

:func:`list_dicom_series` lists the series of a DICOM folder, so that a
caller can choose one to pass as ``series_id``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from medaug.core.fields import GridField

__all__ = [
    "describe_image",
    "describe_field",
    "format_description",
    "list_dicom_series",
    "format_series_list",
]

#: Percentiles that :func:`describe_image` reports.
DEFAULT_PERCENTILES = (0.5, 1.0, 5.0, 50.0, 95.0, 99.0, 99.5)


def describe_image(path: str | os.PathLike[str], *, series_id: str | None = None) -> dict[str, Any]:
    """Read ``path`` and return its shape, dtype, geometry and intensity statistics.

    Spacing, shape and origin are given both in array order ``(D, H, W)``
    and in file order ``(x, y, z)`` as ITK and NIfTI tools print them.
    ``series_id`` (a SeriesInstanceUID) chooses the series of a DICOM
    folder that contains several; :func:`list_dicom_series` lists them.
    """
    from medaug.io.images import read_image

    field = read_image(path, series_id=series_id)
    return describe_field(field, source=str(path))


def _series_tags(path: str) -> dict[str, str]:
    """Return the modality, series number and description tags of one DICOM file."""
    import SimpleITK as sitk

    reader = sitk.ImageFileReader()
    reader.SetFileName(path)
    reader.ReadImageInformation()
    tags = {"modality": "0008|0060", "series_number": "0020|0011", "description": "0008|103e"}
    return {name: reader.GetMetaData(tag).strip() if reader.HasMetaDataKey(tag) else ""
            for name, tag in tags.items()}


def list_dicom_series(folder: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """List the DICOM series in ``folder`` (GDCM, not recursive).

    Returns one dict per series: ``series_id`` (SeriesInstanceUID),
    ``files`` (number of slice files), and the ``modality``, ``series_number``
    and ``description`` tags of its first file (empty strings when absent).

    Raises
    ------
    FileNotFoundError
        If ``folder`` is not a folder.
    """
    import SimpleITK as sitk

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"DICOM folder not found: {str(folder)!r}")
    series = []
    for series_id in sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder)):
        files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), series_id)
        series.append({"series_id": series_id, "files": len(files), **_series_tags(files[0])})
    return series


def format_series_list(folder: str | os.PathLike[str], series: list[dict[str, Any]]) -> str:
    """Format :func:`list_dicom_series` output as aligned text lines, one per series."""
    width = max(len(s["series_id"]) for s in series)
    lines = [
        f"path          {folder}",
        f"DICOM series  {len(series)} in this folder; describe one with --series-id UID",
    ]
    for entry in series:
        description = "(no description)"
        if entry["description"]:
            description = f'"{entry["description"]}"'
        lines.append(f"  {entry['series_id']:<{width}}  {entry['files']:>4} files  "
                     f"{entry['modality'] or '--':<3}  {description}")
    return "\n".join(lines)


def describe_field(field: GridField, *, source: str = "") -> dict[str, Any]:
    """Return the summary of a field that :func:`describe_image` prints."""
    geometry = field.geometry
    values = field.numpy().astype(np.float64).reshape(-1)
    finite = values[np.isfinite(values)]
    percentile_values = np.percentile(finite, DEFAULT_PERCENTILES) if finite.size else []
    return {
        "path": source,
        "shape_array_order": list(field.data.shape),
        "size_xyz": list(reversed(field.spatial_shape)),
        "channels": field.num_channels,
        "dtype": str(field.data.dtype).replace("torch.", ""),
        "spacing_mm_xyz": list(reversed(geometry.spacing)),
        "origin_mm_lps": list(geometry.origin),
        "direction_xyz": [list(row) for row in geometry.direction_matrix[:, ::-1]],
        "orientation_ras": geometry.orientation,
        "min": float(finite.min()) if finite.size else None,
        "max": float(finite.max()) if finite.size else None,
        "mean": float(finite.mean()) if finite.size else None,
        "non_finite_voxels": int(values.size - finite.size),
        "percentiles": {f"p{p:g}": float(v) for p, v in zip(DEFAULT_PERCENTILES, percentile_values)},
    }


def format_description(info: dict[str, Any]) -> str:
    """Format a :func:`describe_image` summary as aligned text lines."""

    def numbers(values: Any) -> str:
        return " x ".join(f"{v:g}" for v in values)

    lines = [
        f"path          {info['path']}",
        f"size (x,y,z)  {numbers(info['size_xyz'])}  ({info['channels']} channel(s))",
        f"dtype         {info['dtype']}",
        f"spacing (mm)  {numbers(info['spacing_mm_xyz'])}  (x, y, z)",
        f"origin (mm)   {', '.join(f'{v:.3f}' for v in info['origin_mm_lps'])}  (LPS)",
        f"orientation   {info['orientation_ras']}  (RAS+ letters per file axis, as nibabel)",
        f"range         {info['min']:g} .. {info['max']:g}  (mean {info['mean']:.4g})",
        "percentiles   " + ", ".join(f"{k}={v:g}" for k, v in info["percentiles"].items()),
    ]
    if info["non_finite_voxels"]:
        lines.append(f"non-finite    {info['non_finite_voxels']} voxels (NaN or inf)")
    return "\n".join(lines)
