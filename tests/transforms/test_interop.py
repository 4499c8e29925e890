"""MONAI and albumentations in both directions."""

import numpy as np
import pytest
import torch

from medaug.core import Image, LabelMap, Sample
from medaug.transforms import (
    Affine,
    Compose,
    Flip,
    RandomAffine,
    RandomElasticDeformation,
    RandomGaussianNoise,
)

monai = pytest.importorskip("monai")
albumentations = pytest.importorskip("albumentations")

from medaug.transforms.interop_albumentations import (  # noqa: E402
    AlbumentationsTransform,
    MedaugAlbumentations,
)
from medaug.transforms.interop_monai import (  # noqa: E402
    MedaugDictTransform,
    MonaiTransform,
    geometry_from_monai_affine,
    monai_affine,
)


def _blob_dict():
    image = np.zeros((1, 9, 9), np.float32)
    image[0, 7, 4] = 1.0  # +3 voxels along MONAI's first axis
    label = (image > 0).astype(np.uint8)
    return image, label


def test_monai_affine_round_trip():
    from medaug.core import Geometry

    geometry = Geometry(spacing=(2.0, 1.0, 0.5), origin=(3.0, -4.0, 5.0))
    rebuilt = geometry_from_monai_affine(monai_affine(geometry), 3)
    assert rebuilt.isclose(geometry)


def test_medaug_inside_monai_compose_is_reproducible():
    from monai.data import MetaTensor
    from monai.transforms import Compose as MonaiCompose

    image, label = _blob_dict()
    pipeline = Compose([RandomAffine(20), RandomElasticDeformation(4.0, 0.5), RandomGaussianNoise((0.0, 0.01))])
    outputs = []
    for _ in range(2):
        chain = MonaiCompose([MedaugDictTransform(pipeline, keys=["image", "label"])])
        chain.set_random_state(seed=11)
        data = {"image": MetaTensor(torch.from_numpy(image)), "label": torch.from_numpy(label), "id": 3}
        outputs.append(chain(data))
    assert torch.equal(outputs[0]["image"].as_tensor(), outputs[1]["image"].as_tensor())
    assert outputs[0]["id"] == 3
    assert set(torch.unique(outputs[0]["label"]).tolist()) <= {0, 1}


def test_monai_entry_point_rotation_convention():
    from monai.data import MetaTensor

    image, _ = _blob_dict()
    transform = MedaugDictTransform(Affine(rotation_deg=90), keys=["image"])
    out = transform({"image": MetaTensor(torch.from_numpy(image))})["image"]
    # MONAI stores (i, j, k) = (R, A, S) axes with an identity RAS affine, so
    # +x (left) is -i and +y (posterior) is -j. Turning +x towards +y turns +i
    # towards +j: the blob at i = 7 moves to j = 7.
    peak = np.unravel_index(int(out.as_tensor().argmax()), out.shape)
    assert tuple(int(i) for i in peak) == (0, 4, 7)
    assert isinstance(out, MetaTensor)


def test_medaug_in_monai_dataloader():
    from monai.data import DataLoader, Dataset
    from monai.transforms import Compose as MonaiCompose

    items = [{"image": np.random.default_rng(i).random((1, 8, 8), dtype=np.float32)} for i in range(4)]
    chain = MonaiCompose([MedaugDictTransform(RandomAffine(10), keys=["image"])])
    loader = DataLoader(Dataset(items, transform=chain), batch_size=2, num_workers=0)
    batches = list(loader)
    assert batches[0]["image"].shape == (2, 1, 8, 8)


def test_float_label_in_monai_raises():
    transform = MedaugDictTransform(Affine(), keys=["label"])
    with pytest.raises(TypeError, match="contains torch.float32 values; cast it first"):
        transform({"label": torch.zeros((1, 4, 4))})


def test_monai_transform_inside_medaug(rng):
    from monai.transforms import RandAffined

    monai_step = RandAffined(keys=["image", "label"], prob=1.0, rotate_range=0.5, mode=("bilinear", "nearest"))
    pipeline = Compose([RandomAffine(10), MonaiTransform(monai_step)])
    sample = Sample({
        "image": Image(np.random.default_rng(0).random((1, 12, 12), dtype=np.float32)),
        "label": LabelMap((np.random.default_rng(1).random((1, 12, 12)) * 3).astype(np.uint8)),
    })
    first = pipeline.transform(sample, rng=np.random.default_rng(5))
    second = pipeline.transform(sample, rng=np.random.default_rng(5))
    other = pipeline.transform(sample, rng=np.random.default_rng(6))
    assert torch.equal(first["image"].data, second["image"].data)
    assert not torch.equal(first["image"].data, other["image"].data)
    assert first["label"].data.dtype == torch.uint8
    assert first.history[-1].name == "MonaiTransform"


def test_medaug_inside_albumentations():
    image = np.zeros((9, 9), np.float32)
    image[4, 7] = 1.0
    mask = (image > 0).astype(np.uint8)
    chain = albumentations.Compose([MedaugAlbumentations(Affine(rotation_deg=90))], seed=0)
    out = chain(image=image, mask=mask)
    assert np.unravel_index(np.argmax(out["image"]), image.shape) == (7, 4)
    assert np.unravel_index(np.argmax(out["mask"]), image.shape) == (7, 4)
    assert out["mask"].dtype == np.uint8


def test_albumentations_wrapper_is_seeded():
    image = np.random.default_rng(0).random((16, 16, 3), dtype=np.float32)
    mask = (image[..., 0] > 0.5).astype(np.uint8)
    runs = []
    for _ in range(2):
        chain = albumentations.Compose([MedaugAlbumentations(RandomAffine(30))], seed=4)
        runs.append(chain(image=image, mask=mask))
    np.testing.assert_array_equal(runs[0]["image"], runs[1]["image"])
    assert runs[0]["image"].shape == (16, 16, 3)
    assert set(np.unique(runs[0]["mask"])) <= {0, 1}


def test_albumentations_transform_inside_medaug():
    image = np.random.default_rng(0).random((1, 6, 8), dtype=np.float32)
    label = (image > 0.5).astype(np.uint8)
    sample = Sample({"image": Image(image), "label": LabelMap(label)})
    out = Compose([AlbumentationsTransform(albumentations.HorizontalFlip(p=1.0))]).transform(
        sample, rng=np.random.default_rng(0)
    )
    expected = Flip("x").transform(sample)
    np.testing.assert_array_equal(out["image"].numpy(), expected["image"].numpy())
    np.testing.assert_array_equal(out["label"].numpy(), expected["label"].numpy())


def test_foreign_transform_cannot_replay():
    from medaug.transforms import replay

    sample = Sample({"image": Image(np.zeros((1, 4, 4), np.float32))})
    out = AlbumentationsTransform(albumentations.HorizontalFlip(p=1.0)).transform(sample, rng=0)
    with pytest.raises(ValueError, match="cannot be rebuilt from a config or record"):
        replay(sample, out.history)
