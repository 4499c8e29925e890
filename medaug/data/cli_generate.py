"""``medaug generate``: write a benchmark set from a pipeline config."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

__all__ = ["register", "run"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``generate`` subcommand."""
    parser = subparsers.add_parser(
        "generate",
        help="write a benchmark set (fastMRI HDF5, nnU-Net raw, Zarr) from a YAML config",
        description=(
            "Write the benchmark set described by CONFIG into --out. Each sample is written "
            "atomically and committed in the set's manifest with its seed, parameters and "
            "SHA-256; rerunning the same command after an interruption resumes where it stopped. "
            "The files do not depend on --workers or --scheduler."
        ),
    )
    parser.add_argument("config", type=Path, help="pipeline config (YAML)")
    parser.add_argument("--out", type=Path, required=True, help="set folder (created if missing)")
    parser.add_argument("-n", "--count", type=int, default=None,
                        help="number of samples (default: the config's `size`)")
    parser.add_argument("--seed", type=int, default=None, help="override the config's `seed` (integer >= 0)")
    parser.add_argument("--workers", type=int, default=1,
                        help="local worker processes (default 1: generate in this process)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler address, e.g. tcp://10.0.0.1:8786; its workers must see --out")
    parser.add_argument("--verify", action="store_true",
                        help="only recheck the SHA-256 of every file of the set in --out, then exit")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``medaug generate``; return 0 on success, 1 on a failed sample or check, 130 on Ctrl-C."""
    from medaug.data.config import load_config
    from medaug.data.errors import GenerationError
    from medaug.data.manifest import verify_set
    from medaug.data.runner import generate_set

    if args.count is not None and args.count < 1:
        raise ValueError(f"`-n/--count` must be >= 1, got {args.count}")
    if args.workers < 1:
        raise ValueError(f"`--workers` must be >= 1, got {args.workers}")
    config = load_config(args.config)
    if args.seed is not None:
        if args.seed < 0:
            raise ValueError(f"`--seed` must be >= 0, got {args.seed}")
        config = config.with_overrides(seed=args.seed)
    if args.verify:
        report = verify_set(args.out)
        for problem in report.problems:
            logger.error("%s", problem)
        logger.info("checked %d files in %s: %s", report.checked, args.out, "ok" if report.ok else "FAILED")
        return 0 if report.ok else 1
    try:
        manifest = generate_set(config, args.out, count=args.count, workers=args.workers,
                                scheduler=args.scheduler, progress=not args.no_progress)
    except GenerationError as error:
        logger.error("%s; %s", error, _next_step(error, args.out))
        return 1
    except KeyboardInterrupt:
        logger.error("interrupted; finished samples are kept, rerun the same command to resume")
        return 130
    logger.info("set written to %s (manifest %s)", args.out, manifest)
    return 0


def _next_step(error: Exception, out: Path) -> str:
    """Tell the user what to do after a failed run, from what the error says about its cause."""
    finished = getattr(error, "finished", None)
    if getattr(error, "retry", True):
        return "finished samples are kept, rerun the same command to resume"
    if not finished:
        return f"nothing was written to {str(out)!r}; fix the config and rerun"
    return (f"the {finished} finished samples in {str(out)!r} are kept, but this sample fails the same way "
            "on every run: fix its input files and rerun the same command, or fix the config and write to "
            "a new --out (a set holds samples of one config only)")
