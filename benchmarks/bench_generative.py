"""Speed and sample quality of medaug's generators.

Run from the repository root:

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.bench_generative
    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.bench_generative --quality RUN_DIR

The first form times training steps per second and sampling time per image,
on one torch thread, for the default VAE (``examples/configs/generator_vae_2d.yaml``)
and the DDPM config (``generator_ddpm_2d.yaml``) at 64 x 64. It also times
DDIM sampling through MONAI's ``DiffusionInferer`` on the same network (the
peer). It writes the table to docs/benchmarks/generative.md.
The machine's load average is listed because timings move with other work.

The second form samples 64 images from ``RUN_DIR/checkpoint.pt`` and
compares them with 64 held-out phantoms (indices 10000 and up, never
trained on): Fréchet distance on the seeded random-convolution features,
power-spectrum distance and median nearest-neighbour RMS distance, beside the
training phantoms (real-versus-real baseline) and two noise baselines:
independent Gaussian noise with the training set's global mean and standard
deviation (the baseline of the pass criterion), and Gaussian noise with the
per-pixel mean and standard deviation (which carries the mean head, so it is
much harder to beat on a family of similar phantoms).
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

import numpy as np
import torch

from benchmarks.timing import median_time, write_generated

OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "generative.md"
CONFIGS = Path(__file__).resolve().parents[1] / "examples" / "configs"


def _settings(name: str):
    from medaug.generative.training import load_train_config, model_settings

    return model_settings(load_train_config(CONFIGS / name), 0), load_train_config(CONFIGS / name)


def _training_rate(model, batch_size: int, repeats: int) -> float:
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4)
    generator = torch.Generator().manual_seed(0)
    images = torch.rand((batch_size,) + model.settings.image_size)

    def step() -> None:
        loss = model.loss(images, None, generator)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    return 1.0 / median_time(step, repeats)


def _monai_sampling(model, count: int) -> None:
    from monai.inferers import DiffusionInferer
    from monai.networks.schedulers import DDIMScheduler

    scheduler = DDIMScheduler(num_train_timesteps=model.settings.num_train_timesteps)
    scheduler.set_timesteps(model.settings.sampling_steps)
    inferer = DiffusionInferer(scheduler)
    noise = torch.randn((count, 1) + model.settings.image_size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        inferer.sample(input_noise=noise, diffusion_model=model.unet, scheduler=scheduler, verbose=False)


def speed_table(repeats: int = 3, count: int = 8) -> list[str]:
    """Time training and sampling; return markdown table rows."""
    from medaug.generative.models import build_model

    rows = []
    for config_name in ("generator_vae_2d.yaml", "generator_ddpm_2d.yaml"):
        settings, config = _settings(config_name)
        torch.manual_seed(0)
        model = build_model(settings)
        rate = _training_rate(model, config.training.batch_size, repeats)
        generator = torch.Generator()
        model.eval()
        sampling = median_time(lambda m=model, g=generator: m.generate(count, g.manual_seed(0)), 1) / count
        peer = ""
        if settings.kind == "ddpm":
            monai = median_time(lambda m=model: _monai_sampling(m, count), 1) / count
            peer = f"{monai:.3f} s | {sampling / monai:.2f}"
        else:
            peer = "n/a | n/a"
        rows.append(
            f"| {config_name} | {settings.kind} | {config.training.batch_size} | {rate:.2f} | "
            f"{sampling:.3f} s | {peer} |"
        )
    return rows


def quality(run: Path, count: int = 64) -> dict[str, dict[str, float]]:
    """Compare samples of a trained run with held-out phantoms and both baselines."""
    from medaug.generative.features import random_conv_features
    from medaug.generative.metrics import frechet_distance, power_spectrum_distance
    from medaug.generative.privacy import pairwise_rms_distance
    from medaug.generative.sampling import load_generator
    from medaug.generative.training_data import phantom_pairs

    config_seed = 0
    train = np.load(run / "data.npz")["images"].astype(np.float64)
    heldout, _ = phantom_pairs(count, config_seed, image_size=train.shape[1:], first_index=10000)
    rng = np.random.default_rng(1)
    synthetic, _ = load_generator(run / "checkpoint.pt").sample_arrays(count, rng)
    train_subset = train[rng.choice(len(train), size=min(count, len(train)), replace=False)]
    noise = train.mean() + train.std() * rng.standard_normal(train_subset.shape)
    pixel_noise = train.mean(axis=0) + train.std(axis=0) * rng.standard_normal(train_subset.shape)
    reference = random_conv_features(heldout)
    results = {}
    sets = (("synthetic", synthetic), ("real_vs_real", train_subset), ("noise_baseline", noise),
            ("pixel_noise_baseline", pixel_noise))
    for name, images in sets:
        results[name] = {
            "frechet_random_conv": frechet_distance(reference, random_conv_features(images)),
            "power_spectrum": power_spectrum_distance(heldout, images),
            "nearest_neighbour_rms": float(np.median(pairwise_rms_distance(images, heldout).min(axis=1))),
        }
    return results


def main(argv: list[str] | None = None) -> None:
    """Run the speed table (default) or the quality check of one run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", metavar="RUN_DIR", help="compare a trained run with held-out phantoms")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, 1 thread"
    if args.quality:
        results = quality(Path(args.quality))
        print(f"quality of {args.quality} ({machine}, load average {os.getloadavg()[0]:.1f})")
        print("| metric | synthetic | real vs real | noise | per-pixel noise | closer to real vs real than to noise |")
        print("| --- | --- | --- | --- | --- | --- |")
        for metric in results["synthetic"]:
            values = [results[k][metric] for k in ("synthetic", "real_vs_real", "noise_baseline", "pixel_noise_baseline")]
            closer = abs(values[0] - values[1]) < abs(values[0] - values[2])
            print(f"| {metric} | {values[0]:.4g} | {values[1]:.4g} | {values[2]:.4g} | {values[3]:.4g} | "
                  f"{'yes' if closer else 'no'} |")
        return
    load_before = os.getloadavg()[0]
    rows = speed_table()
    load_after = os.getloadavg()[0]
    lines = [
        f"Machine: {machine}. Load average {load_before:.1f} before and {load_after:.1f} after the run "
        "(above 1, other jobs shared the cores and the times are slower than on an idle machine).",
        "",
        "Command: `OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.bench_generative`",
        "",
        "Training: median time of one optimiser step on random 64 x 64 images at the config's batch size. "
        "Sampling: 8 images in one batch (DDIM with the config's 50 steps for the DDPM, one decoder pass "
        "for the VAE). The peer is MONAI's `DiffusionInferer.sample` with a `DDIMScheduler` on the same "
        "untrained network; ratio = medaug / MONAI. Each sampling time is one call after one warm-up "
        "call, under varying load, so the ratio carries that noise.",
        "",
        "| config | model | batch | training steps/s | sampling per image | MONAI sampling per image | ratio |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *rows,
    ]
    print("\n".join(lines))
    write_generated(OUTPUT, "bench_generative", "\n".join(lines))


if __name__ == "__main__":
    main()
