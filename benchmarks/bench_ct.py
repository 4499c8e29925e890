"""Speed of 2D parallel-beam projection and FBP: medaug against scikit-image and deepinv.

Run from the repository root with the benchmark environment:

    OMP_NUM_THREADS=1 .venv-bench/bin/python -m benchmarks.bench_ct

One 256 x 256 image, 180 views over 180 degrees, 256 detector elements,
torch on one thread. Each round times medaug and scikit-image back to back
(medians of repeated calls) and takes their ratio. The table lists the
median over ``ROUNDS`` rounds, the range of the ratios and the machine's
load average, because the timings move with other work on a shared
machine. deepinv is timed in the first round only (its FBP takes
seconds). medaug's sparse system matrices are built once per geometry and
cached; the build time is listed on its own line. The table is written to
docs/benchmarks/ct.md.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.timing import median_time

SIZE = 256
N_ANGLES = 180
ROUNDS = 5
OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "ct.md"


def _phantom() -> np.ndarray:
    axis = np.arange(SIZE) - (SIZE - 1) / 2
    radius = np.sqrt(axis[:, None] ** 2 + axis[None, :] ** 2)
    image = (radius < 100).astype(np.float32) * 0.2
    image[(radius < 40)] = 0.3
    return image


def _cases(image: np.ndarray, angles: np.ndarray) -> tuple[dict, dict, tuple[float, float]]:
    """Return the medaug calls and the scikit-image calls per operation, plus build times."""
    from skimage.transform import iradon, radon

    from medaug.physics.ct import (
        ParallelBeamGeometry,
        ParallelBeamProjector,
        clear_projector_cache,
        fbp,
    )

    geometry = ParallelBeamGeometry(tuple(angles), SIZE)
    projector = ParallelBeamProjector(geometry, (SIZE, SIZE))
    tensor = torch.from_numpy(image)
    batch = tensor.expand(16, -1, -1).contiguous()

    clear_projector_cache()
    start = time.perf_counter()
    sinogram = projector(tensor)
    build_projector = time.perf_counter() - start
    start = time.perf_counter()
    fbp(sinogram, geometry, (SIZE, SIZE))
    build_fbp = time.perf_counter() - start

    sk_sinogram = radon(image, angles, circle=True)
    medaug = {
        "projection, 1 image": (lambda: projector(tensor), 15, 1),
        "projection, per image in a batch of 16": (lambda: projector(batch), 3, 16),
        "FBP (ramp), 1 image": (lambda: fbp(sinogram, geometry, (SIZE, SIZE)), 15, 1),
    }
    project_one = lambda: radon(image, angles, circle=True)  # noqa: E731 - one call shared by two rows
    skimage = {
        "projection, 1 image": project_one,
        "projection, per image in a batch of 16": project_one,
        "FBP (ramp), 1 image": lambda: iradon(sk_sinogram, angles, circle=True, filter_name="ramp"),
    }
    return medaug, skimage, (build_projector, build_fbp)


def _deepinv(image: np.ndarray, angles: np.ndarray) -> tuple[dict, str | None]:
    """Return deepinv's times per operation, or an empty dict and the reason it failed."""
    try:
        from deepinv.physics import Tomography

        physics = Tomography(angles=torch.from_numpy(angles).float(), img_width=SIZE, circle=True, device="cpu")
        x = torch.from_numpy(image)[None, None]
        y = physics.A(x)
        return {
            "projection, 1 image": median_time(lambda: physics.A(x), 3),
            "FBP (ramp), 1 image": median_time(lambda: physics.A_dagger(y), 3),
        }, None
    except Exception as error:  # noqa: BLE001 - a peer that fails is reported, not fatal
        return {}, f"deepinv failed: {type(error).__name__}: {error}"


def _rounds(medaug: dict, skimage: dict) -> dict:
    """Return, per operation, the per-round medaug and scikit-image times (s)."""
    results = {name: ([], []) for name in medaug}
    for _ in range(ROUNDS):
        peer_times = {}
        for name, (call, repeats, images) in medaug.items():
            results[name][0].append(median_time(call, repeats) / images)
            peer = skimage[name]
            if id(peer) not in peer_times:
                peer_times[id(peer)] = median_time(peer, 3)
            results[name][1].append(peer_times[id(peer)])
    return results


def _table(results: dict, deepinv: dict, builds: tuple[float, float], loads: list, note: str | None) -> str:
    lines = [
        "# CT benchmark",
        "",
        f"2D parallel beam, {SIZE} x {SIZE} image, {N_ANGLES} views, {SIZE} detector elements.",
        f"Machine: {platform.machine()} {platform.system()}, {os.cpu_count()}-core VM, CPU only, "
        f"{torch.get_num_threads()} torch thread, torch {torch.__version__}.",
        f"Each of {ROUNDS} rounds times medaug and scikit-image back to back (medians of repeated calls); "
        "the table lists the median over the rounds and the range of the per-round ratios.",
        "The machine is shared: 1-minute load average "
        + ", ".join(f"{load:.1f}" for load in loads)
        + " (at the start, before the rounds and after them) on 2 cores, so absolute times are slower than on an idle machine.",
        "Command: `OMP_NUM_THREADS=1 .venv-bench/bin/python -m benchmarks.bench_ct`.",
        "",
        "| operation | medaug (ms) | scikit-image (ms) | skimage / medaug | ratio range | deepinv (ms) | deepinv / medaug |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, (ours, peer) in results.items():
        ratios = [p / o for o, p in zip(ours, peer)]
        ours_ms, peer_ms = statistics.median(ours) * 1e3, statistics.median(peer) * 1e3
        other = deepinv.get(name)
        other_cells = ("-", "-") if other is None else (f"{other * 1e3:.1f}", f"{other * 1e3 / ours_ms:.1f}x")
        lines.append(
            f"| {name} | {ours_ms:.1f} | {peer_ms:.1f} | {statistics.median(ratios):.1f}x | "
            f"{min(ratios):.1f}-{max(ratios):.1f}x | {other_cells[0]} | {other_cells[1]} |"
        )
    lines += [
        "",
        f"One-time build of medaug's cached matrices: projector {builds[0] * 1e3:.0f} ms, "
        f"FBP back-projector {builds[1] * 1e3:.0f} ms (first call per geometry, dtype and device).",
        "scikit-image: `radon(circle=True)` and `iradon(filter_name='ramp', circle=True)`; "
        "its batch row repeats the single-image time (it has no batch call).",
        "deepinv: `physics.Tomography(circle=True)`, `A` and `A_dagger`, first round only.",
    ]
    if note is not None:
        lines.append(note)
    return "\n".join(lines) + "\n"


def main() -> None:
    """Time the peers side by side and write the markdown table."""
    torch.set_num_threads(1)
    image = _phantom()
    angles = np.linspace(0.0, 180.0, N_ANGLES, endpoint=False)

    loads = [os.getloadavg()[0]]
    medaug, skimage, builds = _cases(image, angles)
    deepinv, note = _deepinv(image, angles)
    loads.append(os.getloadavg()[0])
    results = _rounds(medaug, skimage)
    loads.append(os.getloadavg()[0])

    text = _table(results, deepinv, builds, loads, note)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
