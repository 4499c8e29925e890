"""YAML export and loading of pipelines."""

import numpy as np
import pytest
import torch

from medaug.transforms import (
    Compose,
    OneOf,
    RandomAffine,
    RandomApply,
    RandomFlip,
    SomeOf,
    from_yaml,
    to_yaml,
)
from tests.transforms.helpers import blob_sample


def test_yaml_round_trip_gives_same_output(tmp_path):
    pipeline = Compose([
        RandomApply(RandomAffine(15, (0.9, 1.1), padding=-1.0), p=0.8),
        OneOf([RandomFlip("x"), RandomFlip("y")], weights=[1.0, 3.0]),
        SomeOf([RandomFlip("z"), RandomFlip("x")], count=(0, 2)),
    ])
    path = tmp_path / "pipeline.yaml"
    to_yaml(pipeline, path)
    loaded = from_yaml(path)
    assert to_yaml(loaded) == to_yaml(pipeline)
    sample = blob_sample()
    a = pipeline.transform(sample, rng=np.random.default_rng(3))
    b = loaded.transform(sample, rng=np.random.default_rng(3))
    assert torch.equal(a["image"].data, b["image"].data)


def test_from_yaml_rejects_wrong_version():
    with pytest.raises(ValueError, match="`medaug_transform_format` must be 1, got 7"):
        from_yaml("medaug_transform_format: 7\ntransform: {name: Flip}\n")


def test_from_yaml_rejects_missing_transform():
    with pytest.raises(ValueError, match="with a 'transform' key"):
        from_yaml("medaug_transform_format: 1\nsteps: []\n")
