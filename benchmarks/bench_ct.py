"""Speed of 2D parallel-beam projection and FBP: medaug against scikit-image and deepinv.

Run from the repository root with the benchmark environment:

    OMP_NUM_THREADS=1 .venv-bench/bin/python -m benchmarks.bench_ct

Times are the median of repeated calls on one 256 x 256 image with 180
views over 180 degrees and 256 detector elements, torch on one thread.
medaug's sparse system matrices are built once per geometry and cached;
the build time is listed on its own row. The table is written to
docs/benchmarks/ct.md.
"""

from __future__ import annotations

import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

SIZE = 256
N_ANGLES = 180
REPEATS = 7
OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "ct.md"


def _time(function, repeats: int = REPEATS) -> float:
    function()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _phantom() -> np.ndarray:
    axis = np.arange(SIZE) - (SIZE - 1) / 2
    radius = np.sqrt(axis[:, None] ** 2 + axis[None, :] ** 2)
    image = (radius < 100).astype(np.float32) * 0.2
    image[(radius < 40)] = 0.3
    return image


def main() -> None:
    """Time the peers side by side and write the markdown table."""
    torch.set_num_threads(1)
    from skimage.transform import iradon, radon

    from medaug.physics.ct import (
        ParallelBeamGeometry,
        ParallelBeamProjector,
        clear_projector_cache,
        fbp,
    )

    image = _phantom()
    angles = np.linspace(0.0, 180.0, N_ANGLES, endpoint=False)
    rows = []

    geometry = ParallelBeamGeometry(tuple(angles), SIZE)
    projector = ParallelBeamProjector(geometry, (SIZE, SIZE))
    tensor = torch.from_numpy(image)

    clear_projector_cache()
    start = time.perf_counter()
    sinogram = projector(tensor)
    build = time.perf_counter() - start
    medaug_project = _time(lambda: projector(tensor))
    medaug_fbp_first = time.perf_counter()
    fbp(sinogram, geometry, (SIZE, SIZE))
    fbp_build = time.perf_counter() - medaug_fbp_first
    medaug_fbp = _time(lambda: fbp(sinogram, geometry, (SIZE, SIZE)))
    batch = tensor.expand(16, -1, -1).contiguous()
    medaug_batch = _time(lambda: projector(batch), repeats=3) / 16

    skimage_radon = _time(lambda: radon(image, angles, circle=True), repeats=3)
    sk_sinogram = radon(image, angles, circle=True)
    skimage_iradon = _time(lambda: iradon(sk_sinogram, angles, circle=True, filter_name="ramp"), repeats=3)

    deepinv_row = "deepinv not importable"
    try:
        from deepinv.physics import Tomography

        physics = Tomography(angles=torch.from_numpy(angles).float(), img_width=SIZE, circle=True, device="cpu")
        x = tensor[None, None]
        deepinv_project = _time(lambda: physics.A(x), repeats=3)
        y = physics.A(x)
        deepinv_fbp = _time(lambda: physics.A_dagger(y), repeats=3)
        deepinv_row = None
    except Exception as error:  # noqa: BLE001 - a peer that fails is reported, not fatal
        deepinv_row = f"deepinv failed: {type(error).__name__}: {error}"

    rows.append(("projection, 1 image", medaug_project, skimage_radon, deepinv_project if deepinv_row is None else None))
    rows.append(("projection, per image in a batch of 16", medaug_batch, skimage_radon, None))
    rows.append(("FBP (ramp), 1 image", medaug_fbp, skimage_iradon, deepinv_fbp if deepinv_row is None else None))

    lines = [
        "# CT benchmark",
        "",
        f"2D parallel beam, {SIZE} x {SIZE} image, {N_ANGLES} views, {SIZE} detector elements.",
        f"Machine: {platform.machine()} {platform.system()}, {torch.get_num_threads()} torch thread, "
        "2-core VM, CPU only. Median of repeated calls.",
        "Command: `OMP_NUM_THREADS=1 .venv-bench/bin/python -m benchmarks.bench_ct`.",
        "",
        "| operation | medaug (ms) | scikit-image (ms) | skimage / medaug | deepinv (ms) | deepinv / medaug |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, ours, peer, other in rows:
        other_cells = ("-", "-") if other is None else (f"{other * 1e3:.1f}", f"{other / ours:.1f}x")
        lines.append(
            f"| {name} | {ours * 1e3:.1f} | {peer * 1e3:.1f} | {peer / ours:.1f}x | {other_cells[0]} | {other_cells[1]} |"
        )
    lines += [
        "",
        f"One-time build of medaug's cached matrices: projector {build * 1e3:.0f} ms, "
        f"FBP back-projector {fbp_build * 1e3:.0f} ms (first call per geometry, dtype and device).",
        "scikit-image: `radon(circle=True)` and `iradon(filter_name='ramp', circle=True)`.",
        "deepinv: `physics.Tomography(circle=True)`, `A` and `A_dagger`.",
    ]
    if deepinv_row is not None:
        lines.append(deepinv_row)
    text = "\n".join(lines) + "\n"
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
