"""Throughput of on-the-fly dataset pipelines against a small UNet training step.

Run from the repository root with the benchmark environment:

    OMP_NUM_THREADS=1 .venv-bench/bin/python -m benchmarks.bench_data

For the MRI reconstruction and brain segmentation example configs, the
script times a torch DataLoader over :class:`medaug.data.PipelineDataset`
with 0 and 2 worker processes. Rates are samples per second after the first
batch, so worker start-up is excluded. It also times one training step
(forward, backward, Adam) of the 2-D MONAI UNet of
examples/train_segmentation.py on a batch of 8 images of 96 x 96. For context it times TorchIO (when installed) loading
the same 96 x 96 images through a similar augmentation chain (RandomAffine,
RandomBiasField, RandomGamma, RescaleIntensity). The table is written to
docs/benchmarks/data.md.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = Path(os.environ.get("MEDAUG_BENCH_OUTPUT", ROOT / "docs" / "benchmarks" / "data.md"))
BATCH = 8
BATCHES = 8
CONFIGS = {
    "MRI reconstruction (128 x 128, 8 coils, Poisson-disc R=4)": "mri_reconstruction.yaml",
    "brain segmentation (96 x 96, label-to-image + MRI chain + augmentation)": "brain_segmentation.yaml",
}


def loader_rate(dataset: torch.utils.data.Dataset, workers: int, collate=None) -> float:
    """Return samples per second of a DataLoader, excluding the first batch."""
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, num_workers=workers, collate_fn=collate)
    iterator = iter(loader)
    next(iterator)
    start = time.perf_counter()
    count = 0
    for _batch in iterator:
        count += BATCH
    return count / (time.perf_counter() - start)


def cpu_rate(dataset: torch.utils.data.Dataset) -> float:
    """Return samples per second of CPU time in this process (0 workers, first sample excluded).

    CPU time counts only this process's work, so it changes less than wall
    time when other processes share the cores.
    """
    dataset[0]
    start = time.process_time()
    for index in range(1, len(dataset)):
        dataset[index]
    return (len(dataset) - 1) / (time.process_time() - start)


def unet_step_rate() -> tuple[float, float]:
    """Return samples per wall second and per CPU second of UNet training steps (batches of 8 of 96 x 96)."""
    import sys

    sys.path.insert(0, str(ROOT / "examples"))
    from monai.losses import DiceCELoss
    from train_segmentation import make_model

    torch.manual_seed(0)
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = DiceCELoss(to_onehot_y=True, softmax=True)
    images = torch.rand(BATCH, 1, 96, 96)
    labels = (images > 0.5).long()
    times, cpu_times = [], []
    for _ in range(6):
        start, cpu_start = time.perf_counter(), time.process_time()
        optimizer.zero_grad()
        loss_function(model(images), labels).backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    return BATCH / statistics.median(times[1:]), BATCH / statistics.median(cpu_times[1:])


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
    dataset = tio.SubjectsDataset(subjects, transform=transform)
    return loader_rate(dataset, workers, collate=lambda items: torch.stack([s["image"].data for s in items]))


def main() -> None:
    """Time the pipelines and write the markdown table."""
    torch.set_num_threads(1)
    from medaug.data.dataset import PipelineDataset

    load_before = os.getloadavg()
    rows = []
    for title, config in CONFIGS.items():
        rates = []
        for workers in (0, 2):
            dataset = PipelineDataset(ROOT / "examples" / "configs" / config, BATCH * (BATCHES + 1), as_dict=True)
            rates.append(loader_rate(dataset, workers))
        rates.append(cpu_rate(PipelineDataset(ROOT / "examples" / "configs" / config, 2 * BATCH, as_dict=True)))
        rows.append((f"medaug: {title}", *rates))
    peer = [torchio_rate(0), torchio_rate(2)]
    if peer[0] is not None:
        rows.append(("TorchIO: augmentation of 96 x 96 images already in memory", *peer, None))
    unet, unet_cpu = unet_step_rate()
    load_after = os.getloadavg()

    lines = [
        "# Data pipeline benchmark",
        "",
        f"Machine: {platform.machine()} {platform.system()}, 1 torch thread per process, 2-core VM, CPU only.",
        "Command: `OMP_NUM_THREADS=1 .venv-bench/bin/python -m benchmarks.bench_data`.",
        f"DataLoader, batch size {BATCH}, {BATCHES} batches timed after the first.",
        "",
        f"Load average (1 min) {load_before[0]:.1f} before and {load_after[0]:.1f} after the run.",
        "",
        "| pipeline | 0 workers (samples/s) | 2 workers (samples/s) | 2 workers / UNet step "
        "| samples per CPU second |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, zero, two, cpu in rows:
        cpu_text = "" if cpu is None else f"{cpu:.1f}"
        lines.append(f"| {name} | {zero:.1f} | {two:.1f} | {two / unet:.2f}x | {cpu_text} |")
    lines += [
        "",
        f"Small UNet training step (2-D MONAI UNet, channels 16-128, batch {BATCH} of 96 x 96, Adam): "
        f"{unet:.1f} samples/s, {unet_cpu:.1f} samples per CPU second.",
        "A ratio of at least 1 means on-the-fly generation keeps up with training on this machine.",
        "The two worker processes share the machine's 2 cores with the training process.",
        "Samples per CPU second: one process, 0 workers, CPU time of this process only; it depends less on",
        "the other load of the machine than the wall-clock rates do.",
    ]
    text = "\n".join(lines) + "\n"
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
