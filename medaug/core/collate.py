"""Batching of samples for ``torch.utils.data.DataLoader`` and back."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from medaug.core.fields import Boxes, Field, GridField, Points, Sinogram
from medaug.core.sample import Sample, TransformRecord

__all__ = ["collate", "collate_tensors", "uncollate"]


def _stack_field(name: str, items: list[Field]) -> Field:
    import torch

    first = items[0]
    kinds = {type(item) for item in items}
    if len(kinds) > 1:
        raise TypeError(f"field {name!r} has mixed types across the batch: {sorted(k.__name__ for k in kinds)}")
    shapes = {tuple(item.data.shape) for item in items}
    if len(shapes) > 1:
        raise ValueError(
            f"field {name!r} has different shapes across the batch: {sorted(shapes)}; "
            "crop or pad to a common shape before batching"
        )
    data = torch.stack([item.data for item in items])
    if isinstance(first, GridField):
        if first.is_batched:
            raise ValueError(f"field {name!r} is already batched")
        geometries = tuple(item.geometry for item in items)
        shared = all(g == geometries[0] for g in geometries)
        changes: dict[str, Any] = {"data": data, "geometry": geometries[0] if shared else geometries}
        mask = getattr(first, "mask", None)
        if mask is not None:
            changes["mask"] = torch.stack([item.mask for item in items])  # type: ignore[attr-defined]
        return dataclasses.replace(first, **changes)
    if isinstance(first, (Points, Boxes, Sinogram)):
        return dataclasses.replace(first, data=data)
    raise TypeError(f"cannot batch field {name!r} of type {type(first).__name__}")


def collate(batch: Sequence[Sample]) -> Sample:
    """Stack a list of samples into one batched sample (``collate_fn`` for DataLoader).

    Grid fields become ``(B, C, *spatial)``; their geometry is shared when all
    items agree, otherwise a tuple of one geometry per item. Histories and
    metadata are kept per item under ``metadata["items"]``.

    Examples
    --------
    >>> import numpy as np
    >>> from medaug.core.fields import Image
    >>> items = [Sample({"image": Image(np.zeros((1, 3, 3), np.float32))}) for _ in range(4)]
    >>> collate(items)["image"].data.shape
    torch.Size([4, 1, 3, 3])
    """
    if not batch:
        raise ValueError("`batch` must contain at least one sample")
    if not all(isinstance(item, Sample) for item in batch):
        raise TypeError("`batch` must contain only Sample objects")
    names = list(batch[0])
    for index, item in enumerate(batch[1:], start=1):
        if list(item) != names:
            raise ValueError(f"sample {index} has fields {list(item)}, expected {names}")
    fields = {name: _stack_field(name, [item[name] for item in batch]) for name in names}
    items = [{"history": item.history_dicts(), "metadata": dict(item.metadata)} for item in batch]
    return Sample(fields, metadata={"items": items})


def collate_tensors(batch: Sequence[Sample]) -> dict[str, Any]:
    """Stack samples into a plain dict of tensors, plus per-item ``"history"``.

    For training loops and libraries that expect ``batch["image"]`` to be a
    tensor (MONAI, Lightning).
    """
    batched = collate(batch)
    output: dict[str, Any] = {name: field.data for name, field in batched.items()}
    output["history"] = [item["history"] for item in batched.metadata["items"]]
    return output


def uncollate(batch: Sample) -> list[Sample]:
    """Split a batched sample back into its items (inverse of :func:`collate`)."""
    if not batch.is_batched:
        raise ValueError("`batch` is not batched")
    size = batch.reference.data.shape[0]
    items_meta = batch.metadata.get("items", [{}] * size)
    samples = []
    for index in range(size):
        fields: dict[str, Field] = {}
        for name, field in batch.items():
            changes: dict[str, Any] = {"data": field.data[index]}
            if isinstance(field, GridField):
                changes["geometry"] = field.geometries[index]
                mask = getattr(field, "mask", None)
                if mask is not None and mask.shape[0] == size and mask.ndim == field.data.ndim:
                    changes["mask"] = mask[index]
            fields[name] = dataclasses.replace(field, **changes)
        item = items_meta[index] if index < len(items_meta) else {}
        history = [TransformRecord(**record) for record in item.get("history", [])]
        samples.append(Sample(fields, history=history, metadata=item.get("metadata", {})))
    return samples
