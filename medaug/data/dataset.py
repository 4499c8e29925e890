"""Map-style torch datasets whose sample *i* depends only on (seed, i, epoch).

:class:`PipelineDataset` makes samples on the fly from a config or a
:class:`~medaug.data.pipeline.Pipeline`; :class:`ImageDataset` reads real
images (and label maps) once, keeps them decoded, and augments them on the
fly. Because nothing depends on worker ids or call order, any number of
DataLoader workers, any DistributedSampler rank and any machine produce
the same sample for the same index and epoch.

Call :meth:`set_epoch` before iterating a new epoch (as with
``DistributedSampler.set_epoch``); DataLoader workers pick it up when the
loader starts its iteration, unless ``persistent_workers=True``, whose
workers keep the epoch they started with.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch

from medaug.core.sample import Sample
from medaug.data.config import PipelineConfig, load_config
from medaug.data.pipeline import Pipeline, StepFn

__all__ = ["PipelineDataset", "ImageDataset", "sample_to_dict"]


def sample_to_dict(sample: Sample) -> dict[str, Any]:
    """Return ``{field name: tensor}`` plus ``"index"`` and ``"epoch"``, for MONAI and plain collation."""
    output: dict[str, Any] = {name: field.data for name, field in sample.items()}
    output["index"] = int(sample.metadata.get("index", -1))
    output["epoch"] = int(sample.metadata["epoch"]) if sample.metadata.get("epoch") is not None else -1
    return output


class PipelineDataset(torch.utils.data.Dataset):
    """Samples made on the fly by a pipeline; item *i* of epoch *e* is always the same.

    Parameters
    ----------
    pipeline : Pipeline, PipelineConfig or path
        What makes the samples; a path is read with :func:`load_config`.
    length : int, optional
        Number of samples per epoch (default: the config's ``size``).
    epoch : int or None, default 0
        Training epoch; None gives the benchmark samples (no epoch in the seed).
    vary : {"augmentation", "all"}
        With an epoch, whether only augmentation or also anatomy and
        simulation change from epoch to epoch.
    as_dict : bool, default False
        Return plain dicts of tensors (:func:`sample_to_dict`) instead of
        :class:`Sample`, for MONAI's DataLoader and ``default_collate``.
    preload : bool, default False
        Draw the source's anatomy pool (``source.anatomies`` of the
        ``phantom`` source) in the constructor, so that forked DataLoader
        workers share it instead of each drawing it on first use. Workers
        started by ``spawn`` receive the pool without its anatomies and
        draw them again. Samples are the same either way.

    Examples
    --------
    >>> dataset = PipelineDataset({"seed": 0, "size": 4, "source": {"type": "shapes", "shape": [8, 8]}})
    >>> len(dataset), dataset[2]["image"].data.shape
    (4, torch.Size([1, 8, 8]))
    """

    def __init__(
        self,
        pipeline: Pipeline | PipelineConfig | str | os.PathLike[str] | dict[str, Any],
        length: int | None = None,
        *,
        epoch: int | None = 0,
        vary: Literal["augmentation", "all"] = "augmentation",
        as_dict: bool = False,
        preload: bool = False,
    ) -> None:
        self.pipeline = _as_pipeline(pipeline, vary)
        if preload and hasattr(self.pipeline.source, "fill"):
            self.pipeline.source.fill()
        if length is None:
            if self.pipeline.config is None:
                raise ValueError("`length` is required when `pipeline` is not built from a config")
            length = self.pipeline.config.size
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ValueError(f"`length` must be an int >= 1, got {length!r}")
        self.length = length
        self.epoch = _check_epoch(epoch)
        self.as_dict = as_dict

    def set_epoch(self, epoch: int | None) -> None:
        """Select the training epoch whose augmentation the next iteration uses."""
        self.epoch = _check_epoch(epoch)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> Sample | dict[str, Any]:
        index = _check_index(index, self.length)
        sample = self.pipeline(index, epoch=self.epoch)
        return sample_to_dict(sample) if self.as_dict else sample


class ImageDataset(torch.utils.data.Dataset):
    """Real images with optional label maps, decoded once and augmented on the fly.

    Parameters
    ----------
    items : sequence of dict
        Each ``{"image": path, "label": path}`` (label optional).
    augmentation : sequence of callable
        Steps ``step(sample, rng) -> Sample`` applied in order.
    seed : int
        Seed of the augmentation streams.
    epoch : int or None, default 0
        Training epoch (see :class:`PipelineDataset`).
    preload : bool, default False
        Decode every item in the constructor, so forked DataLoader workers
        share the decoded arrays instead of each reading the files.
    as_dict : bool, default False
        Return plain dicts of tensors.
    """

    def __init__(
        self,
        items: Sequence[dict[str, str | os.PathLike[str]]],
        *,
        augmentation: Sequence[StepFn] = (),
        seed: int = 0,
        epoch: int | None = 0,
        preload: bool = False,
        as_dict: bool = False,
    ) -> None:
        if not items:
            raise ValueError("`items` must list at least one {'image': path} entry")
        for position, item in enumerate(items):
            if "image" not in item:
                raise ValueError(f"`items[{position}]` must have an 'image' path, got keys {sorted(item)}")
            for key, path in item.items():
                if not os.path.exists(path):
                    raise FileNotFoundError(f"`items[{position}][{key!r}]` not found: {os.fspath(path)!r}")
        self.items = [dict(item) for item in items]
        self._cache: dict[int, Sample] = {}
        self.pipeline = Pipeline(self._read, augmentation=augmentation, seed=seed)
        self.epoch = _check_epoch(epoch)
        self.as_dict = as_dict
        if preload:
            for position in range(len(self.items)):
                self._load(position)

    def _load(self, position: int) -> Sample:
        if position not in self._cache:
            from medaug.io import read_sample

            item = self.items[position]
            extra = {k: v for k, v in item.items() if k not in ("image", "label")}
            self._cache[position] = read_sample(item["image"], item.get("label"), **extra)
        return self._cache[position]

    def _read(self, rng: np.random.Generator, index: int, factors: Any = None) -> Sample:
        return self._load(index)

    def set_epoch(self, epoch: int | None) -> None:
        """Select the training epoch whose augmentation the next iteration uses."""
        self.epoch = _check_epoch(epoch)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Sample | dict[str, Any]:
        index = _check_index(index, len(self.items))
        sample = self.pipeline(index, epoch=self.epoch)
        return sample_to_dict(sample) if self.as_dict else sample


def _as_pipeline(value: Any, vary: Literal["augmentation", "all"]) -> Pipeline:
    from medaug.data.config import parse_config

    if isinstance(value, Pipeline):
        if vary != value.vary:
            raise ValueError(f"`vary`={vary!r} differs from the pipeline's {value.vary!r}; build the pipeline with it")
        return value
    if isinstance(value, PipelineConfig):
        return Pipeline.from_config(value, vary=vary)
    if isinstance(value, dict):
        return Pipeline.from_config(parse_config(value), vary=vary)
    if isinstance(value, (str, os.PathLike)):
        return Pipeline.from_config(load_config(value), vary=vary)
    raise TypeError(f"`pipeline` must be a Pipeline, PipelineConfig, dict or YAML path, got {type(value).__name__}")


def _check_epoch(epoch: int | None) -> int | None:
    if epoch is None:
        return None
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
        raise ValueError(f"`epoch` must be an int >= 0 or None, got {epoch!r}")
    return int(epoch)


def _check_index(index: Any, length: int) -> int:
    if isinstance(index, torch.Tensor) and index.ndim == 0:
        index = int(index)
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"`index` must be an int, got {type(index).__name__}")
    if not -length <= index < length:
        raise IndexError(f"`index` {index} is out of range for a dataset of {length} samples")
    return int(index) % length


