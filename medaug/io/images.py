"""Reading and writing medical images through SimpleITK, geometry kept.

Supported formats: NIfTI (``.nii``, ``.nii.gz``), NRRD (``.nrrd``), MetaImage
(``.mha``, ``.mhd`` + ``.raw``), and DICOM (a single ``.dcm`` file, or a
folder holding a series, see :mod:`medaug.io.dicom`). SimpleITK applies the
DICOM rescale slope and intercept on reading, returns native byte order for
big-endian files, and keeps int16 Hounsfield units as int16.

Writers are atomic: the file is written under a temporary name in the
destination folder, flushed to disk and then renamed, so a crash never
leaves a truncated image under the final name.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from medaug.core.convert import field_from_sitk, field_to_sitk
from medaug.core.fields import Field, GridField, Image, LabelMap
from medaug.core.sample import Sample

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "image_extension",
    "read_image",
    "read_sample",
    "write_image",
    "write_sample",
]

logger = logging.getLogger(__name__)

#: File name endings that :func:`read_image` and :func:`write_image` accept.
SUPPORTED_EXTENSIONS = (".nii.gz", ".nii", ".nrrd", ".mha", ".mhd", ".dcm")


def image_extension(path: str | os.PathLike[str]) -> str:
    """Return the supported extension of ``path`` (``.nii.gz`` counts as one).

    Raises
    ------
    ValueError
        If the name ends in none of :data:`SUPPORTED_EXTENSIONS`.
    """
    name = Path(path).name.lower()
    for extension in SUPPORTED_EXTENSIONS:
        if name.endswith(extension):
            return extension
    raise ValueError(
        f"unsupported image file extension in {str(path)!r}; expected one of "
        f"{', '.join(SUPPORTED_EXTENSIONS)} or a DICOM series folder"
    )


def _labels_from_field(field: Field, path: Path) -> LabelMap:
    """Convert an image read from ``path`` into a label map without losing values."""
    import torch

    data = field.data
    if data.is_floating_point():
        finite = bool(torch.isfinite(data).all())
        if not finite or not bool(torch.equal(data, torch.round(data))):
            raise ValueError(
                f"label file {str(path)!r} contains non-integer values (dtype {data.dtype}); "
                "a label map must contain integer classes"
            )
        low, high = float(data.min()), float(data.max())
        target = torch.uint8 if low >= 0 and high <= 255 else torch.int32
        if high > 2**31 - 1 or low < -(2**31):
            raise ValueError(f"label values of {str(path)!r} exceed int32: {low}..{high}")
        warnings.warn(
            f"label file {str(path)!r} is stored as {data.dtype} with integral values; "
            f"converted to {target}",
            stacklevel=3,
        )
        data = data.to(target)
    return LabelMap(data=data, geometry=field.geometry)  # type: ignore[arg-type]


def read_image(
    path: str | os.PathLike[str],
    *,
    label: bool = False,
    series_id: str | None = None,
) -> Image | LabelMap:
    """Read an image file (or DICOM series folder) into a channel-first field.

    Parameters
    ----------
    path : str or path-like
        A file with one of :data:`SUPPORTED_EXTENSIONS`, or a folder that
        contains a DICOM series.
    label : bool, default False
        Read as a :class:`LabelMap`. Float files are accepted only when every
        value is an integer (with a warning); otherwise ValueError.
    series_id : str, optional
        For a DICOM folder with several series, the SeriesInstanceUID to read.

    Returns
    -------
    Image or LabelMap
        Data shaped ``(C, *spatial)`` in array order with its Geometry.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the extension is unsupported or the file cannot be read.
    """
    import SimpleITK as sitk

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"image file not found: {str(path)!r}")
    if path.is_dir():
        from medaug.io.dicom import read_dicom_series

        field = read_dicom_series(path, series_id=series_id)
    else:
        image_extension(path)
        try:
            image = sitk.ReadImage(str(path))
        except RuntimeError as error:
            raise ValueError(f"failed to read image {str(path)!r}: {error}") from error
        field = field_from_sitk(image)
    if label:
        return _labels_from_field(field, path)
    return field  # type: ignore[return-value]


def read_sample(
    image: str | os.PathLike[str],
    label: str | os.PathLike[str] | None = None,
    **more: str | os.PathLike[str],
) -> Sample:
    """Read an image, an optional label map and further images into one Sample.

    Extra keyword arguments name more image fields (other contrasts).
    """
    fields: dict[str, Field] = {"image": read_image(image)}
    if label is not None:
        fields["label"] = read_image(label, label=True)
    for name, path in more.items():
        fields[name] = read_image(path)
    sources = {"image": image, "label": label, **more}
    metadata = {"source": {name: str(path) for name, path in sources.items() if path is not None}}
    return Sample(fields, metadata=metadata)


def write_image(field: Field, path: str | os.PathLike[str], *, compress: bool = True) -> Path:
    """Write a grid field to ``path`` atomically, keeping spacing, origin and direction.

    Parameters
    ----------
    field : Image or LabelMap
        Unbatched, real-valued.
    path : str or path-like
        Destination; its extension selects the format. A ``.dcm`` path takes
        a single 2-D slice; write volumes as a series with
        :func:`medaug.io.write_dicom_series`.
    compress : bool, default True
        Ask the format for compression where it has one.

    Returns
    -------
    Path
        The written path.
    """
    import SimpleITK as sitk

    if not isinstance(field, GridField):
        raise TypeError(f"`field` must be an Image or LabelMap, got {type(field).__name__}")
    path = Path(path)
    extension = image_extension(path)
    if extension == ".dcm" and not (field.spatial_ndim == 2 or field.spatial_shape[0] == 1):
        raise ValueError(
            f"a single .dcm file contains one slice, got spatial shape {field.spatial_shape}; "
            "use medaug.io.write_dicom_series(field, folder) for volumes"
        )
    if not path.parent.is_dir():
        raise FileNotFoundError(f"output folder does not exist: {str(path.parent)!r}")
    image = field_to_sitk(field)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.") as staging:
        staged = Path(staging) / path.name
        try:
            sitk.WriteImage(image, str(staged), compress)
        except RuntimeError as error:
            raise ValueError(f"failed to write {str(path)!r}: {error}") from error
        _fsync(staged)
        if extension == ".mhd":
            # A MetaImage header names its data file; move the data first so the
            # header never points at a missing file.
            for companion in Path(staging).iterdir():
                if companion != staged:
                    os.replace(companion, path.parent / companion.name)
        os.replace(staged, path)
    logger.debug("wrote %s", path)
    return path


def write_sample(sample: Sample, folder: str | os.PathLike[str], *, extension: str = ".nii.gz") -> dict[str, Path]:
    """Write every grid field of ``sample`` to ``folder/<name><extension>``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, field in sample.grid_fields.items():
        if field.data.is_complex():
            continue
        written[name] = write_image(field, folder / f"{name}{extension}")
    return written


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def percentiles(field: Field, q: tuple[float, ...] = (1.0, 50.0, 99.0)) -> dict[float, float]:
    """Return intensity percentiles of a field (computed in float64)."""
    values = field.numpy().astype(np.float64).reshape(-1)
    return {float(p): float(v) for p, v in zip(q, np.percentile(values, q))}
