"""Speed and memory of classical augmentation: medaug against batchgeneratorsv2, TorchIO, MONAI, albumentations.

Run from the repository root with the benchmark environment:

    OMP_NUM_THREADS=1 .venv-bench/bin/python -m benchmarks.bench_transforms

Cases (torch on one thread; median of 7 calls after one warm-up call):

* 3-D: one 128^3 float32 image with a uint8 label map, rotation +-15 degrees
  about each axis, scaling 0.9-1.1, elastic deformation, gamma and Gaussian
  noise. medaug fuses affine and elastic into one interpolation, and so do
  MONAI's ``Rand3DElasticd`` and batchgeneratorsv2's ``SpatialTransform``.
  TorchIO chains ``RandomAffine`` and ``RandomElasticDeformation``, which
  resample twice.
* 2-D: one 512^2 image with a mask, affine, elastic, brightness and contrast
  and noise: medaug against albumentations.

Peak extra memory is measured in a fresh process per case: the peak resident
set size (``VmHWM``, reset through ``/proc/self/clear_refs``) during one call
after a warm-up call, minus the resident size before it. Memory that the
warm-up call freed but the allocator kept is therefore not counted.

The table is written to docs/benchmarks/transforms.md.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "transforms.md"
REPEATS = 7
SHAPE_3D = (128, 128, 128)
SHAPE_2D = (512, 512)
ROTATION_RAD = np.deg2rad(15.0)


def _data_3d():
    generator = np.random.default_rng(0)
    image = generator.random((1, *SHAPE_3D), dtype=np.float32)
    label = (generator.random((1, *SHAPE_3D)) * 4).astype(np.uint8)
    return image, label


def _data_2d():
    generator = np.random.default_rng(0)
    image = generator.random(SHAPE_2D, dtype=np.float32)
    mask = (image > 0.5).astype(np.uint8)
    return image, mask


def _medaug_3d() -> Callable[[], object]:
    from medaug.core import Image, LabelMap, Sample
    from medaug.transforms import (
        Compose,
        RandomAffine,
        RandomElasticDeformation,
        RandomGamma,
        RandomGaussianNoise,
    )

    image, label = _data_3d()
    sample = Sample({"image": Image(image), "label": LabelMap(label)})
    pipeline = Compose([
        RandomAffine(15.0, (0.9, 1.1)),
        RandomElasticDeformation(32.0, 3.0),
        RandomGamma(),
        RandomGaussianNoise((0.0, 0.1)),
    ])
    rng = np.random.default_rng(0)
    return lambda: pipeline.transform(sample, rng=rng)


def _torchio_3d() -> Callable[[], object]:
    import torchio as tio

    image, label = _data_3d()
    subject = tio.Subject(
        image=tio.ScalarImage(tensor=torch.from_numpy(image)),
        label=tio.LabelMap(tensor=torch.from_numpy(label)),
    )
    pipeline = tio.Compose([
        tio.RandomAffine(scales=(0.9, 1.1), degrees=15),
        tio.RandomElasticDeformation(),
        tio.RandomGamma(),
        tio.RandomNoise(),
    ])
    return lambda: pipeline(subject)


def _monai_3d() -> Callable[[], object]:
    import monai.transforms as mt

    image, label = _data_3d()
    data = {"image": torch.from_numpy(image), "label": torch.from_numpy(label)}
    pipeline = mt.Compose([
        mt.Rand3DElasticd(
            keys=["image", "label"],
            sigma_range=(5.0, 7.0),
            magnitude_range=(50.0, 150.0),
            prob=1.0,
            rotate_range=(ROTATION_RAD,) * 3,
            scale_range=(0.1,) * 3,
            mode=("bilinear", "nearest"),
            padding_mode="zeros",
        ),
        mt.RandAdjustContrastd(keys=["image"], prob=1.0),
        mt.RandGaussianNoised(keys=["image"], prob=1.0),
    ])
    pipeline.set_random_state(seed=0)
    return lambda: pipeline(data)


def _batchgenerators_3d() -> Callable[[], object]:
    from batchgeneratorsv2.transforms.intensity.gamma import GammaTransform
    from batchgeneratorsv2.transforms.intensity.gaussian_noise import GaussianNoiseTransform
    from batchgeneratorsv2.transforms.spatial.spatial import SpatialTransform
    from batchgeneratorsv2.transforms.utils.compose import ComposeTransforms

    image, label = _data_3d()
    pipeline = ComposeTransforms([
        SpatialTransform(
            SHAPE_3D,
            patch_center_dist_from_border=0,
            random_crop=False,
            p_elastic_deform=1.0,
            p_rotation=1.0,
            rotation=(-ROTATION_RAD, ROTATION_RAD),
            p_scaling=1.0,
            scaling=(0.9, 1.1),
        ),
        GammaTransform((0.7, 1.5), p_invert_image=0.0, synchronize_channels=True, p_per_channel=1.0, p_retain_stats=1.0),
        GaussianNoiseTransform(noise_variance=(0.0, 0.1), p_per_channel=1.0, synchronize_channels=True),
    ])
    tensor_image = torch.from_numpy(image)
    tensor_label = torch.from_numpy(label.astype(np.int16))
    return lambda: pipeline(image=tensor_image.clone(), segmentation=tensor_label.clone())


def _medaug_2d() -> Callable[[], object]:
    from medaug.core import Image, LabelMap, Sample
    from medaug.transforms import (
        Compose,
        RandomAffine,
        RandomBrightnessContrast,
        RandomElasticDeformation,
        RandomGaussianNoise,
    )

    image, mask = _data_2d()
    sample = Sample({"image": Image(image[None]), "mask": LabelMap(mask[None])})
    pipeline = Compose([
        RandomAffine(15.0, (0.9, 1.1)),
        RandomElasticDeformation(64.0, 4.0),
        RandomBrightnessContrast(),
        RandomGaussianNoise((0.0, 0.1)),
    ])
    rng = np.random.default_rng(0)
    return lambda: pipeline.transform(sample, rng=rng)


def _albumentations_2d() -> Callable[[], object]:
    import albumentations as A

    image, mask = _data_2d()
    pipeline = A.Compose(
        [
            A.Affine(rotate=(-15, 15), scale=(0.9, 1.1), p=1.0),
            A.ElasticTransform(p=1.0),
            A.RandomBrightnessContrast(p=1.0),
            A.GaussNoise(p=1.0),
        ],
        seed=0,
    )
    return lambda: pipeline(image=image, mask=mask)


CASES: dict[str, Callable[[], Callable[[], object]]] = {
    "medaug-3d": _medaug_3d,
    "batchgeneratorsv2-3d": _batchgenerators_3d,
    "torchio-3d": _torchio_3d,
    "monai-3d": _monai_3d,
    "medaug-2d": _medaug_2d,
    "albumentations-2d": _albumentations_2d,
}


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def probe_memory(case: str) -> float:
    """Return the peak extra resident memory (MB) of one call of ``case`` after a warm-up."""
    call = CASES[case]()
    call()
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_mb("VmRSS")
    call()
    return _status_mb("VmHWM") - before


def _memory_in_subprocess(case: str) -> float:
    command = [sys.executable, "-m", "benchmarks.bench_transforms", "--memory", case]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    if result.returncode != 0:
        return float("nan")
    return float(result.stdout.strip().splitlines()[-1])


def _time(call: Callable[[], object]) -> float:
    call()
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _measure(case: str) -> tuple[float, float, str]:
    try:
        seconds = _time(CASES[case]())
    except Exception as error:  # noqa: BLE001 - a failing peer is reported, not hidden
        return float("nan"), float("nan"), f"failed: {type(error).__name__}: {str(error)[:100]}"
    return seconds, _memory_in_subprocess(case), ""


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    names = []
    for package in ("torch", "torchio", "monai", "albumentations", "batchgeneratorsv2"):
        try:
            names.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            names.append(f"{package} not installed")
    return ", ".join(names)


def main() -> None:
    """Time every case, print the table and write docs/benchmarks/transforms.md."""
    torch.set_num_threads(1)
    results = {case: _measure(case) for case in CASES}
    comparisons = [
        ("3-D 128^3 image + label: affine + elastic + gamma + noise", "medaug-3d", "batchgeneratorsv2-3d", 3.0),
        ("3-D 128^3 image + label: affine + elastic + gamma + noise", "medaug-3d", "torchio-3d", 10.0),
        ("3-D 128^3 image + label: affine + elastic + gamma + noise", "medaug-3d", "monai-3d", 10.0),
        ("2-D 512^2 image + mask: affine + elastic + brightness/contrast + noise", "medaug-2d", "albumentations-2d", 2.5),
    ]
    lines = [
        "# Classical augmentation benchmark",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{_versions()}; one thread (torch.set_num_threads(1), OMP_NUM_THREADS=1).",
        "",
        "Command: `OMP_NUM_THREADS=1 .venv-bench/bin/python -m benchmarks.bench_transforms`",
        "",
        f"Times are medians of {REPEATS} calls after a warm-up call, for one sample. Speed-up = peer time /",
        "medaug time (above 1: medaug is faster). Memory = peak extra resident memory of one",
        "call after a warm-up call, measured in a fresh process. Memory that the warm-up left",
        "resident (freed but kept by the allocator) is not counted, so a peer whose second call",
        "fits in it shows 0.",
        "",
        "| case | peer | medaug (ms) | peer (ms) | speed-up | target | medaug memory (MB) | peer memory (MB) | note |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for title, ours, peer, target in comparisons:
        ours_s, ours_mb, ours_note = results[ours]
        peer_s, peer_mb, peer_note = results[peer]
        speedup = peer_s / ours_s
        note = "; ".join(n for n in (ours_note, peer_note) if n)
        lines.append(
            f"| {title} | {peer.rsplit('-', 1)[0]} | {ours_s * 1e3:.1f} | {peer_s * 1e3:.1f} | "
            f"{speedup:.2f} | >= {target:g} | {ours_mb:.0f} | {peer_mb:.0f} | {note} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--memory":
        torch.set_num_threads(1)
        print(probe_memory(sys.argv[2]))
    else:
        main()
