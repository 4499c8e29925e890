"""``medaug preview``: a PNG montage of a pipeline's stages."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

__all__ = ["register", "run"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``preview`` subcommand."""
    parser = subparsers.add_parser(
        "preview",
        help="render a montage of ground truth, simulated acquisition and augmentations",
        description=(
            "Render a PNG montage for CONFIG: one row per sample, with the source's ground truth "
            "(image, label map), the simulated acquisition (k-space as log magnitude, sinogram) "
            "and the augmented image of several training epochs. Volumes show their middle slice."
        ),
    )
    parser.add_argument("config", type=Path, help="pipeline config (YAML)")
    parser.add_argument("--out", type=Path, default=Path("preview.png"), help="output PNG (default preview.png)")
    parser.add_argument("-n", "--count", type=int, default=3, help="samples to show, one row each (default 3)")
    parser.add_argument("--start", type=int, default=0, help="index of the first sample shown (default 0)")
    parser.add_argument("--augmentations", type=int, default=3,
                        help="training epochs of augmentation to show per sample (default 3)")
    parser.add_argument("--dpi", type=int, default=100, help="PNG resolution in dots per inch (default 100)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Render the preview; return 0."""
    from medaug.data.config import load_config
    from medaug.data.pipeline import Pipeline
    from medaug.data.preview import render_preview

    if args.count < 1:
        raise ValueError(f"`--count` must be >= 1, got {args.count}")
    if args.start < 0:
        raise ValueError(f"`--start` must be >= 0, got {args.start}")
    pipeline = Pipeline.from_config(load_config(args.config))
    indices = tuple(range(args.start, args.start + args.count))
    path = render_preview(pipeline, args.out, indices=indices, augmentations=args.augmentations, dpi=args.dpi)
    logger.info("wrote preview %s", path)
    return 0
