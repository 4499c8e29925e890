"""Collation for DataLoader and splitting back."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medaug.core import (
    Geometry,
    Image,
    LabelMap,
    Points,
    Sample,
    TransformRecord,
    collate,
    collate_tensors,
    uncollate,
)


def _sample(value: float, origin: float = 0.0) -> Sample:
    geometry = Geometry(spacing=(1.0, 1.0), origin=(origin, 0.0))
    return Sample(
        {
            "image": Image(np.full((1, 3, 4), value, np.float32), geometry=geometry),
            "label": LabelMap(np.full((1, 3, 4), int(value), np.uint8), geometry=geometry),
            "points": Points(np.array([[value, 0.0]]), ndim=2),
        },
        history=[TransformRecord("Gamma", {"gamma": value})],
    )


def test_collate_stacks_and_uncollate_splits():
    batch = collate([_sample(1.0), _sample(2.0, origin=5.0)])
    assert tuple(batch["image"].data.shape) == (2, 1, 3, 4)
    assert isinstance(batch["image"].geometry, tuple)
    items = uncollate(batch)
    assert [float(item["image"].data.max()) for item in items] == [1.0, 2.0]
    assert items[1]["image"].geometry.origin == (5.0, 0.0)
    assert items[1].history == (TransformRecord("Gamma", {"gamma": 2.0}),)


def test_collate_shares_equal_geometry():
    batch = collate([_sample(1.0), _sample(2.0)])
    assert isinstance(batch["image"].geometry, Geometry)
    assert batch["image"].geometries == (batch["image"].geometry,) * 2


def test_collate_rejects_different_shapes():
    other = Sample({"image": Image(np.zeros((1, 3, 5), np.float32)), "label": LabelMap(np.zeros((1, 3, 5), np.uint8)), "points": Points(np.zeros((1, 2)), ndim=2)})
    with pytest.raises(ValueError, match="field 'image' has different shapes across the batch"):
        collate([_sample(1.0), other])


def test_collate_tensors_for_dataloader():
    loader = torch.utils.data.DataLoader([_sample(float(i)) for i in range(4)], batch_size=2, collate_fn=collate_tensors)
    batches = list(loader)
    assert batches[1]["image"].shape == (2, 1, 3, 4)
    assert batches[1]["history"][0] == [{"name": "Gamma", "parameters": {"gamma": 2.0}}]


def test_collate_rejects_empty():
    with pytest.raises(ValueError, match="at least one sample"):
        collate([])
