"""Per-sample seeding: independent of call order, distinct per index and epoch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from medaug.core import sample_rng, seed_sequence, torch_generator
from medaug.core.seeding import as_rng


@given(seed=st.integers(0, 2**32), index=st.integers(0, 10**6))
def test_same_seed_and_index_same_stream(seed, index):
    first = sample_rng(seed, index).random(4)
    other = sample_rng(seed, index + 1).random(4)
    again = sample_rng(seed, index).random(4)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_order_of_requests_does_not_matter():
    forward = [sample_rng(3, i).integers(1 << 40) for i in range(10)]
    backward = [sample_rng(3, i).integers(1 << 40) for i in reversed(range(10))]
    assert forward == list(reversed(backward))


def test_matches_seed_sequence_spawn_key():
    expected = np.random.default_rng(np.random.SeedSequence(11, spawn_key=(4,))).random()
    assert sample_rng(11, 4).random() == expected


def test_epochs_differ_from_each_other_and_from_benchmark_stream():
    values = {sample_rng(0, 5).random(), sample_rng(0, 5, epoch=0).random(), sample_rng(0, 5, epoch=1).random()}
    assert len(values) == 3


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"seed": -1, "index": 0}, ValueError, "`seed` must be >= 0, got -1"),
    ({"seed": 0, "index": 1.5}, TypeError, "`index` must be an int"),
    ({"seed": 0, "index": 0, "epoch": -2}, ValueError, "`epoch` must be >= 0"),
])
def test_bad_seeds_rejected(kwargs, error, message):
    with pytest.raises(error, match=message):
        seed_sequence(**kwargs)


def test_torch_generator_reproducible():
    import torch

    a = torch.rand(3, generator=torch_generator(np.random.default_rng(1)))
    b = torch.rand(3, generator=torch_generator(np.random.default_rng(1)))
    assert torch.equal(a, b)


def test_as_rng_rejects_none():
    with pytest.raises(TypeError, match="`rng` must be a numpy.random.Generator or an int seed"):
        as_rng(None)
