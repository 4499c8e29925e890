import numpy as np
import pytest
import SimpleITK as sitk
import torch
from torch.utils.data import DataLoader, DistributedSampler

from medaug.core.collate import collate
from medaug.data.dataset import ImageDataset, PipelineDataset, sample_to_dict
from tests.data.helpers import seg_config


def augmented_config():
    pytest.importorskip("medaug.transforms")
    return seg_config(size=6, writer=None, augmentation=[{"type": "RandomAffine", "rotation_range_deg": [-20, 20]}])


def batches(dataset, workers):
    loader = DataLoader(dataset, batch_size=2, num_workers=workers, collate_fn=collate)
    return [batch["image"].data for batch in loader]


def test_workers_do_not_change_samples():
    dataset = PipelineDataset(augmented_config(), epoch=3)
    for a, b in zip(batches(dataset, 0), batches(dataset, 2)):
        assert torch.equal(a, b)


def pooled_head_config():
    pytest.importorskip("medaug.phantoms.generators.head")
    return {"seed": 9, "size": 8, "source": {"type": "phantom", "generator": "procedural_head", "shape": [24, 24],
                                             "fov_mm": 240, "anatomies": 3, "contrast": {"type": "spin_echo"}}}


def test_preload_fills_the_anatomy_pool():
    dataset = PipelineDataset(pooled_head_config(), preload=True)
    assert sorted(dataset.pipeline.source._kept) == [0, 1, 2]
    assert sorted(PipelineDataset(pooled_head_config()).pipeline.source._kept) == []


@pytest.mark.parametrize("preload", [False, True])
def test_workers_do_not_change_pooled_samples(preload):
    reference = [PipelineDataset(pooled_head_config())[i]["image"].data for i in range(8)]
    dataset = PipelineDataset(pooled_head_config(), preload=preload)
    loaded = torch.cat(batches(dataset, 2))
    assert torch.equal(loaded, torch.stack(reference))


def test_set_epoch_changes_augmentation():
    dataset = PipelineDataset(augmented_config())
    first = dataset[0]["image"].data
    dataset.set_epoch(1)
    assert not torch.equal(first, dataset[0]["image"].data)
    dataset.set_epoch(0)
    assert torch.equal(first, dataset[0]["image"].data)


def test_distributed_ranks_partition_the_epoch():
    dataset = PipelineDataset(seg_config(size=6, writer=None), as_dict=True)
    seen = {}
    for rank in range(2):
        sampler = DistributedSampler(dataset, num_replicas=2, rank=rank, shuffle=True, seed=5)
        for item in DataLoader(dataset, batch_size=1, sampler=sampler):
            seen[int(item["index"])] = item["image"][0]
    assert sorted(seen) == list(range(6))
    for index, image in seen.items():
        assert torch.equal(image, dataset[index]["image"])


def test_as_dict_with_default_collate():
    dataset = PipelineDataset(seg_config(writer=None), as_dict=True)
    batch = next(iter(DataLoader(dataset, batch_size=4)))
    assert batch["image"].shape == (4, 1, 16, 12)
    assert batch["label"].dtype == torch.uint8
    assert batch["index"].tolist() == [0, 1, 2, 3]


def test_monai_dataloader_and_cache_dataset():
    monai = pytest.importorskip("monai")
    dataset = PipelineDataset(seg_config(writer=None), as_dict=True)
    batch = next(iter(monai.data.DataLoader(dataset, batch_size=2)))
    assert batch["image"].shape == (2, 1, 16, 12)
    cached = monai.data.CacheDataset(data=dataset, transform=None, progress=False)
    assert torch.equal(cached[1]["image"], dataset[1]["image"])


def test_length_default_and_index_checks():
    dataset = PipelineDataset(seg_config(size=5, writer=None))
    assert len(dataset) == 5
    assert torch.equal(dataset[-1]["image"].data, dataset[4]["image"].data)
    with pytest.raises(IndexError, match="`index` 5 is out of range for a dataset of 5 samples"):
        dataset[5]
    with pytest.raises(TypeError, match="`index` must be an int, got str"):
        dataset["0"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="`length` must be an int >= 1, got 0"):
        PipelineDataset(seg_config(writer=None), 0)
    with pytest.raises(ValueError, match="`epoch` must be an int >= 0 or None, got -1"):
        PipelineDataset(seg_config(writer=None), epoch=-1)
    with pytest.raises(TypeError, match="`pipeline` must be a Pipeline, PipelineConfig, dict or YAML path"):
        PipelineDataset(3)


def test_sample_to_dict():
    item = sample_to_dict(PipelineDataset(seg_config(writer=None), epoch=None)[1])
    assert item["index"] == 1
    assert item["epoch"] == -1


@pytest.fixture
def cases(tmp_path):
    items = []
    for index in range(2):
        image = sitk.GetImageFromArray(np.full((6, 7, 8), index + 1.0, np.float32))
        image.SetSpacing((0.5, 1.0, 2.0))
        label = sitk.GetImageFromArray((np.arange(6 * 7 * 8).reshape(6, 7, 8) % 2).astype(np.uint8))
        label.CopyInformation(image)
        items.append({"image": tmp_path / f"img{index}.nii.gz", "label": tmp_path / f"lab{index}.nii.gz"})
        sitk.WriteImage(image, str(items[-1]["image"]))
        sitk.WriteImage(label, str(items[-1]["label"]))
    return items


def test_image_dataset_reads_each_file_once(cases, monkeypatch):
    import medaug.io

    calls = []
    original = medaug.io.read_sample
    monkeypatch.setattr(medaug.io, "read_sample", lambda *a, **k: calls.append(a) or original(*a, **k))
    dataset = ImageDataset(cases, preload=True)
    for _ in range(3):
        sample = dataset[1]
    assert len(calls) == 2
    assert float(sample["image"].data.mean()) == 2.0
    assert sample["image"].geometry.spacing == pytest.approx((2.0, 1.0, 0.5))


def test_image_dataset_augments_per_epoch(cases):
    transforms = pytest.importorskip("medaug.transforms")
    flip = transforms.RandomFlip(axes=["x", "y", "z"])
    dataset = ImageDataset(cases, augmentation=[lambda s, rng: flip.transform(s, rng=rng)], seed=1)
    labels = []
    for epoch in range(6):
        dataset.set_epoch(epoch)
        labels.append(dataset[0]["label"].data)
    assert any(not torch.equal(labels[0], other) for other in labels[1:])
    dataset.set_epoch(2)
    assert torch.equal(dataset[0]["label"].data, labels[2])


def test_image_dataset_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"`items\[0\]\['image'\]` not found"):
        ImageDataset([{"image": tmp_path / "absent.nii.gz"}])
