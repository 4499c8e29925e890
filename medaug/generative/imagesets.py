"""Image sets for evaluation: validated stacks of same-shaped images with names.

An :class:`ImageSet` is what the evaluation compares: ``N`` single-channel
images of one shape, stacked as float64 ``(N, *spatial)``, each with a name
and a patient id. Folders of NIfTI (``.nii``, ``.nii.gz``), PNG and NPY
files are read with :func:`read_image_folder`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medaug.generative.errors import (
    EmptyImageSetError,
    ImageShapeMismatchError,
    NonFiniteImageError,
    TooFewImagesError,
)

__all__ = ["ImageSet", "as_image_set", "read_image_folder", "IMAGE_SUFFIXES", "check_comparable"]

#: File suffixes that :func:`read_image_folder` reads, in lower case.
IMAGE_SUFFIXES = (".nii.gz", ".nii", ".png", ".npy")


@dataclasses.dataclass(frozen=True, eq=False)
class ImageSet:
    """A stack of same-shaped single-channel images with names and patient ids.

    Parameters
    ----------
    images : numpy.ndarray, (N, H, W) or (N, D, H, W)
        Finite intensities, float64.
    names : tuple of str
        One name per image (the file name for images read from a folder).
    patients : tuple of str
        One patient id per image; images of one patient share it. When no
        ids are known each image is its own patient (its name).
    """

    images: np.ndarray
    names: tuple[str, ...]
    patients: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.names) != len(self.images) or len(self.patients) != len(self.images):
            raise ValueError(
                f"`names` ({len(self.names)}) and `patients` ({len(self.patients)}) must have one "
                f"entry per image ({len(self.images)})"
            )

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        """Shape of one image."""
        return tuple(self.images.shape[1:])

    def subset(self, indices: Sequence[int] | np.ndarray) -> ImageSet:
        """Return the images at ``indices`` as a new set."""
        chosen = [int(i) for i in np.asarray(indices).reshape(-1)]
        return ImageSet(
            self.images[chosen],
            tuple(self.names[i] for i in chosen),
            tuple(self.patients[i] for i in chosen),
        )


def as_image_set(
    images: Any,
    name: str = "images",
    *,
    names: Sequence[str] | None = None,
    patients: Sequence[str] | None = None,
    min_count: int = 2,
) -> ImageSet:
    """Validate an array or a list of same-shaped arrays as an :class:`ImageSet`.

    Parameters
    ----------
    images : ImageSet, array_like (N, *spatial) or sequence of arrays
        Images with 2 or 3 spatial axes; a single leading channel axis of
        length 1 per image is dropped.
    name : str
        Name of the set in error messages.
    names, patients : sequence of str, optional
        Image names and patient ids (default: ``"{name}[i]"``, one patient each).
    min_count : int
        Fewest images accepted (default 2, because spreads and nearest
        neighbours need at least two).

    Raises
    ------
    EmptyImageSetError, TooFewImagesError, ImageShapeMismatchError, NonFiniteImageError
        For an empty set, too few images, differing shapes, or NaN/inf values.
    """
    if isinstance(images, ImageSet):
        _check_count(len(images), name, min_count)
        return images
    arrays = [_to_numpy(item) for item in images] if isinstance(images, (list, tuple)) else None
    if arrays is None:
        stacked = _to_numpy(images)
        if stacked.ndim < 3:
            raise ValueError(f"`{name}` must be shaped (N, H, W) or (N, D, H, W), got shape {stacked.shape}")
        arrays = list(stacked)
    _check_count(len(arrays), name, min_count)
    arrays = [a[0] if a.ndim in (3, 4) and a.shape[0] == 1 else a for a in arrays]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ImageShapeMismatchError(
            f"`{name}` images must share one shape, got {sorted(shapes)}; resample or crop them first"
        )
    shape = arrays[0].shape
    if len(shape) not in (2, 3):
        raise ValueError(f"`{name}` images must have 2 or 3 spatial axes, got shape {shape}")
    stacked = np.stack(arrays).astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(stacked.reshape(len(stacked), -1)).all(axis=1))
    image_names = tuple(names) if names is not None else tuple(f"{name}[{i}]" for i in range(len(arrays)))
    if bad.size:
        listed = ", ".join(image_names[i] for i in bad[:5])
        raise NonFiniteImageError(f"`{name}` has {bad.size} image(s) with NaN or infinite values: {listed}")
    patient_ids = tuple(patients) if patients is not None else image_names
    return ImageSet(stacked, image_names, patient_ids)


def check_comparable(*sets: tuple[str, ImageSet]) -> None:
    """Raise :class:`ImageShapeMismatchError` unless all named sets share one image shape."""
    shapes = {label: image_set.spatial_shape for label, image_set in sets}
    if len(set(shapes.values())) > 1:
        described = ", ".join(f"{label}: {shape}" for label, shape in shapes.items())
        raise ImageShapeMismatchError(f"image sets must share one image shape to be compared, got {described}")


def read_image_folder(
    folder: str | Path,
    *,
    patient_pattern: str | None = None,
    min_count: int = 2,
) -> ImageSet:
    """Read every NIfTI, PNG and NPY file of a folder (not recursive) as an :class:`ImageSet`.

    Parameters
    ----------
    folder : str or Path
        Folder to read. Files are taken in sorted name order.
    patient_pattern : str, optional
        Regular expression with a named group ``patient`` matched against each
        file name, for example ``r"^(?P<patient>sub-\\d+)_"``. Without it each
        image is its own patient.
    min_count : int
        Fewest images accepted (default 2).

    Raises
    ------
    FileNotFoundError
        If ``folder`` is not a directory.
    EmptyImageSetError
        If it holds no readable image file.
    ValueError
        If ``patient_pattern`` lacks the ``patient`` group or does not match a file name.
    """
    path = Path(folder)
    if not path.is_dir():
        raise FileNotFoundError(f"image folder {str(path)!r} not found or not a directory")
    files = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(IMAGE_SUFFIXES))
    if not files:
        raise EmptyImageSetError(
            f"image folder {str(path)!r} contains no image files ({', '.join(IMAGE_SUFFIXES)})"
        )
    patients = _patient_ids([p.name for p in files], patient_pattern)
    arrays = [_read_image_file(p) for p in files]
    return as_image_set(
        arrays, str(path), names=[p.name for p in files], patients=patients, min_count=min_count
    )


def _patient_ids(file_names: list[str], pattern: str | None) -> list[str]:
    if pattern is None:
        return list(file_names)
    compiled = re.compile(pattern)
    if "patient" not in compiled.groupindex:
        raise ValueError(f"`patient_pattern` must contain a named group 'patient', got {pattern!r}")
    ids = []
    for file_name in file_names:
        match = compiled.search(file_name)
        if match is None:
            raise ValueError(f"`patient_pattern` {pattern!r} does not match file name {file_name!r}")
        ids.append(match.group("patient"))
    return ids


def _read_image_file(path: Path) -> np.ndarray:
    lower = path.name.lower()
    if lower.endswith(".npy"):
        return np.load(path, allow_pickle=False)
    if lower.endswith(".png"):
        from PIL import Image as PILImage

        with PILImage.open(path) as picture:
            array = np.asarray(picture)
        return array if array.ndim == 2 else array[..., :3].mean(axis=-1)
    import SimpleITK as sitk

    return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))


def _to_numpy(item: Any) -> np.ndarray:
    if hasattr(item, "detach"):
        item = item.detach().cpu().numpy()
    array = np.asarray(item)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"images must be real numeric arrays, got dtype {array.dtype}")
    return array


def _check_count(count: int, name: str, min_count: int) -> None:
    if count == 0:
        raise EmptyImageSetError(f"`{name}` contains no images")
    if count < min_count:
        raise TooFewImagesError(f"`{name}` must contain at least {min_count} images, got {count}")
