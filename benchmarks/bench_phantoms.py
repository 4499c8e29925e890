"""Speed of phantom rasterisation and analytic k-space: medaug against phantominator and sigpy.

Run from the repository root with the benchmark environment:

    OMP_NUM_THREADS=1 .venv-bench/bin/python -m benchmarks.bench_phantoms

Rasterisation: the modified 3D Shepp-Logan phantom (10 ellipsoids) at 128^3
and 256^3, one sample per voxel (no partial volume, as the peers do).
k-space: the analytic transform of the 2D modified Shepp-Logan phantom at
256^2 = 65,536 arbitrary locations. Heads: label maps of the folded
procedural head and of the layered (ellipsoid) head with 2x2 or 2x2x2
sub-samples per voxel, and the time to draw one. Times are medians of repeated calls on
one thread; the table is written to docs/benchmarks/phantoms.md.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np
import torch

from benchmarks.timing import median_time

OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "phantoms.md"


def _raster_rows(size: int, repeats: int) -> list[tuple[str, str, float]]:
    import sigpy
    from phantominator import shepp_logan as phantominator_shepp_logan

    from medaug.phantoms import shepp_logan

    phantom = shepp_logan("modified_3d", scale_mm=1.0)
    task = f"rasterise 3D Shepp-Logan {size}^3"
    rows = [
        (task, "medaug (torch, float32)",
         median_time(lambda: phantom.rasterize((size,) * 3, 2.0), repeats)),
        (task, "phantominator 0.7 (numpy, float64)",
         median_time(lambda: phantominator_shepp_logan((size, size, size)), repeats)),
        (task, "sigpy 0.1.27 (numpy, float32)",
         median_time(lambda: sigpy.shepp_logan((size,) * 3, dtype=np.float32), repeats)),
    ]
    return rows


def _kspace_rows(repeats: int) -> list[tuple[str, str, float]]:
    from phantominator import kspace_shepp_logan

    from medaug.phantoms import shepp_logan

    n = 256
    phantom = shepp_logan("modified_2d", scale_mm=1.0)
    frequencies = (np.arange(n) - n // 2) / 2.0  # cycles per unit, FOV [-1, 1)
    ky, kx = np.meshgrid(frequencies, frequencies, indexing="ij")
    k64 = np.stack([kx, ky], axis=-1).reshape(-1, 2)
    k32 = k64.astype(np.float32)
    task = "analytic k-space, 2D Shepp-Logan, 256^2 points"
    return [
        (task, "medaug (float64)", median_time(lambda: phantom.kspace(k64), repeats)),
        (task, "medaug (float32)", median_time(lambda: phantom.kspace(k32), repeats)),
        (task, "phantominator 0.7 kspace_shepp_logan",
         median_time(lambda: kspace_shepp_logan(kx.ravel(), ky.ravel()), repeats)),
    ]


def _head_rows(repeats: int) -> list[tuple[str, str, float]]:
    """Time drawing and labelling heads: the folded procedural head against the layered one."""
    from medaug.phantoms import HeadParameters, layered_head, procedural_head

    parameters = HeadParameters(lesion_count=(2, 2))
    rows = []
    for ndim, shape in ((2, (256, 256)), (3, (128, 128, 128))):
        folded = procedural_head(np.random.default_rng(0), parameters, ndim=ndim)
        layered = layered_head(np.random.default_rng(0), parameters, ndim=ndim)
        size = "x".join(str(n) for n in shape)
        task = f"label map of a {ndim}D head, {size}, supersample 2"
        rows += [
            (task, "medaug procedural_head (folded)",
             median_time(lambda head=folded, grid=shape: head.label_map(grid, 220.0, supersample=2), repeats)),
            (task, "medaug layered_head (ellipsoids)",
             median_time(lambda head=layered, grid=shape: head.label_map(grid, 220.0, supersample=2), repeats)),
        ]
    task = "draw a 3D head with 2 lesions"
    rows += [
        (task, "medaug procedural_head (folded)",
         median_time(lambda: procedural_head(np.random.default_rng(1), parameters, ndim=3), repeats)),
        (task, "medaug layered_head (ellipsoids)",
         median_time(lambda: layered_head(np.random.default_rng(1), parameters, ndim=3), repeats)),
    ]
    return rows


def inverse_crime_gap(n: int = 256, fov_mm: float = 256.0) -> list[tuple[int, float, float]]:
    """Return (supersample, error vs F, error vs F sinc sinc) of a raster's DFT, relative L2.

    The modified 2D Shepp-Logan phantom (scale 120 mm) is rasterised on an
    n x n grid over ``fov_mm`` and its centred DFT times the pixel area is
    compared with the analytic k-space on the same Cartesian grid.
    """
    from medaug.phantoms import shepp_logan

    spacing = fov_mm / n
    phantom = shepp_logan("modified_2d", scale_mm=120.0)
    frequencies = (np.arange(n) - n // 2) / fov_mm
    ky, kx = np.meshgrid(frequencies, frequencies, indexing="ij")
    analytic = phantom.kspace(np.stack([kx, ky], axis=-1))
    averaged = analytic * np.sinc(kx * spacing) * np.sinc(ky * spacing)
    results = []
    for supersample in (1, 2, 4, 8, 16):
        image = phantom.rasterize((n, n), fov_mm, supersample=supersample, dtype=torch.float64)
        dft = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(image.numpy()[0]))) * spacing**2
        results.append((
            supersample,
            float(np.linalg.norm(dft - analytic) / np.linalg.norm(analytic)),
            float(np.linalg.norm(dft - averaged) / np.linalg.norm(averaged)),
        ))
    return results


def main() -> None:
    """Time the peers side by side and write the markdown table."""
    torch.set_num_threads(1)
    rows = (_raster_rows(128, repeats=3) + _raster_rows(256, repeats=1) + _kspace_rows(repeats=5)
            + _head_rows(repeats=3))

    machine = f"{platform.machine()} {platform.processor() or ''}".strip()
    lines = [
        "# Phantom benchmarks",
        "",
        f"Machine: {machine}, {os.cpu_count()} cores (2-core VM, CPU only), torch "
        f"{torch.__version__} on 1 thread, OMP_NUM_THREADS=1.",
        "",
        "Command: `OMP_NUM_THREADS=1 .venv-bench/bin/python -m benchmarks.bench_phantoms`",
        "",
        "Ratio is each row's time over the first medaug row of its task (above 1: slower than "
        "that row). Median of 3 calls "
        "at 128^3 and for heads, 5 for k-space; 256^3 is timed once after a warm-up call. "
        "No peer generates folded heads, so the head rows compare medaug's two head models.",
        "",
        "| task | implementation | time (s) | ratio to medaug |",
        "| --- | --- | ---: | ---: |",
    ]
    reference: dict[str, float] = {}
    for task, name, seconds in rows:
        if name.startswith("medaug") and task not in reference:
            reference[task] = seconds
        ratio = seconds / reference[task]
        lines.append(f"| {task} | {name} | {seconds:.3f} | {ratio:.2f} |")
        print(f"{task:50s} {name:40s} {seconds:9.3f} s  x{ratio:.2f}")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
