"""Summaries of image files: shape, dtype, geometry, orientation and intensities."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from medaug.core.fields import GridField

__all__ = ["describe_image", "format_description"]

#: Percentiles that :func:`describe_image` reports.
DEFAULT_PERCENTILES = (0.5, 1.0, 5.0, 50.0, 95.0, 99.0, 99.5)


def describe_image(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``path`` and return its shape, dtype, geometry and intensity statistics.

    Spacing, shape and origin are given both in array order ``(D, H, W)``
    and in file order ``(x, y, z)`` as ITK and NIfTI tools print them.
    """
    from medaug.io.images import read_image

    field = read_image(path)
    return describe_field(field, source=str(path))


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
