"""``medaug train-generator CONFIG``: train a diffusion model or VAE from a YAML config."""

from __future__ import annotations

import argparse
import logging

__all__ = ["register"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train-generator`` subcommand."""
    parser = subparsers.add_parser(
        "train-generator",
        help="train a generative model (DDPM or VAE) from a YAML config",
        description=(
            "Train the generator a YAML config describes. The output folder receives the "
            "training data (data.npz), the checkpoint (checkpoint.pt, replaced atomically) "
            "and the loss log (loss.csv). Optionally draw samples at the end."
        ),
    )
    parser.add_argument("config", metavar="CONFIG", help="YAML training config")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in the output folder")
    parser.add_argument("--output", metavar="DIR", help="output folder (overrides `output` of the config)")
    parser.add_argument("--steps", type=int, metavar="N", help="total training steps (overrides the config)")
    parser.add_argument(
        "--samples", type=int, default=0, metavar="N",
        help="after training, write N samples as .npy files to OUTPUT/samples (default 0)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train, then optionally sample."""
    from pathlib import Path

    import numpy as np

    from medaug.generative.sampling import load_generator
    from medaug.generative.training import load_train_config, train_generator

    config = load_train_config(args.config)
    if args.output:
        config = config.model_copy(update={"output": str(Path(args.output).resolve())})
    if args.steps is not None:
        if args.steps < 1:
            raise ValueError(f"`--steps` must be >= 1, got {args.steps}")
        config = config.model_copy(update={"training": config.training.model_copy(update={"steps": args.steps})})
    if args.samples < 0:
        raise ValueError(f"`--samples` must be >= 0, got {args.samples}")
    checkpoint = train_generator(config, resume=args.resume, progress=not args.no_progress)
    logger.info("checkpoint written to %s", checkpoint)
    if args.samples:
        folder = Path(config.output) / "samples"
        folder.mkdir(exist_ok=True)
        images, labels = load_generator(checkpoint).sample_arrays(args.samples, config.training.seed)
        for index, image in enumerate(images):
            np.save(folder / f"sample_{index:05d}.npy", image)
            if labels is not None:
                np.save(folder / f"sample_{index:05d}_label.npy", labels[index])
        logger.info("%d samples written to %s", args.samples, folder)
    return 0
