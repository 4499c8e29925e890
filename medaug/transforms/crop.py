"""Crops and pads by whole voxels: centre, random and foreground-balanced.

Every crop here is recorded as :class:`CropOrPad` with the number of voxels
removed (negative) or added (positive) before and after each array axis.
The record replays exactly, and its inverse pads the removed border back
with background labels and the image padding. The output geometry moves its
origin so that each kept voxel stays at the same physical position.

Examples
--------
>>> import numpy as np
>>> label = np.zeros((1, 20, 20), np.uint8)
>>> label[0, 19, 0] = 1                     # foreground in a corner
>>> crop = RandomLabelCrop((8, 8), foreground_probability=1.0)
>>> out = crop({"image": label.astype(np.float32), "label": label}, rng=0)
>>> int(out["label"].sum())
1
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from medaug.core.fields import GridField, LabelMap
from medaug.core.sample import Sample, TransformRecord
from medaug.transforms.base import RandomTransform, Transform
from medaug.transforms.functional.coordinates import Grid, SpatialPlan
from medaug.transforms.spatial import InterpolatingTransform
from medaug.transforms.validation import axis_count_error, check_probability

__all__ = [
    "CenterCropOrPad",
    "CropOrPad",
    "CropParameters",
    "RandomCrop",
    "RandomLabelCrop",
]


@dataclass(frozen=True)
class CropParameters:
    """Voxels added (> 0) or removed (< 0) before and after each array axis."""

    before: tuple[int, ...]
    after: tuple[int, ...]


def _int_tuple(value: Any, name: str) -> tuple[int, ...]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (int(value),)
    if isinstance(value, Sequence) and not isinstance(value, str):
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
            raise TypeError(f"`{name}` must contain ints (voxels), got {value!r}")
        return tuple(int(v) for v in value)
    raise TypeError(f"`{name}` must be an int or a sequence of ints (voxels), got {value!r}")


def _broadcast(values: tuple[int, ...], reference: GridField, name: str) -> tuple[int, ...]:
    ndim = reference.spatial_ndim
    if len(values) == 1:
        return values * ndim
    if len(values) != ndim:
        raise axis_count_error(name, f"1 or {ndim} values", len(values), reference)
    return values


def _target_shape(value: Any) -> tuple[int, ...]:
    shape = _int_tuple(value, "shape")
    if any(n < 1 for n in shape):
        raise ValueError(f"`shape` must be >= 1 voxel on every axis, got {shape}")
    return shape


class CropOrPad(InterpolatingTransform):
    """Remove or add whole voxels at each end of each array axis.

    Parameters
    ----------
    before, after : int or sequence of int
        Per array axis: positive pads that many voxels, negative crops.
    padding : {"zeros", "border", "reflection"} or float, keyword-only
        Image values in padded voxels; label maps are always 0 there.
    """

    def __init__(
        self, before: int | Sequence[int] = 0, after: int | Sequence[int] = 0, *, padding: str | float = "zeros"
    ) -> None:
        self.before = list(_int_tuple(before, "before"))
        self.after = list(_int_tuple(after, "after"))
        self._set_resampling("linear", "nearest", padding)

    def get_config(self) -> dict[str, Any]:
        return {"before": list(self.before), "after": list(self.after), "padding": self.padding}

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> CropParameters:
        reference = sample.reference
        return CropParameters(
            _broadcast(tuple(self.before), reference, "before"), _broadcast(tuple(self.after), reference, "after")
        )

    def plan(self, parameters: CropParameters, grid: Grid) -> SpatialPlan:
        shape = tuple(n + b + a for n, b, a in zip(grid.shape, parameters.before, parameters.after))
        if any(n < 1 for n in shape):
            raise ValueError(
                f"cropping {parameters.before} before and {parameters.after} after leaves no voxels "
                f"of a grid shaped {grid.shape}"
            )
        origin = grid.geometry.index_to_physical([[-b for b in parameters.before]])[0]
        return SpatialPlan(Grid(shape, grid.geometry.replace(origin=tuple(origin))))

    def inverse(self) -> CropOrPad:
        return CropOrPad([-b for b in self.before], [-a for a in self.after], padding=self.padding)


def _crop_record(parameters: CropParameters, padding: Any) -> TransformRecord:
    return CropOrPad(list(parameters.before), list(parameters.after), padding=padding).record(parameters)


def _window(size: int, target: int, start: int) -> tuple[int, int]:
    """Return (before, after) that keep ``target`` voxels from ``start`` of an axis of ``size``."""
    return -start, start + target - size


class CenterCropOrPad(InterpolatingTransform):
    """Crop or pad each axis symmetrically to ``shape`` (the extra voxel goes after).

    Parameters
    ----------
    shape : int or sequence of int
        Output spatial shape in voxels.
    padding : keyword-only
        See :class:`CropOrPad`.
    """

    def __init__(self, shape: int | Sequence[int], *, padding: str | float = "zeros") -> None:
        self.shape = list(_target_shape(shape))
        self._set_resampling("linear", "nearest", padding)

    def get_config(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "padding": self.padding}

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> CropParameters:
        current = sample.spatial_shape
        target = _broadcast(tuple(self.shape), sample.reference, "shape")
        pairs = [_window(n, t, (n - t) // 2) for n, t in zip(current, target)]
        return CropParameters(tuple(p[0] for p in pairs), tuple(p[1] for p in pairs))

    def plan(self, parameters: CropParameters, grid: Grid) -> SpatialPlan:
        return CropOrPad(list(parameters.before), list(parameters.after)).plan(parameters, grid)

    def record(self, parameters: CropParameters) -> TransformRecord:
        return _crop_record(parameters, self.padding)


class RandomCrop(RandomTransform):
    """Crop a window of ``shape`` at a uniformly random position (pad axes that are shorter).

    Parameters
    ----------
    shape : int or sequence of int
        Output spatial shape in voxels.
    padding : keyword-only
        See :class:`CropOrPad`.
    """

    kind = "spatial"

    def __init__(self, shape: int | Sequence[int], *, padding: str | float = "zeros") -> None:
        self.shape = list(_target_shape(shape))
        self.padding = CropOrPad(padding=padding).padding

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> CropParameters:
        current = sample.spatial_shape
        target = _broadcast(tuple(self.shape), sample.reference, "shape")
        pairs = []
        for n, t in zip(current, target):
            start = int(rng.integers(0, n - t + 1)) if n >= t else (n - t) // 2
            pairs.append(_window(n, t, start))
        return CropParameters(tuple(p[0] for p in pairs), tuple(p[1] for p in pairs))

    def deterministic(self, parameters: CropParameters) -> Transform:
        return CropOrPad(list(parameters.before), list(parameters.after), padding=self.padding)


class RandomLabelCrop(RandomTransform):
    """Crop around foreground with probability ``foreground_probability``, else anywhere.

    A foreground crop centres its window on a voxel drawn uniformly from the
    label map's non-zero voxels (or those in ``labels``). Near the image edge
    the window shifts inwards, so the crop contains foreground whenever the
    label map has any.

    Parameters
    ----------
    shape : int or sequence of int
        Output spatial shape in voxels.
    foreground_probability : float
        Probability in [0, 1] of a foreground-centred crop.
    labels : sequence of int, optional
        Classes that count as foreground; default every non-zero class.
    padding : keyword-only
        See :class:`CropOrPad`.
    """

    kind = "spatial"
    needs_data = True

    def __init__(
        self,
        shape: int | Sequence[int],
        foreground_probability: float = 0.5,
        labels: Sequence[int] | None = None,
        *,
        padding: str | float = "zeros",
    ) -> None:
        self.shape = list(_target_shape(shape))
        self.foreground_probability = check_probability(foreground_probability, "foreground_probability")
        self.labels = None if labels is None else list(_int_tuple(labels, "labels"))
        self.padding = CropOrPad(padding=padding).padding

    def _foreground_voxel(self, rng: np.random.Generator, sample: Sample) -> np.ndarray | None:
        label_fields = list(sample.fields_of_type(LabelMap).values())
        if not label_fields:
            raise ValueError("RandomLabelCrop needs a LabelMap field in the sample")
        data = label_fields[0].data
        if self.labels is None:
            mask = (data != 0).any(dim=0)
        else:
            mask = torch.isin(data, torch.tensor(self.labels, device=data.device)).any(dim=0)
        count = int(mask.sum())
        if count == 0:
            return None
        chosen = int(rng.integers(count))
        return torch.nonzero(mask)[chosen].cpu().numpy()

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> CropParameters:
        current = sample.spatial_shape
        target = _broadcast(tuple(self.shape), sample.reference, "shape")
        voxel = None
        if rng.random() < self.foreground_probability:
            voxel = self._foreground_voxel(rng, sample)
        pairs = []
        for axis, (n, t) in enumerate(zip(current, target)):
            if n < t:
                start = (n - t) // 2
            elif voxel is None:
                start = int(rng.integers(0, n - t + 1))
            else:
                start = int(np.clip(voxel[axis] - t // 2, 0, n - t))
            pairs.append(_window(n, t, start))
        return CropParameters(tuple(p[0] for p in pairs), tuple(p[1] for p in pairs))

    def deterministic(self, parameters: CropParameters) -> Transform:
        return CropOrPad(list(parameters.before), list(parameters.after), padding=self.padding)
