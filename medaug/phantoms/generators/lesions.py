"""Insertion of a synthetic lesion into a real image, with its label map updated."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from scipy import ndimage

from medaug.core import Image, LabelMap
from medaug.phantoms.generators.common import check_generator, check_range
from medaug.phantoms.primitives import Primitive

__all__ = ["insert_lesion"]


def _fractions(lesion: Primitive, geometry: Any, shape: Sequence[int], supersample: int) -> np.ndarray:
    """Volume fraction of ``lesion`` in each voxel of a grid with any geometry (midpoint rule)."""
    ndim = len(shape)
    low, high = lesion.bounding_box()
    corners = np.array(list(itertools.product(*zip(low, high))))
    index_corners = geometry.physical_to_index(corners)
    start = np.maximum(np.floor(index_corners.min(axis=0)).astype(int) - 1, 0)
    stop = np.minimum(np.ceil(index_corners.max(axis=0)).astype(int) + 2, np.asarray(shape))
    fractions = np.zeros(shape, dtype=np.float64)
    if np.any(stop <= start):
        return fractions
    block = [np.arange(a, b) for a, b in zip(start, stop)]
    grid = np.stack(np.meshgrid(*block, indexing="ij"), axis=-1).reshape(-1, ndim).astype(float)
    offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
    counts = np.zeros(len(grid))
    for offset in itertools.product(offsets, repeat=ndim):
        counts += lesion.contains(geometry.index_to_physical(grid + np.asarray(offset)))
    region = tuple(slice(a, b) for a, b in zip(start, stop))
    fractions[region] = (counts / supersample**ndim).reshape([b - a for a, b in zip(start, stop)])
    return fractions


def insert_lesion(
    image: Image,
    labels: LabelMap,
    rng: np.random.Generator,
    *,
    host_labels: Sequence[int],
    lesion_label: int,
    radius_mm: tuple[float, float] = (3.0, 8.0),
    contrast: tuple[float, float] = (1.3, 1.8),
    supersample: int = 3,
) -> tuple[Image, LabelMap, dict[str, Any]]:
    """Insert a random ellipsoidal (elliptic in 2D) lesion inside a host region.

    The centre is drawn among voxels of ``host_labels`` whose distance (mm)
    to the outside of the host region exceeds the lesion's largest
    semi-axis, so the lesion lies entirely in the host region. Intensities
    blend by volume fraction ``f``: ``(1 - f) * image + f * c * m``, with
    ``m`` the mean host intensity and ``c`` the drawn contrast. Voxels with
    ``f >= 0.5`` take ``lesion_label``.

    Parameters
    ----------
    image : Image
        Single-channel image ``(1, *spatial)``; its geometry places the lesion.
    labels : LabelMap
        Labels on the same grid.
    rng : numpy.random.Generator
        Source of randomness (size, orientation, position, contrast).
    host_labels : sequence of int
        Labels that may contain the lesion (for example white matter).
    lesion_label : int
        Label written where the lesion covers at least half a voxel.
    radius_mm, contrast : (float, float)
        Ranges of the semi-axes (mm) and of the contrast factor.
    supersample : int, default 3
        Sub-samples per voxel and axis for the volume fractions.

    Returns
    -------
    (Image, LabelMap, dict)
        New image and labels, and the lesion's ``center_mm``, ``semi_axes_mm``,
        ``contrast`` and ``voxels`` (count labelled).

    Raises
    ------
    ValueError
        If the grids differ, the host region is missing, or no host voxel is
        deep enough for the drawn lesion.
    """
    rng = check_generator(rng)
    if not isinstance(image, Image) or not isinstance(labels, LabelMap):
        raise TypeError("`image` must be an Image and `labels` a LabelMap")
    if image.num_channels != 1 or image.is_batched:
        raise ValueError(f"`image` must be single-channel and unbatched, got {tuple(image.data.shape)}")
    if labels.spatial_shape != image.spatial_shape or not labels.geometry.isclose(image.geometry):
        raise ValueError("`labels` must be on the same grid (shape and geometry) as `image`")
    radius_low, radius_high = check_range(radius_mm, "radius_mm")
    contrast_low, contrast_high = check_range(contrast, "contrast")
    if isinstance(supersample, bool) or not isinstance(supersample, int) or supersample < 1:
        raise ValueError(f"`supersample` must be an int >= 1, got {supersample!r}")

    geometry = image.geometry
    label_array = labels.numpy()[0]
    host = np.isin(label_array, np.asarray(list(host_labels)))
    if not host.any():
        raise ValueError(f"no voxel has a host label in {list(host_labels)}")
    depth = ndimage.distance_transform_edt(host, sampling=geometry.spacing)

    ndim = geometry.ndim
    semi_axes = rng.uniform(radius_low, radius_high, size=ndim)
    reach = float(semi_axes.max()) + float(max(geometry.spacing))
    candidates = np.argwhere(depth > reach)
    if len(candidates) == 0:
        raise ValueError(
            f"no host voxel lies deeper than {reach:.1f} mm inside labels {list(host_labels)}; "
            "use a smaller `radius_mm`"
        )
    center_index = candidates[rng.integers(len(candidates))]
    center = geometry.index_to_physical(center_index[None, :].astype(float))[0]
    rotation = _random_rotation(rng, ndim)
    lesion = Primitive("ellipse" if ndim == 2 else "ellipsoid", center, semi_axes, rotation)
    factor = rng.uniform(contrast_low, contrast_high)

    fractions = _fractions(lesion, geometry, label_array.shape, supersample)
    values = image.data[0].detach().cpu().to(torch.float64).numpy()
    target = factor * float(values[host].mean())
    blended = (1.0 - fractions) * values + fractions * target
    new_labels = label_array.copy()
    covered = fractions >= 0.5
    new_labels[covered] = lesion_label

    dtype = image.data.dtype if image.data.is_floating_point() else torch.float32
    new_image = Image(data=torch.as_tensor(blended, dtype=dtype)[None], geometry=geometry)
    new_label_map = LabelMap(data=torch.as_tensor(new_labels)[None], geometry=geometry)
    record = {
        "center_mm": center.tolist(),
        "semi_axes_mm": semi_axes.tolist(),
        "contrast": float(factor),
        "voxels": int(covered.sum()),
    }
    return new_image, new_label_map, record


def _random_rotation(rng: np.random.Generator, ndim: int) -> np.ndarray:
    """Return a uniformly random rotation (QR of a Gaussian matrix, sign-corrected)."""
    matrix, upper = np.linalg.qr(rng.normal(size=(ndim, ndim)))
    matrix = matrix * np.sign(np.diag(upper))
    if np.linalg.det(matrix) < 0:
        matrix[:, 0] = -matrix[:, 0]
    return matrix
