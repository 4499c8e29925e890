"""Throughput of on-the-fly dataset pipelines against a small UNet training step.

Run from the repository root with the benchmark environment:

    OMP_NUM_THREADS=1 .venv-bench/bin/python -m benchmarks.bench_data

For the MRI reconstruction, brain segmentation and bone CT segmentation
example configs, each as written (a new procedural head per sample) and
with a pool of ``POOL`` anatomies (``source.anatomies``), the script
measures:

* DataLoader rates over :class:`medaug.data.PipelineDataset` with 0 and 2
  worker processes, in samples per second after the first batch;
* the CPU time of one sample in one process (0 workers), which depends much
  less on other load of the machine than the wall-clock rates;
* training while fed: a 2-D MONAI UNet trained on the loader with one
  worker, against the same steps on batches already in memory. A ratio of
  1 means generation keeps up with training. The segmentation UNet is the
  one of examples/train_segmentation.py (image to two classes, Dice and
  cross-entropy); the reconstruction UNet maps the zero-filled root sum of
  squares of the k-space to the reference image (L1), at 128 x 128.

For context it also times TorchIO (when installed) augmenting 96 x 96
images already in memory with a similar chain. The tables go between the
generated-section markers of docs/benchmarks/data.md; the rest of that
page is written by hand.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from benchmarks.timing import write_generated

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = Path(os.environ.get("MEDAUG_BENCH_OUTPUT", ROOT / "docs" / "benchmarks" / "data.md"))
BATCH = 8
BATCHES = 8
POOL = 64
TRAIN_BATCHES = 32
CONFIGS = {
    "MRI reconstruction (128 x 128, 8 coils, Poisson-disc R=4)": ("mri_reconstruction.yaml", "reconstruction"),
    "brain segmentation (96 x 96, label-to-image + MRI chain + augmentation)": ("brain_segmentation.yaml",
                                                                               "segmentation"),
    "bone segmentation (96 x 96, low-dose CT chain, 180 views + augmentation)": ("bone_segmentation_ct.yaml",
                                                                                "segmentation"),
}
Step = Callable[[dict[str, Any]], None]


def load_variant(name: str, anatomies: int | None) -> Any:
    """Return the example config ``name``, with a pool of ``anatomies`` anatomies unless None."""
    from medaug.data.config import load_config

    config = load_config(ROOT / "examples" / "configs" / name)
    return config if anatomies is None else config.with_options({"source": {"anatomies": anatomies}})


def dataset(config: Any, length: int) -> torch.utils.data.Dataset:
    """Return the config's dataset of ``length`` samples, its anatomy pool (if any) drawn beforehand."""
    from medaug.data.dataset import PipelineDataset

    return PipelineDataset(config, length, as_dict=True, preload=True)


def loader_rate(data: torch.utils.data.Dataset, workers: int, collate=None) -> float:
    """Return samples per second of a DataLoader, excluding the first batch."""
    loader = torch.utils.data.DataLoader(data, batch_size=BATCH, num_workers=workers, collate_fn=collate)
    iterator = iter(loader)
    next(iterator)
    start = time.perf_counter()
    count = 0
    for _batch in iterator:
        count += BATCH
    return count / (time.perf_counter() - start)


def cpu_ms_per_sample(data: torch.utils.data.Dataset) -> float:
    """Return the CPU milliseconds of one sample in this process (0 workers, first sample excluded)."""
    data[0]
    start = time.process_time()
    for index in range(1, len(data)):
        data[index]
    return 1000.0 * (time.process_time() - start) / (len(data) - 1)


def pool_ms_per_anatomy(config: Any) -> float:
    """Return the CPU milliseconds to draw and rasterise one anatomy of the pool."""
    from medaug.data.pipeline import Pipeline

    source = Pipeline.from_config(config).source
    start = time.process_time()
    source.fill()
    return 1000.0 * (time.process_time() - start) / POOL


def trainer(kind: str) -> Step:
    """Return one training step (forward, backward, Adam) of the small UNet for ``kind``."""
    from monai.losses import DiceCELoss
    from monai.networks.nets import UNet

    from medaug.physics.mri.reconstruction import root_sum_of_squares, zero_filled

    sys.path.insert(0, str(ROOT / "examples"))
    from train_segmentation import make_model

    torch.manual_seed(0)
    if kind == "segmentation":
        model = make_model()
        loss_function = DiceCELoss(to_onehot_y=True, softmax=True)

        def inputs(batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
            return batch["image"], batch["label"].long()
    else:
        model = UNet(spatial_dims=2, in_channels=1, out_channels=1, channels=(16, 32, 64, 128),
                     strides=(2, 2, 2), num_res_units=1)
        loss_function = torch.nn.L1Loss()

        def inputs(batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
            acquired = root_sum_of_squares(zero_filled(batch["kspace"]), coil_axis=1).unsqueeze(1)
            scale = acquired.amax(dim=(1, 2, 3), keepdim=True)
            return acquired / scale, batch["reconstruction"] / scale

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(batch: dict[str, Any]) -> None:
        image, target = inputs(batch)
        optimizer.zero_grad()
        loss_function(model(image), target).backward()
        optimizer.step()

    return step


def training_rates(data: torch.utils.data.Dataset, kind: str) -> dict[str, float]:
    """Train the small UNet on a 1-worker loader, and on the same batches in memory.

    The batches are made once beforehand. The in-memory steps run before
    and after the fed loop and their mean rate is the reference, so a change
    of machine load during the run shows in both. Returns ``fed`` and
    ``in_memory`` (samples/s), ``wait`` (the share of the fed loop's time
    spent waiting for the next batch) and ``step_ms`` (CPU ms per sample of
    the in-memory steps). The first batch of each loop is excluded (worker
    start-up, first allocations).
    """
    step = trainer(kind)
    batches = list(torch.utils.data.DataLoader(data, batch_size=BATCH, num_workers=1))
    count = BATCH * (len(batches) - 1)

    def in_memory() -> tuple[float, float]:
        step(batches[0])
        start, cpu_start = time.perf_counter(), time.process_time()
        for batch in batches[1:]:
            step(batch)
        return time.perf_counter() - start, time.process_time() - cpu_start

    before = in_memory()
    iterator = iter(torch.utils.data.DataLoader(data, batch_size=BATCH, num_workers=1))
    step(next(iterator))
    waited = 0.0
    start = time.perf_counter()
    while True:
        requested = time.perf_counter()
        batch = next(iterator, None)
        waited += time.perf_counter() - requested
        if batch is None:
            break
        step(batch)
    fed_seconds = time.perf_counter() - start
    after = in_memory()
    elapsed, cpu = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
    return {"fed": count / fed_seconds, "in_memory": count / elapsed, "wait": waited / fed_seconds,
            "step_ms": 1000.0 * cpu / count}


class ReadyTensors(torch.utils.data.Dataset):
    """Random tensors shaped like one sample of a pipeline: a loader whose items cost almost nothing.

    Training on it through the same DataLoader measures what the loader
    itself costs (moving batches between processes), the floor that any
    dataset pays.
    """

    def __init__(self, example: dict[str, Any], length: int) -> None:
        self.example = {name: value for name, value in example.items() if isinstance(value, torch.Tensor)}
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Any]:
        generator = torch.Generator().manual_seed(index)
        item: dict[str, Any] = {}
        for name, value in self.example.items():
            if value.is_complex() or value.is_floating_point():
                item[name] = torch.rand(value.shape, generator=generator, dtype=value.dtype)
            else:
                item[name] = torch.randint(0, 2, value.shape, generator=generator, dtype=value.dtype)
        return item


def torchio_rate(workers: int) -> float | None:
    """Return samples per second of TorchIO augmenting 96 x 96 images, or None without TorchIO."""
    try:
        import torchio as tio
    except ImportError:
        return None
    transform = tio.Compose([tio.RandomAffine(scales=(0.85, 1.15), degrees=(0, 0, 15)), tio.RandomBiasField(0.3),
                             tio.RandomGamma(0.4), tio.RescaleIntensity(percentiles=(0.5, 99.5))])
    generator = torch.Generator().manual_seed(0)
    subjects = [tio.Subject(image=tio.ScalarImage(tensor=torch.rand(1, 96, 96, 1, generator=generator)),
                            label=tio.LabelMap(tensor=(torch.rand(1, 96, 96, 1, generator=generator) > 0.5).int()))
                for _ in range(BATCH * (BATCHES + 1))]
    data = tio.SubjectsDataset(subjects, transform=transform)
    return loader_rate(data, workers, collate=lambda items: torch.stack([s["image"].data for s in items]))


def training_row(title: str, variant: str, data: torch.utils.data.Dataset, kind: str, generation: str) -> str:
    """Return one row of the training table."""
    rates = training_rates(data, kind)
    return (f"| {title} | {variant} | {rates['fed']:.1f} | {rates['in_memory']:.1f} "
            f"| {rates['fed'] / rates['in_memory']:.2f} | {100 * rates['wait']:.0f} % | {rates['step_ms']:.1f} "
            f"| {generation} |")


def measure() -> tuple[list[str], list[str]]:
    """Return the rows of the loader table and of the training table."""
    loader_rows, training_rows = [], []
    length = BATCH * (BATCHES + 1)
    train_length = BATCH * (TRAIN_BATCHES + 1)
    for title, (name, kind) in CONFIGS.items():
        for anatomies in (None, POOL):
            config = load_variant(name, anatomies)
            variant = "new anatomy per sample" if anatomies is None else f"pool of {anatomies} anatomies"
            zero, two = (loader_rate(dataset(config, length), workers) for workers in (0, 2))
            cpu = cpu_ms_per_sample(dataset(config, 2 * BATCH))
            fill = "" if anatomies is None else f"{pool_ms_per_anatomy(config):.1f}"
            loader_rows.append(f"| {title} | {variant} | {zero:.1f} | {two:.1f} | {cpu:.1f} | {fill} |")
            training_rows.append(training_row(title, variant, dataset(config, train_length), kind, f"{cpu:.1f}"))
        example = dataset(load_variant(name, POOL), 1)[0]
        training_rows.append(training_row(title, "ready tensors (loader floor)", ReadyTensors(example, train_length),
                                          kind, "0"))
    peer = [torchio_rate(0), torchio_rate(2)]
    if peer[0] is not None:
        loader_rows.append(f"| TorchIO: augmentation of 96 x 96 images already in memory | - | {peer[0]:.1f} "
                           f"| {peer[1]:.1f} | | |")
    return loader_rows, training_rows


def main() -> None:
    """Time the pipelines and write the generated section of the page."""
    torch.set_num_threads(1)
    load_before = os.getloadavg()
    loader_rows, training_rows = measure()
    load_after = os.getloadavg()
    lines = [
        "## Latest run (written by the script)",
        "",
        f"Machine: {platform.machine()} {platform.system()}, 2-core VM, CPU only, 1 torch thread per process.",
        "Command: `OMP_NUM_THREADS=1 .venv-bench/bin/python -m benchmarks.bench_data`.",
        f"DataLoader batch size {BATCH}, {BATCHES} batches timed after the first. "
        f"Load average (1 min) {load_before[0]:.1f} before and {load_after[0]:.1f} after the run.",
        "",
        "| pipeline | anatomy | 0 workers (samples/s) | 2 workers (samples/s) | CPU ms per sample "
        "| pool: CPU ms per anatomy, once |",
        "| --- | --- | --- | --- | --- | --- |",
        *loader_rows,
        "",
        "Training while fed: the UNet trains on the DataLoader with 1 worker (one core generates, the other",
        f"trains) for {TRAIN_BATCHES} batches, and on the same batches already in memory (before and after). \"Waiting\" is the share",
        "of the fed loop spent waiting for the next batch. \"Ready tensors\" feeds random tensors of the same",
        "shapes through the same loader: its ratio and waiting are what the loader itself costs, so a pipeline",
        "keeps up when it matches that row.",
        "",
        "| pipeline | data | fed (samples/s) | in memory (samples/s) | fed / in memory | waiting "
        "| UNet step, CPU ms per sample | generation, CPU ms per sample |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *training_rows,
    ]
    text = "\n".join(lines)
    write_generated(OUTPUT, "bench_data", text)
    print(text)


if __name__ == "__main__":
    main()
