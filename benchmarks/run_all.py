"""Run every side-by-side benchmark and gather the tables into docs/benchmarks.md.

Run from the repository root with the benchmark environment (``make bench``):

    OMP_NUM_THREADS=1 .venv-bench/bin/python -m benchmarks.run_all [--only ct mri]

Each ``benchmarks/bench_<area>.py`` module has a ``main()`` that times medaug
beside its peers in one process and writes ``docs/benchmarks/<area>.md``;
this script runs them one after another (never in parallel, so they do not
compete for the cores) and then rebuilds ``docs/benchmarks.md`` from those
pages. A module that fails is reported and the others still run.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import platform
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "docs" / "benchmarks"
RECORD = ROOT / "docs" / "benchmarks.md"
AREAS = ("core", "phantoms", "mri", "ct", "transforms", "generative", "data")

logger = logging.getLogger("benchmarks")


def gather_record() -> str:
    """Return the text of docs/benchmarks.md built from the per-area pages."""
    lines = [
        "# Benchmarks",
        "",
        "Speed and accuracy of medaug beside its peers, one page per area, each written",
        "by `benchmarks/bench_<area>.py`. Rebuild everything with `make bench`",
        "(`.venv-bench`: torch 2.14.1 with torchvision, TorchIO, deepinv, sigpy,",
        "batchgeneratorsv2, kornia, phantominator, fastmri) or one area with",
        "`OMP_NUM_THREADS=1 .venv-bench/bin/python -m benchmarks.bench_<area>`.",
        "Unless a page says otherwise, times are medians on one thread of a 2-core",
        "x86_64 virtual machine without a GPU; ratios above 1 mean medaug is faster.",
        "",
    ]
    for area in AREAS:
        page = PAGES / f"{area}.md"
        if not page.is_file():
            lines += [f"## {area}", "", "Not measured yet.", ""]
            continue
        text = page.read_text().strip().splitlines()
        # Demote the page's headings by one level under this record's heading.
        body = ["#" + line if line.startswith("#") else line for line in text]
        lines += body + [""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks, then rebuild docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=AREAS, help="areas to run (default: all)")
    parser.add_argument("--gather", action="store_true", help="only rebuild docs/benchmarks.md")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logger.info("python %s on %s, %s", platform.python_version(), platform.machine(), platform.processor())
    failures = []
    for area in [] if args.gather else (args.only or AREAS):
        module_name = f"benchmarks.bench_{area}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            logger.warning("%s: not run (%s)", module_name, error)
            failures.append(area)
            continue
        logger.info("== %s ==", module_name)
        try:
            module.main()
        except Exception:  # noqa: BLE001 - one failing benchmark must not stop the rest
            logger.error("%s failed:\n%s", module_name, traceback.format_exc())
            failures.append(area)
    RECORD.write_text(gather_record() + "\n")
    logger.info("wrote %s", RECORD)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
