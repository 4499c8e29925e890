"""DataLoader reproducibility across worker counts and epochs."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from medaug.core import Image, LabelMap, Sample, sample_rng
from medaug.transforms import (
    Compose,
    RandomAffine,
    RandomElasticDeformation,
    RandomGamma,
    RandomGaussianNoise,
    worker_init_fn,
)

_PIPELINE = Compose([
    RandomAffine(15, (0.9, 1.1)),
    RandomElasticDeformation(8.0, 1.0),
    RandomGamma(),
    RandomGaussianNoise((0.0, 0.05)),
])


class _Augmented(Dataset):
    """Eight copies of one small volume, each augmented with its own generator."""

    def __init__(self, epoch: int) -> None:
        generator = np.random.default_rng(0)
        self.image = generator.random((1, 12, 12, 12), dtype=np.float32)
        self.label = (self.image > 0.5).astype(np.uint8)
        self.epoch = epoch

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> torch.Tensor:
        sample = Sample({"image": Image(self.image), "label": LabelMap(self.label)})
        out = _PIPELINE.transform(sample, rng=sample_rng(7, index, self.epoch))
        return out["image"].data


def _epoch(epoch: int, workers: int) -> torch.Tensor:
    loader = DataLoader(
        _Augmented(epoch), batch_size=2, num_workers=workers, worker_init_fn=worker_init_fn
    )
    return torch.cat(list(loader))


@pytest.mark.filterwarnings("ignore:This DataLoader will create 4 worker processes:UserWarning")
def test_worker_count_does_not_change_samples():
    serial = _epoch(0, workers=0)
    parallel = _epoch(0, workers=4)
    assert serial.numpy().tobytes() == parallel.numpy().tobytes()
    flat = parallel.reshape(8, -1)
    for i in range(8):
        for j in range(i + 1, 8):
            assert not torch.equal(flat[i], flat[j]), f"samples {i} and {j} are duplicates"


def test_epochs_differ():
    assert not torch.equal(_epoch(0, workers=0), _epoch(1, workers=0))


def test_pipeline_runs_on_tensor_device(device):
    sample = Sample({
        "image": Image(torch.rand((1, 10, 10, 10))),
        "label": LabelMap((torch.rand((1, 10, 10, 10)) * 3).to(torch.uint8)),
    })
    pipeline = Compose([RandomAffine(15, (0.9, 1.1)), RandomElasticDeformation(6.0, 1.0), RandomGamma()])
    on_device = pipeline.transform(sample.to(device), rng=np.random.default_rng(3))
    on_cpu = pipeline.transform(sample, rng=np.random.default_rng(3))
    assert on_device["image"].data.device.type == torch.device(device).type
    # The same coordinates in float32 on another device agree to round-off.
    torch.testing.assert_close(on_device["image"].data.cpu(), on_cpu["image"].data, atol=1e-4, rtol=1e-4)


def test_batched_sample_keeps_device_and_shape(device):
    from medaug.core import collate

    items = [Sample({"image": Image(torch.rand((1, 8, 8)))}) for _ in range(3)]
    batch = collate(items).to(device)
    out = _PIPELINE.transform(batch, rng=np.random.default_rng(0))
    assert out["image"].data.shape == (3, 1, 8, 8)
    assert out["image"].data.device.type == torch.device(device).type
