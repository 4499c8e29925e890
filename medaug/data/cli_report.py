"""``medaug report``: coverage of a written set, and the strata a real collection lacks."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

__all__ = ["register", "run"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="tabulate the factors and strata of a set, or of a real DICOM/NIfTI collection",
        description=(
            "Tabulate every sampled factor of the set in SET_DIR, count its strata, flag the "
            "empty ones and summarise SNR, spacing and intensity range per stratum. With "
            "--real DIR, read the acquisition factors of real DICOM or NIfTI files and list "
            "the strata (of SET_DIR's sampling config, or field strength x contrast for MR and "
            "kVp x slice thickness for CT) that the real data lacks. Writes Markdown, JSON and "
            "PNG files into --out."
        ),
    )
    parser.add_argument("set_dir", type=Path, nargs="?", default=None, metavar="SET_DIR",
                        help="folder of a set written by `medaug generate`")
    parser.add_argument("--real", type=Path, default=None, metavar="DIR",
                        help="folder (or file) of real DICOM or NIfTI scans to compare")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the report files (default: SET_DIR/report, or ./report)")
    parser.add_argument("--max-images", type=int, default=200,
                        help="image files read for statistics (default 200; 0 reads none)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``medaug report``; return 0 on success."""
    from medaug.data.manifest import read_manifest
    from medaug.data.report import (
        compare_real_collection,
        coverage_report,
        scan_real_collection,
        set_modality,
        write_report,
    )
    from medaug.data.sampling import SamplingConfig

    if args.set_dir is None and args.real is None:
        raise ValueError("give SET_DIR, --real DIR, or both")
    if args.max_images < 0:
        raise ValueError(f"`--max-images` must be >= 0, got {args.max_images}")
    out = args.out or ((args.set_dir / "report") if args.set_dir is not None else Path("report"))

    set_policy, modality = None, None
    if args.set_dir is not None:
        report = coverage_report(args.set_dir, max_images=args.max_images)
        _write(write_report(report, out, stem="set"), report.to_markdown())
        config = read_manifest(args.set_dir).get("config") or {}
        if config.get("sampling"):
            set_policy = SamplingConfig.model_validate(config["sampling"])
        modality = set_modality(config)

    if args.real is not None:
        collection = scan_real_collection(args.real)
        reports = compare_real_collection(collection, set_policy=set_policy, modality=modality)
        for name, report in reports.items():
            stem = "real" if name == "real" else f"real_{name.lower()}"
            text = report.to_markdown()
            if name != "real":
                text += (f"\nStrata the real data lacks ({len(report.empty_strata)}): "
                         + (", ".join(report.empty_strata) or "none") + "\n")
            _write(write_report(report, out, stem=stem), text)
    return 0


def _write(paths: list[Path], text: str) -> None:
    print(text)
    logger.info("wrote %s", ", ".join(str(p) for p in paths))
