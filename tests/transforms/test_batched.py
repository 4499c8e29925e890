"""Batched samples: one grid_sample per fused run, equal to running the items one by one."""

import functools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import medaug.transforms.batched as batched_module
from medaug.core import collate, uncollate
from medaug.transforms import (
    Compose,
    Flip,
    OneOf,
    RandomAffine,
    RandomApply,
    RandomBlur,
    RandomElasticDeformation,
    RandomFlip,
    RandomGamma,
    RandomGaussianNoise,
    RandomLabelCrop,
    RandomRot90,
    Resample,
    run_leaves,
)
from medaug.transforms.functional.coordinates import Grid
from medaug.transforms.functional.resample import Resampling, resample_sample, resample_samples
from tests.transforms.helpers import blob_sample

PIPELINES = {
    "affine, elastic, intensity": Compose([
        RandomAffine(20, (0.9, 1.1), translation_range_mm=2.0),
        RandomElasticDeformation(8.0, 0.8),
        RandomFlip("x"),
        RandomGamma(0.3),
        RandomGaussianNoise((0.0, 0.1)),
    ]),
    "two fused runs": Compose([
        RandomAffine(10), RandomBlur((0.5, 1.5)), RandomAffine(10, padding=-1.0), RandomRot90(k_choices=(0, 2)),
    ]),
    "choices differ per item": Compose([
        RandomApply(RandomAffine(15), p=0.5),
        OneOf([RandomGamma(0.2), RandomAffine(5)]),
        RandomApply(RandomBlur(1.0), p=0.5),
    ]),
    "cubic and soft labels": Compose([
        RandomAffine(15, image_interpolation="cubic", label_interpolation="soft"),
    ]),
    "resampling differs between runs": Compose([
        RandomAffine(10), RandomAffine(10, padding="border"), RandomAffine(10, label_interpolation="soft"),
    ]),
    "exact copies only": Compose([RandomFlip(("x", "y", "z")), Flip("x")]),
    "foreground crop": Compose([RandomAffine(10), RandomLabelCrop((8, 8, 8)), RandomGamma(0.2)]),
    "anti-aliased resample": Compose([RandomAffine(10), Resample(2.0)]),
}


def _batch(size=3, shape=(12, 14, 16)):
    return collate([blob_sample(shape=shape, seed=seed) for seed in range(size)])


def _items_one_by_one(transform, sample, seed, *, fuse=True):
    rng = np.random.default_rng(seed)
    return collate([run_leaves(item, transform.leaves(rng), rng, fuse=fuse) for item in uncollate(sample)])


@pytest.fixture(params=[True, None], ids=["stacked", "default"])
def stacking(request, monkeypatch):
    """Run batches with stacked grid_sample calls (as off the CPU) and with the CPU default."""
    forced = functools.partial(resample_samples, stack=request.param)
    monkeypatch.setattr(batched_module, "resample_samples", forced)
    return request.param


@pytest.mark.parametrize("name", list(PIPELINES))
def test_batch_equals_items_one_by_one(name, stacking):
    pipeline = PIPELINES[name]
    sample = _batch()
    out = pipeline.transform(sample, rng=np.random.default_rng(5))
    expected = _items_one_by_one(pipeline, sample, 5)
    for field in ("image", "label"):
        assert out[field].data.shape == expected[field].data.shape
        assert out[field].data.dtype == expected[field].data.dtype
        assert torch.equal(out[field].data, expected[field].data), field


def test_batch_equals_items_without_fusion(stacking):
    pipeline = PIPELINES["two fused runs"]
    sample = _batch()
    out = pipeline.transform(sample, rng=np.random.default_rng(6), fuse=False)
    expected = _items_one_by_one(pipeline, sample, 6, fuse=False)
    assert torch.equal(out["image"].data, expected["image"].data)


def test_batch_uses_one_resampling_call(monkeypatch):
    calls = []

    def counting(samples, plans, resampling):
        calls.append(len(samples))
        return resample_samples(samples, plans, resampling)

    monkeypatch.setattr(batched_module, "resample_samples", counting)
    PIPELINES["affine, elastic, intensity"].transform(_batch(4), rng=np.random.default_rng(0))
    # Affine, elastic and flip fuse into one run, handed to one call for all four items.
    assert calls == [4]


def test_fallback_leaves_rng_where_items_leave_it():
    pipeline = PIPELINES["foreground crop"]
    rng = np.random.default_rng(7)
    pipeline.transform(_batch(), rng=rng)
    reference = np.random.default_rng(7)
    _items_one_by_one_with(pipeline, _batch(), reference)
    assert rng.integers(1 << 62) == reference.integers(1 << 62)


def _items_one_by_one_with(transform, sample, rng):
    return [run_leaves(item, transform.leaves(rng), rng) for item in uncollate(sample)]


def test_batch_of_2d_images(stacking):
    sample = collate([blob_sample(shape=(20, 24), spacing=(1.0, 0.5), seed=seed) for seed in range(2)])
    pipeline = Compose([RandomAffine(30), RandomElasticDeformation(6.0, 1.0)])
    out = pipeline.transform(sample, rng=np.random.default_rng(8))
    expected = _items_one_by_one(pipeline, sample, 8)
    assert torch.equal(out["image"].data, expected["image"].data)
    assert torch.equal(out["label"].data, expected["label"].data)


@pytest.mark.parametrize("stack", [True, False])
def test_resample_samples_equals_resample_sample(stack, monkeypatch):
    items = uncollate(_batch())
    rng = np.random.default_rng(9)
    affine = RandomAffine(25, (0.8, 1.2), padding=-2.0)
    plans = []
    for item in items:
        twin = affine.deterministic(affine.sample_parameters(rng, item))
        plans.append(twin.plan(twin.sample_parameters(None, item), Grid.of(item.reference)))
    resampling = Resampling(padding=-2.0)
    calls = []

    def counting(*args, **kwargs):
        calls.append(args[0].shape[0])
        return grid_sample(*args, **kwargs)

    grid_sample = F.grid_sample
    monkeypatch.setattr(F, "grid_sample", counting)
    together = resample_samples(items, plans, resampling, stack=stack)
    # One call per field (image, label) for the whole batch, or one per field and item.
    assert calls == ([3, 3] if stack else [1] * 6)
    for item, plan, result in zip(items, plans, together):
        alone = resample_sample(item, plan, resampling)
        assert torch.equal(result["image"].data, alone["image"].data)
        assert torch.equal(result["label"].data, alone["label"].data)


def test_resample_samples_rejects_plan_count():
    items = uncollate(_batch(2))
    with pytest.raises(ValueError, match=r"`plans` must have one plan per sample \(2\), got 1"):
        resample_samples(items, [None], Resampling())
