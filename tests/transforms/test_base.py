"""Transform base classes: registry, config, rng handling, type round trips, dispatch."""

import numpy as np
import pytest
import SimpleITK as sitk
import torch

from medaug.core import Image, LabelMap, Sample
from medaug.transforms import (
    Affine,
    Flip,
    IntensityTransform,
    NotInvertibleError,
    RandomAffine,
    RandomFlip,
    Transform,
    get_transform_class,
    promote_intensity,
    to_plain,
)
from tests.transforms.helpers import blob_sample


class _AddOne(IntensityTransform):
    def apply_to_image(self, data, parameters, field):
        return data + 1


def test_registry_finds_transforms():
    assert get_transform_class("Affine") is Affine
    assert get_transform_class("RandomFlip") is RandomFlip


def test_registry_unknown_name_raises():
    with pytest.raises(ValueError, match="no transform is registered under 'Afine'"):
        get_transform_class("Afine")


def test_registry_rejects_duplicate_name():
    with pytest.raises(ValueError, match="already registered"):
        type("Affine", (Transform,), {"__qualname__": "Affine", "__module__": "elsewhere"})


def test_get_config_requires_stored_arguments():
    class Forgetful(Transform):
        def __init__(self, strength=1.0):
            pass

    with pytest.raises(AttributeError, match="must store constructor argument 'strength'"):
        Forgetful().get_config()


def test_random_transform_requires_rng():
    with pytest.raises(TypeError, match="is random and needs `rng`"):
        RandomFlip()(np.zeros((4, 4), np.float32))


def test_deterministic_transform_ignores_missing_rng():
    out = Flip("x")(np.arange(4, dtype=np.float32).reshape(1, 4))
    np.testing.assert_array_equal(out, [[3, 2, 1, 0]])


def test_to_plain_converts_nested_values():
    value = {"a": (np.float32(1.5), np.int64(2)), "b": np.arange(2), "c": torch.tensor([1.0])}
    assert to_plain(value) == {"a": [1.5, 2], "b": [0, 1], "c": [1.0]}


def test_to_plain_rejects_unknown_type():
    with pytest.raises(TypeError, match="cannot serialise"):
        to_plain(object())


def test_promote_intensity_widens_integers_only():
    assert promote_intensity(torch.zeros(2, dtype=torch.int16)).dtype == torch.float32
    assert promote_intensity(torch.zeros(2, dtype=torch.float64)).dtype == torch.float64


@pytest.mark.parametrize("kind", ["numpy", "torch", "sitk", "dict"])
def test_call_returns_input_type(kind):
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    expected = array[:, ::-1]
    if kind == "numpy":
        out = Flip("x")(array)
        np.testing.assert_array_equal(out, expected)
    elif kind == "torch":
        out = Flip("x")(torch.from_numpy(array))
        assert isinstance(out, torch.Tensor)
        np.testing.assert_array_equal(out.numpy(), expected)
    elif kind == "sitk":
        out = Flip("x")(sitk.GetImageFromArray(array))
        assert isinstance(out, sitk.Image)
        np.testing.assert_array_equal(sitk.GetArrayFromImage(out), expected)
    else:
        out = Flip("x")({"image": array, "label": (array > 5).astype(np.uint8), "id": "case1"})
        assert out["id"] == "case1"
        np.testing.assert_array_equal(out["image"], expected)
        np.testing.assert_array_equal(out["label"], (expected > 5).astype(np.uint8))


def test_intensity_transform_skips_labels():
    sample = blob_sample()
    out = _AddOne()(sample)
    assert torch.equal(out["label"].data, sample["label"].data)
    np.testing.assert_allclose(out["image"].numpy(), sample["image"].numpy() + 1)


def test_intensity_transform_dispatches_by_type_not_name():
    image = np.ones((1, 3, 3), np.float32)
    sample = Sample({"label": Image(image), "image": LabelMap(np.ones((1, 3, 3), np.uint8))})
    out = _AddOne()(sample)
    # The Image stored under "label" changes; the LabelMap stored under "image" does not.
    assert float(out["label"].data.max()) == 2.0
    assert int(out["image"].data.max()) == 1


def test_intensity_transform_promotes_integer_image():
    sample = Sample({"image": Image(np.full((1, 2, 2), 32767, np.int16))})
    out = _AddOne()(sample)
    assert out["image"].data.dtype == torch.float32
    # Promotion, not wrapping: 32767 + 1 stays positive.
    assert float(out["image"].data.min()) == 32768.0


def test_batched_sample_gets_parameters_per_item(rng):
    from medaug.core import collate

    items = [blob_sample(shape=(6, 8, 8)) for _ in range(3)]
    batch = collate(items)
    out = RandomAffine(rotation_range_deg=30).transform(batch, rng=rng)
    assert out["image"].data.shape == batch["image"].data.shape
    histories = [item["history"] for item in out.metadata["items"]]
    angles = {tuple(h[0]["parameters"]["rotation_deg"]) for h in histories}
    assert len(angles) == 3


def test_inverse_of_intensity_transform_raises():
    with pytest.raises(NotInvertibleError, match="has no inverse"):
        _AddOne().inverse()
