"""Foreign-library transforms: validation, records and config rejection."""

import numpy as np
import pytest
import torch

from medaug.core import Image, Sample
from medaug.transforms import ForeignTransform


def _define_negate():
    # Defined inside a function so that the registry does not keep it.
    class _Negate(ForeignTransform):
        library = "test"

        def apply(self, sample, parameters):
            image = sample["image"]
            return sample.replace({"image": image.replace(data=self.transform_(image.data))})

    return _Negate


_Negate = _define_negate()


def test_foreign_transform_records_seed():
    sample = Sample({"image": Image(np.ones((1, 3, 3), np.float32))})
    out = _Negate(torch.neg).transform(sample, rng=np.random.default_rng(0))
    record = out.history[-1]
    assert torch.equal(out["image"].data, -sample["image"].data)
    assert record.parameters["transform"] == repr(torch.neg)
    assert 0 <= record.parameters["seed"] < 2**32


def test_foreign_transform_rejects_non_callable():
    with pytest.raises(TypeError, match="`transform` must be a callable test transform, got int"):
        _Negate(3)


def test_foreign_transform_cannot_be_rebuilt():
    with pytest.raises(ValueError, match="_Negate cannot be rebuilt from a config or record: construct it from the test object"):
        _Negate.from_config({"transform": "neg"})


def test_foreign_transform_needs_rng():
    sample = Sample({"image": Image(np.ones((1, 3, 3), np.float32))})
    with pytest.raises(TypeError, match="is random and needs `rng`"):
        _Negate(torch.neg).transform(sample)

