"""Image statistics for coverage reports: SNR estimate, voxel spacing and intensity range.

:func:`image_statistics` reads one image file of a written set, whatever
its writer: NIfTI, NRRD or MetaImage (nnU-Net layout), fastMRI HDF5 (the
reference reconstruction) or Zarr (every ``Image`` array). Spacing is given
in millimetres in file order ``(x, y[, z])``, as ITK and NIfTI tools print
it. :func:`aggregate_statistics` summarises the statistics of a group of
images (one stratum, or the whole set).
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "RAYLEIGH_FACTOR",
    "IMAGE_SUFFIXES",
    "estimate_snr",
    "image_statistics",
    "aggregate_statistics",
    "format_spacing",
]

#: Ratio of the standard deviation of Rayleigh-distributed background noise
#: to the Gaussian sigma of each channel, sqrt(2 - pi / 2) = 0.655
#: (Henkelman, Med Phys 1985;12(2):232-233, DOI 10.1118/1.595711).
RAYLEIGH_FACTOR = math.sqrt(2.0 - math.pi / 2.0)

#: File and folder name endings that :func:`image_statistics` reads.
IMAGE_SUFFIXES = (".nii", ".nii.gz", ".mha", ".mhd", ".nrrd", ".h5", ".zarr")

_SITK_SUFFIXES = (".nii", ".nii.gz", ".mha", ".mhd", ".nrrd")


def estimate_snr(values: np.ndarray) -> float | None:
    """Estimate SNR as foreground mean over background noise sigma (Otsu split, Rayleigh-corrected).

    Returns None when the image has fewer than 16 finite voxels, is
    constant, or its background is too small (< 8 voxels) or noise-free.

    NOTE: the background is assumed to be air that contains only noise, as
    in magnitude MR images. For CT this measures contrast to air noise, not
    the noise inside tissue.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> image = np.abs(rng.normal(0.0, 1.0, (64, 64)) + 1j * rng.normal(0.0, 1.0, (64, 64)))
    >>> image[16:48, 16:48] += 50.0
    >>> 40 < estimate_snr(image) < 60
    True
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


def _statistics(values: np.ndarray, spacing_xyz: Sequence[float] | None) -> dict[str, Any]:
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return {
        "snr": estimate_snr(values),
        "spacing_mm": [float(s) for s in spacing_xyz] if spacing_xyz is not None else None,
        "min": float(finite.min()) if finite.size else None,
        "max": float(finite.max()) if finite.size else None,
    }


def _fastmri_spacing(header: bytes | str) -> list[float] | None:
    """Return the in-plane spacing (mm, x y) from an ISMRMRD header's reconSpace.

    The header's matrix ``x`` runs along array axis H and ``y`` along W (the
    fastMRI convention), so the file-order spacing is ``(fov_y / y, fov_x / x)``.
    """
    text = header.decode("utf-8") if isinstance(header, bytes) else str(header)
    space = re.search(r"<reconSpace>(.*?)</reconSpace>", text, re.S)
    if space is None:
        return None
    matrix = re.search(r"<matrixSize><x>(\d+)</x><y>(\d+)</y>", space.group(1))
    fov = re.search(r"<fieldOfView_mm><x>([\d.eE+-]+)</x><y>([\d.eE+-]+)</y>", space.group(1))
    if matrix is None or fov is None:
        return None
    (nx, ny), (fx, fy) = (int(v) for v in matrix.groups()), (float(v) for v in fov.groups())
    return [fy / ny, fx / nx]


def _hdf5_statistics(path: Path) -> list[dict[str, Any]]:
    import h5py

    with h5py.File(path, "r") as handle:
        key = next((k for k in ("reconstruction_rss", "reconstruction_esc") if k in handle), None)
        if key is None:
            return []
        values = np.abs(handle[key][()])
        spacing = _fastmri_spacing(handle["ismrmrd_header"][()]) if "ismrmrd_header" in handle else None
    return [_statistics(values, spacing)]


def _zarr_statistics(path: Path) -> list[dict[str, Any]]:
    import zarr

    group = zarr.open_group(str(path), mode="r")
    results = []
    for name in sorted(group.array_keys()):
        array = group[name]
        if array.attrs.get("kind") != "Image":
            continue
        spacing = array.attrs.get("spacing_mm")  # array order (D, H, W)
        values = array[...]
        if np.iscomplexobj(values):
            values = np.abs(values)
        results.append(_statistics(values, list(reversed(spacing)) if spacing else None))
    return results


def image_statistics(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Return SNR estimate, spacing (mm, x y z) and intensity range of each image in a file.

    A NIfTI, NRRD or MetaImage file contains one image, read with SimpleITK.
    A fastMRI HDF5 file gives its reference reconstruction. A Zarr sample
    gives every array whose ``kind`` is ``Image``. Each entry has ``snr`` (see
    :func:`estimate_snr`, None when it cannot be estimated), ``spacing_mm``
    (None when the file stores none), ``min`` and ``max``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file name ends in none of :data:`IMAGE_SUFFIXES`.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"image file not found: {str(path)!r}")
    name = path.name.lower()
    if name.endswith(_SITK_SUFFIXES):
        import SimpleITK as sitk

        image = sitk.ReadImage(str(path))
        return [_statistics(sitk.GetArrayViewFromImage(image), image.GetSpacing())]
    if name.endswith(".h5"):
        return _hdf5_statistics(path)
    if name.endswith(".zarr"):
        return _zarr_statistics(path)
    raise ValueError(f"cannot read image statistics of {str(path)!r}: expected one of {list(IMAGE_SUFFIXES)}")


def format_spacing(spacing_mm: Sequence[float]) -> str:
    """Format a spacing as ``"0.957 x 0.957 x 1.5"`` (mm, 4 significant digits).

    Examples
    --------
    >>> format_spacing([0.95703125, 0.95703125, 1.5])
    '0.957 x 0.957 x 1.5'
    """
    return " x ".join(f"{s:.4g}" for s in spacing_mm)


def aggregate_statistics(stats: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Summarise the statistics of a group of images.

    Returns the number of ``images``, ``median_snr`` (over images whose SNR
    could be estimated), ``spacings_mm`` (each distinct spacing, formatted by
    :func:`format_spacing`, with its image count), ``finest_spacing_mm`` and
    ``coarsest_spacing_mm`` (smallest and largest voxel edge over all images),
    and the ``intensity_min`` and ``intensity_max`` over all images. Keys
    without data are left out.

    Examples
    --------
    >>> summary = aggregate_statistics([
    ...     {"snr": 10.0, "spacing_mm": [1.0, 1.0], "min": 0.0, "max": 2.0},
    ...     {"snr": 30.0, "spacing_mm": [1.0, 1.0], "min": -1.0, "max": 1.0},
    ... ])
    >>> summary["median_snr"], summary["spacings_mm"], summary["intensity_min"]
    (20.0, {'1 x 1': 2}, -1.0)
    """
    result: dict[str, Any] = {"images": len(stats)}
    snrs = [s["snr"] for s in stats if s.get("snr") is not None]
    if snrs:
        result["median_snr"] = float(np.median(snrs))
    spacings = [s["spacing_mm"] for s in stats if s.get("spacing_mm")]
    if spacings:
        result["spacings_mm"] = dict(Counter(format_spacing(s) for s in spacings))
        result["finest_spacing_mm"] = float(min(min(s) for s in spacings))
        result["coarsest_spacing_mm"] = float(max(max(s) for s in spacings))
    minima = [s["min"] for s in stats if s.get("min") is not None]
    maxima = [s["max"] for s in stats if s.get("max") is not None]
    if minima:
        result["intensity_min"] = float(min(minima))
        result["intensity_max"] = float(max(maxima))
    return result
