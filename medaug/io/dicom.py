"""DICOM series reading and writing with geometry and rescale kept.

SimpleITK (through GDCM) applies Rescale Slope (0028,1053) and Rescale
Intercept (0028,1052) when it reads, so CT files come back in Hounsfield
units. On writing, integer data within int16 or uint16 are stored as they
are with slope 1 and intercept 0. Float data are rejected: GDCM writes
neither float pixels nor a fractional slope with integer pixels.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from medaug.core.convert import field_from_sitk
from medaug.core.fields import GridField, Image

__all__ = ["read_dicom_series", "write_dicom_series", "format_decimal_string"]

logger = logging.getLogger(__name__)

# DICOM's Decimal String (DS) value representation allows at most 16 characters.
_DS_MAX_CHARACTERS = 16
# Root of DICOM UIDs made here (the ITK/GDCM example root, free for
# applications that do not register their own).
_UID_ROOT = "1.2.826.0.1.3680043.2.1125"


def format_decimal_string(value: float) -> str:
    """Format ``value`` as a DICOM Decimal String of at most 16 characters.

    Examples
    --------
    >>> format_decimal_string(0.1 + 0.2)
    '0.3'
    >>> float(format_decimal_string(-1024.0))
    -1024.0
    """
    if not np.isfinite(value):
        raise ValueError(f"DICOM decimal strings must be finite, got {value}")
    for digits in range(15, 0, -1):
        text = f"{value:.{digits}g}"
        if len(text) <= _DS_MAX_CHARACTERS:
            return text
    raise ValueError(f"cannot write {value} as a DICOM decimal string")


def read_dicom_series(folder: str | os.PathLike[str], *, series_id: str | None = None) -> Image:
    """Read the DICOM series in ``folder`` into an Image with its geometry.

    Parameters
    ----------
    folder : path
        Folder that contains the slices of one or more series.
    series_id : str, optional
        SeriesInstanceUID to read when the folder contains several series.

    Raises
    ------
    FileNotFoundError
        If the folder does not exist or contains no DICOM series.
    ValueError
        If several series are present and ``series_id`` is not given, or
        ``series_id`` is not among them.
    """
    import SimpleITK as sitk

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"DICOM folder not found: {str(folder)!r}")
    series = list(sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder)))
    if not series:
        raise FileNotFoundError(f"no DICOM series found in {str(folder)!r}")
    if series_id is None:
        if len(series) > 1:
            raise ValueError(
                f"{str(folder)!r} contains {len(series)} DICOM series {series}; pass `series_id`"
            )
        series_id = series[0]
    elif series_id not in series:
        raise ValueError(f"`series_id` {series_id!r} not found in {str(folder)!r}; found {series}")
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder), series_id))
    try:
        image = reader.Execute()
    except RuntimeError as error:
        raise ValueError(f"failed to read DICOM series in {str(folder)!r}: {error}") from error
    return field_from_sitk(image)  # type: ignore[return-value]


def _stored_values(array: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Return (stored 16-bit integers, intercept, slope) for ``array``."""
    if np.issubdtype(array.dtype, np.integer):
        low, high = int(array.min()), int(array.max())
        if -(2**15) <= low and high < 2**15:
            return array.astype(np.int16), 0.0, 1.0
        if 0 <= low and high < 2**16:
            return array.astype(np.uint16), 0.0, 1.0
        raise ValueError(
            f"integer values {low}..{high} do not fit 16-bit DICOM pixels; "
            "convert to float and pass quantize=True"
        )
    # GDCM, through SimpleITK, writes neither float pixels nor a non-integer
    # rescale slope with integer pixels, so float data cannot be stored
    # without a lossy conversion that the caller must choose.
    raise TypeError(
        f"DICOM stores integer pixels but the data are {array.dtype}; convert to integers "
        "first (for CT: Hounsfield units as int16), or write NIfTI/MHA for float data"
    )


def write_dicom_series(
    field: GridField,
    folder: str | os.PathLike[str],
    *,
    modality: str = "OT",
    series_description: str = "medaug",
    tags: dict[str, str] | None = None,
) -> list[Path]:
    """Write a 3-D field as a DICOM series, one file per slice, atomically.

    Parameters
    ----------
    field : Image
        Unbatched, one channel, 3 spatial axes ``(D, H, W)``.
    folder : path
        Destination folder; created, and must not already hold DICOM files.
    modality : str, default "OT"
        Modality (0008,0060), e.g. "CT" or "MR".
    series_description : str
        Series Description (0008,103E).
    tags : dict, optional
        Extra tags as ``{"gggg|eeee": value}``.

    Returns
    -------
    list of Path
        The slice files, in slice order.
    """
    import SimpleITK as sitk

    from medaug.core.convert import field_to_sitk

    if not isinstance(field, GridField) or field.is_batched or field.spatial_ndim != 3:
        raise ValueError("`field` must be an unbatched 3-D grid field shaped (1, D, H, W)")
    if field.num_channels != 1:
        raise ValueError(f"DICOM series take one channel, got {field.num_channels}")
    folder = Path(folder)
    if folder.exists() and any(folder.glob("*.dcm")):
        raise FileExistsError(f"{str(folder)!r} already contains DICOM files; choose an empty folder")

    stored, intercept, slope = _stored_values(field.numpy()[0])
    volume = field_to_sitk(Image(data=stored[None], geometry=field.geometry))
    direction = volume.GetDirection()
    orientation = "\\".join(format_decimal_string(v) for v in (*direction[0::3], *direction[1::3]))
    series_uid = f"{_UID_ROOT}.{int(time.time() * 1e6)}.{os.getpid()}"
    common = {
        "0008|0060": modality,
        "0008|103e": series_description,
        "0020|000d": series_uid + ".0",
        "0020|000e": series_uid,
        "0020|0037": orientation,
        "0028|1052": format_decimal_string(intercept),
        "0028|1053": format_decimal_string(slope),
        "0018|0050": format_decimal_string(volume.GetSpacing()[2]),
    }
    common.update(tags or {})

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        writer = sitk.ImageFileWriter()
        writer.KeepOriginalImageUIDOn()
        for k in range(volume.GetDepth()):
            _write_slice(writer, volume, k, common, staging)
        folder.mkdir(exist_ok=True)
        written = []
        for path in sorted(staging.iterdir()):
            target = folder / path.name
            os.replace(path, target)
            written.append(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def _write_slice(writer: Any, volume: Any, k: int, common: dict[str, str], staging: Path) -> None:
    slice_image = volume[:, :, k]
    for tag, value in common.items():
        slice_image.SetMetaData(tag, value)
    position = volume.TransformIndexToPhysicalPoint((0, 0, k))
    slice_image.SetMetaData("0020|0032", "\\".join(format_decimal_string(v) for v in position))
    slice_image.SetMetaData("0020|0013", str(k + 1))
    slice_image.SetMetaData("0008|0018", f"{common['0020|000e']}.{k + 1}")
    writer.SetFileName(str(staging / f"slice_{k:05d}.dcm"))
    writer.Execute(slice_image)
