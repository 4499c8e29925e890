"""Resample every field of a sample along a :class:`SpatialPlan`, once.

Images interpolate (linear, cubic or nearest) with a chosen padding. Label
maps use nearest neighbour or per-label ("soft") interpolation and are
background (0) outside the input's field of view whatever the image padding,
so a label map never gains a value. Points and boxes follow the forward map.

When the whole chain maps voxel centres exactly onto voxel centres (flips,
crops, pads, quarter turns on matching spacings) the data is gathered by
index instead of interpolated, which is exact and fast.

NOTE: every tensor is created on the input's device, but the suite has run
these functions on CPU only; CUDA runs are covered by tests that need
``MEDAUG_TEST_CUDA`` set.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from medaug.core.fields import Boxes, GridField, Image, LabelMap, Points
from medaug.core.sample import Sample
from medaug.transforms.functional.coordinates import (
    AffineMap,
    Grid,
    SpatialPlan,
    apply_affine_channels_first,
    grid_from_affine,
    map_points_forward,
)
from medaug.transforms.functional.cubic import grid_sample_cubic

__all__ = [
    "Resampling",
    "interpolate_axis",
    "resample_field",
    "resample_labels",
    "resample_sample",
    "resample_samples",
    "sampling_grid",
]

# A composed index map within this distance of a signed permutation with
# integer offsets is treated as exact: float64 round-off of chained 4x4
# matrices is about 1e-12 voxels.
_EXACT_TOLERANCE = 1e-6

_IMAGE_MODES = ("linear", "cubic", "nearest")
_LABEL_MODES = ("nearest", "soft")
_PADDING_MODES = ("zeros", "border", "reflection")


@dataclass(frozen=True)
class Resampling:
    """Interpolation and padding settings of a spatial transform.

    Parameters
    ----------
    image_interpolation : {"linear", "cubic", "nearest"}
        Interpolation of Image fields. Cubic uses the Keys (a = -0.5)
        kernel and may overshoot the input range near edges.
    label_interpolation : {"nearest", "soft"}
        "soft" interpolates each label's indicator linearly and keeps the
        label with the largest weight, which gives smoother boundaries.
    padding : {"zeros", "border", "reflection"} or float
        Value of images outside their field of view: a constant (in the
        image's units, such as -1024 for CT in HU) or a mode. Label maps
        are always 0 there.
    """

    image_interpolation: str = "linear"
    label_interpolation: str = "nearest"
    padding: str | float = "zeros"

    def __post_init__(self) -> None:
        if self.image_interpolation not in _IMAGE_MODES:
            raise ValueError(
                f"`image_interpolation` must be one of {list(_IMAGE_MODES)}, got {self.image_interpolation!r}"
            )
        if self.label_interpolation not in _LABEL_MODES:
            raise ValueError(
                f"`label_interpolation` must be one of {list(_LABEL_MODES)}, got {self.label_interpolation!r}"
            )
        padding = self.padding
        if isinstance(padding, numbers.Real) and not isinstance(padding, bool):
            if not np.isfinite(float(padding)):
                raise ValueError(f"`padding` must be finite, got {padding!r}")
            object.__setattr__(self, "padding", float(padding))
        elif padding not in _PADDING_MODES:
            raise ValueError(
                f"`padding` must be a number or one of {list(_PADDING_MODES)}, got {padding!r}"
            )


def _index_to_normalised(grid: Grid) -> np.ndarray:
    """Affine from array indices to grid_sample's normalised coordinates (align_corners=False)."""
    size = np.asarray(grid.shape, dtype=np.float64)
    matrix = np.diag(np.append(2.0 / size, 1.0))
    matrix[:-1, -1] = 1.0 / size - 1.0
    return matrix


def _index_map(plan: SpatialPlan, source: Grid) -> np.ndarray | None:
    """Return the output-index to input-index affine when every map is affine."""
    if any(not isinstance(m, AffineMap) for m in plan.maps):
        return None
    matrix = plan.output.geometry.affine
    for coordinate_map in plan.maps:
        matrix = coordinate_map.matrix @ matrix
    return np.linalg.inv(source.geometry.affine) @ matrix


def _is_exact(index_map: np.ndarray | None) -> bool:
    if index_map is None:
        return False
    n = index_map.shape[0] - 1
    linear = index_map[:n, :n]
    rounded = np.round(linear)
    if np.abs(linear - rounded).max() > _EXACT_TOLERANCE:
        return False
    if not np.array_equal(np.abs(rounded).sum(axis=0), np.ones(n)):
        return False
    if not np.array_equal(np.abs(rounded).sum(axis=1), np.ones(n)):
        return False
    offsets = index_map[:n, n]
    return bool(np.abs(offsets - np.round(offsets)).max() <= _EXACT_TOLERANCE)


def sampling_grid(plan: SpatialPlan, source: Grid, *, dtype, device) -> torch.Tensor:
    """Return grid_sample's normalised sampling grid ``(*output.shape, n)`` for ``source``.

    The last axis is in grid_sample's order (x = last array axis first).
    Affine maps are folded into matrices and only applied to the voxels
    once; the points are materialised only at the first displacement map.
    """
    output = plan.output
    n = output.ndim
    to_normalised = _index_to_normalised(source) @ np.linalg.inv(source.geometry.affine)
    lazy = output.geometry.affine  # points = lazy @ [index, 1] until materialised
    points = None
    pending = np.eye(n + 1)  # affine still to apply to materialised points
    for coordinate_map in plan.maps:
        if isinstance(coordinate_map, AffineMap):
            if points is None:
                lazy = coordinate_map.matrix @ lazy
            else:
                pending = coordinate_map.matrix @ pending
            continue
        if points is None:
            shift = coordinate_map.evaluate_on_grid(lazy, output.shape, dtype=dtype, device=device)
            points = grid_from_affine(lazy, output.shape, dtype=dtype, device=device).add_(shift)
        else:
            points = apply_affine_channels_first(points, pending)
            pending = np.eye(n + 1)
            points = points + torch.movedim(coordinate_map.evaluate(torch.movedim(points, 0, -1)), -1, 0)
    if points is None:
        normalised = grid_from_affine(to_normalised @ lazy, output.shape, dtype=dtype, device=device)
    else:
        normalised = apply_affine_channels_first(points, to_normalised @ pending)
    # grid_sample wants the coordinates last, first array axis last.
    return torch.movedim(normalised.flip(0), 0, -1)


def _representable(value: float, dtype: torch.dtype) -> bool:
    """Return True when ``value`` is stored exactly in ``dtype``."""
    if dtype.is_floating_point:
        return True
    info = torch.iinfo(dtype)
    return float(value).is_integer() and info.min <= value <= info.max


def _padding_mode(padding: str | float) -> tuple[str, float]:
    if isinstance(padding, float):
        return "zeros", padding
    return padding, 0.0


def _gather_exact(
    data: torch.Tensor, index_map: np.ndarray, shape: tuple[int, ...], padding: str | float
) -> torch.Tensor:
    """Copy voxels along a signed-permutation index map, filling outside per ``padding``."""
    n = len(shape)
    linear = np.round(index_map[:n, :n]).astype(int)
    offsets = np.round(index_map[:n, n]).astype(int)
    source_axes = [int(np.flatnonzero(linear[:, j])[0]) for j in range(n)]
    result = data.permute(0, *[1 + k for k in source_axes])
    mode, fill = _padding_mode(padding)
    valid = torch.ones((1,) * n, dtype=torch.bool, device=data.device)
    for j, k in enumerate(source_axes):
        size = result.shape[1 + j]
        index = linear[k, j] * torch.arange(shape[j], device=data.device) + int(offsets[k])
        inside = (index >= 0) & (index < size)
        if mode == "reflection":
            period = 2 * size
            index = torch.remainder(index, period)
            index = torch.where(index >= size, period - 1 - index, index)
        else:
            index = index.clamp(0, size - 1)
            view = [1] * n
            view[j] = shape[j]
            valid = valid & inside.reshape(view)
        result = result.index_select(1 + j, index)
    if mode in ("zeros",) and not bool(valid.all()):
        result = torch.where(valid, result, torch.as_tensor(fill, dtype=result.dtype, device=data.device))
    return result


def resample_field(
    data: torch.Tensor, grid: torch.Tensor, *, interpolation: str, padding: str | float
) -> torch.Tensor:
    """Interpolate image data ``(C, *spatial)`` at a normalised sampling grid.

    Integer data are promoted to float32 for linear and cubic interpolation;
    nearest keeps the dtype.
    """
    if interpolation != "cubic":
        return _resample_images(data[None], grid[None], interpolation=interpolation, padding=padding)[0]
    mode, fill = _padding_mode(padding)
    work = data if data.is_floating_point() else data.to(torch.float32)
    shifted = work - fill if fill != 0.0 else work
    values = grid_sample_cubic(shifted, grid.to(dtype=shifted.dtype, device=shifted.device), padding_mode=mode)
    return values + fill if fill != 0.0 else values


def _resample_images(
    data: torch.Tensor, grid: torch.Tensor, *, interpolation: str, padding: str | float
) -> torch.Tensor:
    """Batched linear or nearest core of :func:`resample_field`: ``(B, C, *spatial)`` at ``(B, *out, n)``."""
    mode, fill = _padding_mode(padding)
    nearest_integers = interpolation == "nearest" and not data.is_floating_point()
    if nearest_integers:
        work = data.to(torch.float64)
    else:
        work = data if data.is_floating_point() else data.to(torch.float32)
    shifted = work - fill if fill != 0.0 else work
    torch_mode = {"linear": "bilinear", "nearest": "nearest"}[interpolation]
    values = F.grid_sample(
        shifted, grid.to(dtype=shifted.dtype, device=shifted.device),
        mode=torch_mode, padding_mode=mode, align_corners=False,
    )
    values = values + fill if fill != 0.0 else values
    return values.to(data.dtype) if nearest_integers else values


def _label_work_dtype(data: torch.Tensor) -> torch.dtype:
    # float64 represents every int32 class exactly, float32 every class below 2**24.
    small = data.numel() == 0 or int(data.abs().max()) < 2**24
    return torch.float32 if small else torch.float64


def _resample_labels_nearest(data: torch.Tensor, grid: torch.Tensor, work_dtype: torch.dtype) -> torch.Tensor:
    """Batched nearest-neighbour label resampling: ``(B, C, *spatial)`` at ``(B, *out, n)``."""
    work = data.to(work_dtype)
    values = F.grid_sample(work, grid.to(work_dtype), mode="nearest", padding_mode="zeros", align_corners=False)
    return values.round().to(data.dtype)


def resample_labels(data: torch.Tensor, grid: torch.Tensor, *, interpolation: str) -> torch.Tensor:
    """Resample a label map ``(C, *spatial)``; values outside the input are 0.

    The output holds only values of the input and 0, in the input's dtype.
    """
    if interpolation == "nearest":
        return _resample_labels_nearest(data[None], grid[None], _label_work_dtype(data))[0]
    grid = grid.to(torch.float32)
    best_score = None
    best_label = None
    for label in torch.unique(data).tolist():
        indicator = (data == label).to(torch.float32)
        if label == 0:
            # Background is 1 outside the field of view: sample (indicator - 1) with zero padding.
            indicator = indicator - 1.0
        score = F.grid_sample(indicator[None], grid[None], mode="bilinear", padding_mode="zeros", align_corners=False)[0]
        if label == 0:
            score = score + 1.0
        if best_score is None:
            best_score, best_label = score, torch.full_like(score, label, dtype=data.dtype)
        else:
            better = score > best_score
            best_score = torch.where(better, score, best_score)
            best_label = torch.where(better, torch.as_tensor(label, dtype=data.dtype), best_label)
    if 0 not in torch.unique(data).tolist():
        # Outside the field of view no label has weight: those voxels are background.
        best_label = torch.where(best_score > 0, best_label, torch.zeros_like(best_label))
    return best_label


def _cached_grid(field: GridField, plan: SpatialPlan, source: Grid, cache: dict[Any, torch.Tensor]) -> torch.Tensor:
    dtype = field.data.dtype if field.data.dtype == torch.float64 else torch.float32
    key = (source, dtype, field.data.device)
    if key not in cache:
        # Fields on the same grid (an image and its label map) share one sampling grid.
        cache[key] = sampling_grid(plan, source, dtype=dtype, device=field.data.device)
    return cache[key]


def _resample_grid_field(
    field: GridField, plan: SpatialPlan, resampling: Resampling, cache: dict[Any, torch.Tensor]
) -> GridField:
    source = Grid.of(field)
    index_map = _index_map(plan, source)
    if _is_exact(index_map):
        padding = 0.0 if isinstance(field, LabelMap) else resampling.padding
        data = field.data
        if isinstance(padding, float) and not _representable(padding, data.dtype):
            # Voxels are copied, not interpolated, but the fill value needs a wider dtype.
            data = data.to(torch.float32)
        data = _gather_exact(data, index_map, plan.output.shape, padding)
        return field.replace(data=data, geometry=plan.output.geometry)
    grid = _cached_grid(field, plan, source, cache)
    if isinstance(field, LabelMap):
        data = resample_labels(field.data, grid, interpolation=resampling.label_interpolation)
    else:
        data = resample_field(
            field.data, grid, interpolation=resampling.image_interpolation, padding=resampling.padding
        )
    return field.replace(data=data, geometry=plan.output.geometry)


def resample_sample(sample: Sample, plan: SpatialPlan, resampling: Resampling) -> Sample:
    """Resample every field of an unbatched ``sample`` along ``plan``, each exactly once.

    Raises
    ------
    TypeError
        For fields that cannot be moved in image space (k-space, sinograms).
    """
    changed = {}
    cache: dict[Any, torch.Tensor] = {}
    for name, field in sample.items():
        if isinstance(field, (Image, LabelMap)):
            changed[name] = _resample_grid_field(field, plan, resampling, cache)
        else:
            changed[name] = _move_geometric_field(name, field, plan)
    return sample.replace(changed)


def _move_geometric_field(name: str, field: Any, plan: SpatialPlan) -> Any:
    """Move points and boxes along the forward map; reject fields that cannot move."""
    if isinstance(field, Boxes):
        return Boxes.from_corners(map_points_forward(plan.maps, field.corners()), field.ndim)
    if isinstance(field, Points):
        return field.replace(data=map_points_forward(plan.maps, field.data))
    raise TypeError(
        f"spatial transforms cannot move field {name!r} of type {type(field).__name__}; "
        "apply spatial augmentation to the image before simulating measurements"
    )


def resample_samples(
    samples: Sequence[Sample],
    plans: Sequence[SpatialPlan],
    resampling: Resampling,
    *,
    stack: bool | None = None,
) -> list[Sample]:
    """Resample the items of a batch, each along its own plan, with one ``grid_sample`` per field.

    The items must have the same fields (as :func:`medaug.core.uncollate`
    returns them). Each output equals ``resample_sample(item, plan,
    resampling)`` tensor for tensor. A field is stacked into one batched
    ``grid_sample`` call only where that call computes the same values:
    linear or nearest interpolation, on plans that are not exact voxel
    copies and that give the same output shape. Other fields (cubic
    images, soft labels, exact copies) are resampled item by item.

    Parameters
    ----------
    samples : sequence of Sample
        Unbatched items with the same fields, dtypes and shapes.
    plans : sequence of SpatialPlan
        One plan per item.
    resampling : Resampling
        Interpolation and padding, shared by the items.
    stack : bool, optional, keyword-only
        Stack items into one call (True) or call ``grid_sample`` per item
        (False). The default stacks off the CPU only.
    """
    if len(samples) != len(plans):
        raise ValueError(f"`plans` must have one plan per sample ({len(samples)}), got {len(plans)}")
    caches: list[dict[Any, torch.Tensor]] = [{} for _ in samples]
    # Stacked sampling grids, shared by fields on the same grids (images and their label maps).
    batch_cache: dict[Any, torch.Tensor] = {}
    changed: list[dict[str, Any]] = [{} for _ in samples]
    for name, first in samples[0].items():
        fields = [sample[name] for sample in samples]
        if isinstance(first, (Image, LabelMap)):
            # NOTE: on one CPU thread, stacking 8 volumes of 64^3 measured slower
            # than a call per item (0.16 s against 0.13 s, 2-core x86_64 VM),
            # so the default stacks on accelerators only, where it saves kernel
            # launches. Equality with the per-item path is tested on the CPU
            # only, and the gain on a GPU has not been measured.
            stacked = first.data.device.type != "cpu" if stack is None else stack
            if stacked:
                moved = _resample_field_batch(fields, plans, resampling, caches, batch_cache)
            else:
                moved = [
                    _resample_grid_field(field, plan, resampling, cache)
                    for field, plan, cache in zip(fields, plans, caches)
                ]
        else:
            moved = [_move_geometric_field(name, field, plan) for field, plan in zip(fields, plans)]
        for item, field in zip(changed, moved):
            item[name] = field
    return [sample.replace(item) for sample, item in zip(samples, changed)]


def _stack(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """Stack equally shaped tensors, without a copy when they are evenly spaced views of one storage.

    Items split from a batch, and outputs of a batched step, are such views.
    """
    first = tensors[0]
    offsets = [tensor.storage_offset() for tensor in tensors]
    step = offsets[1] - offsets[0] if len(tensors) > 1 else 0
    same_storage = all(
        tensor.untyped_storage().data_ptr() == first.untyped_storage().data_ptr()
        and tensor.stride() == first.stride()
        and offset == offsets[0] + index * step
        for index, (tensor, offset) in enumerate(zip(tensors, offsets))
    )
    if same_storage and step > 0 and first.is_contiguous() and step >= first.numel():
        return first.as_strided((len(tensors), *first.shape), (step, *first.stride()), offsets[0])
    return torch.stack(list(tensors))


def _resample_field_batch(
    fields: Sequence[GridField],
    plans: Sequence[SpatialPlan],
    resampling: Resampling,
    caches: Sequence[dict[Any, torch.Tensor]],
    batch_cache: dict[Any, torch.Tensor],
) -> list[GridField]:
    first = fields[0]
    is_label = isinstance(first, LabelMap)
    interpolation = resampling.label_interpolation if is_label else resampling.image_interpolation
    sources = [Grid.of(field) for field in fields]
    batchable = (
        len(fields) > 1
        and interpolation in ("linear", "nearest")
        and len({plan.output.shape for plan in plans}) == 1
        and all(f.data.shape == first.data.shape and f.data.dtype == first.data.dtype for f in fields)
        and all(f.data.device == first.data.device for f in fields)
        and not any(_is_exact(_index_map(plan, source)) for plan, source in zip(plans, sources))
    )
    work_dtypes = {_label_work_dtype(f.data) for f in fields} if is_label and batchable else set()
    if not batchable or len(work_dtypes) > 1:
        return [
            _resample_grid_field(field, plan, resampling, cache)
            for field, plan, cache in zip(fields, plans, caches)
        ]

    dtype = first.data.dtype if first.data.dtype == torch.float64 else torch.float32
    key = (tuple(sources), dtype, first.data.device)
    if key not in batch_cache:
        batch_cache[key] = _stack([
            _cached_grid(field, plan, source, cache)
            for field, plan, source, cache in zip(fields, plans, sources, caches)
        ])
    grid = batch_cache[key]
    data = _stack([field.data for field in fields])
    if is_label:
        values = _resample_labels_nearest(data, grid, work_dtypes.pop())
    else:
        values = _resample_images(data, grid, interpolation=interpolation, padding=resampling.padding)
    return [field.replace(data=value, geometry=plan.output.geometry) for field, value, plan in zip(fields, values, plans)]


def interpolate_axis(data: torch.Tensor, axis: int, positions: torch.Tensor) -> torch.Tensor:
    """Interpolate ``(C, *spatial)`` linearly at fractional indices along spatial ``axis``.

    Positions outside ``[0, size - 1]`` take the nearest edge value.
    """
    size = data.shape[1 + axis]
    positions = positions.to(data.device).clamp(0, size - 1)
    low = positions.floor().long().clamp(max=size - 1)
    high = (low + 1).clamp(max=size - 1)
    weight = (positions - low).to(data.dtype)
    lower = data.index_select(1 + axis, low)
    upper = data.index_select(1 + axis, high)
    view = [1] * data.ndim
    view[1 + axis] = -1
    weight = weight.reshape(view)
    return lower * (1 - weight) + upper * weight
