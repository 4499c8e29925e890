"""Composition: fusion, containers, replay, inversion and label safety."""

import numpy as np
import pytest
import torch

from medaug.core import Points, Sample, TransformRecord
from medaug.transforms import (
    Affine,
    Compose,
    Flip,
    OneOf,
    RandomAffine,
    RandomApply,
    RandomFlip,
    RandomRot90,
    Rot90,
    SomeOf,
    invert,
    replay,
)
from tests.transforms.helpers import blob_sample


def test_fused_rotations_equal_single_rotation():
    sample = blob_sample()
    fused = Compose([Affine(rotation_deg=(0, 0, 20)), Affine(rotation_deg=(0, 0, 25))]).transform(sample)
    single = Affine(rotation_deg=(0, 0, 45)).transform(sample)
    # One interpolation on the same coordinates: equal up to float32 round-off.
    np.testing.assert_allclose(fused["image"].numpy(), single["image"].numpy(), atol=1e-5)
    assert torch.equal(fused["label"].data, single["label"].data)


def test_unfused_rotations_blur_more():
    sample = blob_sample()
    steps = [Affine(rotation_deg=(0, 0, 20)), Affine(rotation_deg=(0, 0, 25))]
    single = Affine(rotation_deg=(0, 0, 45)).transform(sample)["image"].numpy()
    unfused = Compose(steps, fuse=False).transform(sample)["image"].numpy()
    fused = Compose(steps).transform(sample)["image"].numpy()
    assert np.abs(unfused - single).mean() > 10 * np.abs(fused - single).mean()


def test_compose_records_every_leaf(rng):
    pipeline = Compose([RandomAffine(10), RandomFlip(("x", "y"), p=1.0)])
    out = pipeline.transform(blob_sample(), rng=rng)
    assert [r.name for r in out.history] == ["Affine", "Flip"]
    assert out.history[1].parameters["axes"] == [0, 1]


def test_replay_reproduces_output_exactly(rng):
    sample = blob_sample()
    pipeline = Compose([RandomAffine(20, (0.9, 1.1)), RandomRot90(), RandomFlip(p=0.5)])
    out = pipeline.transform(sample, rng=rng)
    again = replay(sample, out.history_dicts())
    assert torch.equal(again["image"].data, out["image"].data)
    assert torch.equal(again["label"].data, out["label"].data)


def test_replay_without_fusion_matches_separate_calls(rng):
    sample = blob_sample()
    first = RandomAffine(20).transform(sample, rng=rng)
    second = RandomAffine(20).transform(first, rng=rng)
    again = replay(sample, second.history, fuse=False)
    assert torch.equal(again["image"].data, second["image"].data)


def test_deterministic_twin_matches_random(rng):
    sample = blob_sample()
    random = RandomAffine(25, (0.8, 1.2), 0.1, 3.0)
    parameters = random.sample_parameters(np.random.default_rng(5), sample)
    twin = random.deterministic(parameters).transform(sample)
    drawn = random.transform(sample, rng=np.random.default_rng(5))
    assert torch.equal(twin["image"].data, drawn["image"].data)


def test_invert_flip_and_rot90_is_exact():
    sample = blob_sample(shape=(6, 8, 10))
    out = Compose([Rot90(1), Flip(("x", "z")), Rot90(3, plane=("y", "z"))]).transform(sample)
    back = invert(out)
    assert torch.equal(back["image"].data, sample["image"].data)
    assert torch.equal(back["label"].data, sample["label"].data)


def test_invert_affine_restores_interior(rng):
    sample = blob_sample(shape=(20, 20, 20))
    out = RandomAffine(15, (0.95, 1.05)).transform(sample, rng=rng)
    back = invert(out)
    inner = (slice(None), slice(6, 14), slice(6, 14), slice(6, 14))
    # Two linear interpolations smooth the noisy image: errors stay below its
    # 0.05 noise level.
    error = (back["image"].data - sample["image"].data)[inner].abs().mean()
    assert float(error) < 0.05


def test_invert_rejects_unknown_record():
    record = TransformRecord("NoSuchTransform", {})
    with pytest.raises(ValueError, match="no transform is registered"):
        invert(blob_sample(), [record])


def test_one_of_uses_weights(rng):
    pipeline = OneOf([Flip("x"), Flip("y")], weights=[0.0, 1.0])
    for _ in range(5):
        out = pipeline.transform(blob_sample(shape=(4, 4, 4)), rng=rng)
        assert out.history[0].parameters["axes"] == ["y"]


def test_one_of_bad_weights():
    with pytest.raises(ValueError, match="`weights` must have one value per transform"):
        OneOf([Flip("x")], weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="`weights` must be finite, >= 0"):
        OneOf([Flip("x"), Flip("y")], weights=[-1.0, 2.0])


def test_some_of_count_range(rng):
    pipeline = SomeOf([Flip("x"), Flip("y"), Flip("z")], count=(2, 3))
    counts = {len(pipeline.transform(blob_sample(shape=(4, 4, 4)), rng=rng).history) for _ in range(20)}
    assert counts == {2, 3}
    with pytest.raises(ValueError, match="`count` must satisfy"):
        SomeOf([Flip("x")], count=2)


def test_random_apply_probability(rng):
    never = RandomApply(Flip("x"), p=0.0).transform(blob_sample(shape=(4, 4, 4)), rng=rng)
    always = RandomApply(Flip("x"), p=1.0).transform(blob_sample(shape=(4, 4, 4)), rng=rng)
    assert never.history == ()
    assert len(always.history) == 1
    with pytest.raises(ValueError, match=r"`p` must be a probability in \[0, 1\], got 1.5"):
        RandomApply(Flip("x"), p=1.5)


def test_compose_rejects_empty_and_non_sequence():
    with pytest.raises(ValueError, match="at least one transform"):
        Compose([])
    with pytest.raises(TypeError, match="must be a sequence of transforms"):
        Compose(Flip("x"))


@pytest.mark.parametrize("seed", range(4))
def test_compositions_never_add_label_values(seed):
    sample = blob_sample()
    pipeline = Compose([
        OneOf([RandomAffine(30, (0.7, 1.3), 0.2, 4.0), RandomRot90()]),
        RandomApply(RandomFlip(("x", "y", "z")), p=0.7),
        RandomAffine(10, translation_range_mm=5, label_interpolation="soft"),
    ])
    out = pipeline.transform(sample, rng=np.random.default_rng(seed))
    assert set(out["label"].labels) <= set(sample["label"].labels) | {0}


def test_points_follow_composition():
    sample = blob_sample(shape=(11, 11, 11))
    point = Points.from_indices([[5.0, 5.0, 8.0]], sample["image"].geometry)
    with_point = Sample({**sample, "points": point})
    out = Compose([Affine(rotation_deg=(0, 0, 90)), Flip("y")]).transform(with_point)
    # +x of the centre turns to +y, then the y flip sends it to -y: index (5, 2, 5).
    np.testing.assert_allclose(out["points"].to_indices(out["image"].geometry), [[5, 2, 5]], atol=1e-9)
