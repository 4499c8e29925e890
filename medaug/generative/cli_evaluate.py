"""``medaug evaluate``: utility and privacy report of a synthetic image set."""

from __future__ import annotations

import argparse
import logging

__all__ = ["register"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` subcommand."""
    parser = subparsers.add_parser(
        "evaluate",
        help="report how useful and how private a synthetic image set is",
        description=(
            "Compare synthetic images with held-out real images (utility: Fréchet and kernel "
            "distances on seeded random-convolution and handcrafted features, precision/recall/"
            "density/coverage, MS-SSIM diversity, histogram and power-spectrum distances, each "
            "beside a real-versus-real baseline) and with the training images (privacy: distance "
            "to closest record, augmentation-robust copy detection, membership inference). "
            "Folders hold NIfTI, PNG or NPY images of one shape. Writes JSON and a PNG of "
            "flagged copies. Exit status 1 when the generator is reported as memorising."
        ),
    )
    parser.add_argument("--real", required=True, metavar="DIR", help="held-out real images (never trained on)")
    parser.add_argument("--synthetic", required=True, metavar="DIR", help="synthetic images")
    parser.add_argument("--train", required=True, metavar="DIR", help="the generator's training images")
    parser.add_argument("--out", default="evaluation", metavar="DIR", help="report folder (default: evaluation)")
    parser.add_argument(
        "--patient-pattern", metavar="REGEX",
        help="regular expression with a group named 'patient' matched against the file names of "
             r"real and training images, for example '^(?P<patient>sub-\d+)_'",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for subsampling and the noise baseline (default 0)")
    parser.add_argument(
        "--memorisation-fraction", type=float, default=0.05, metavar="F",
        help="report the generator as memorising above this fraction of flagged images (default 0.05)",
    )
    parser.add_argument(
        "--membership-alpha", type=float, default=0.001, metavar="A",
        help="also report the generator as memorising when the exact membership-leakage "
             "p-value is below A (default 0.001)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read the three folders, evaluate, write the report; exit code 0, or 1 when memorising."""
    import numpy as np

    from medaug.generative.evaluation import evaluate_synthetic
    from medaug.generative.imagesets import read_image_folder
    from medaug.generative.report import write_report

    # Synthetic images have no patients, so the pattern applies to real and training images.
    sets = {
        "real": read_image_folder(args.real, patient_pattern=args.patient_pattern),
        "synthetic": read_image_folder(args.synthetic),
        "train": read_image_folder(args.train, patient_pattern=args.patient_pattern),
    }
    report = evaluate_synthetic(
        sets["real"], sets["synthetic"], sets["train"], np.random.default_rng(args.seed),
        memorisation_fraction=args.memorisation_fraction,
        membership_alpha=args.membership_alpha,
    )
    low, high = report["intensity_scale"]["low"], report["intensity_scale"]["high"]
    scaled = {name: type(s)((s.images - low) / (high - low), s.names, s.patients) for name, s in sets.items()}
    json_path, png_path = write_report(report, scaled["synthetic"], scaled["train"], args.out)
    privacy = report["privacy"]
    logger.info(
        "wrote %s and %s: %.1f %% of synthetic images flagged as copies, TPR at 1 %% FPR %.3f, "
        "membership-leakage p-value %.3g%s",
        json_path, png_path, 100 * privacy["copy_detection"]["flagged_fraction"],
        privacy["membership_inference"]["tpr_at_1pct_fpr"],
        privacy["membership_inference"]["leakage_test"]["p_value"],
        "; the generator is memorising (" + ", ".join(privacy["memorising_criteria"]) + ")"
        if privacy["memorising"] else "",
    )
    return 1 if privacy["memorising"] else 0
