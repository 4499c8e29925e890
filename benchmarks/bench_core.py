"""Import cost of ``import medaug``: time and which heavy modules it loads.

Run from the repository root:

    .venv/bin/python -m benchmarks.bench_core

``python -X importtime -c "import medaug"`` reports cumulative microseconds
per module; the median over several fresh interpreters is recorded in
docs/benchmarks/core.md, with the heavy modules that a light import must not
load (torch, SimpleITK, matplotlib, h5py, dask, zarr, monai).
"""

from __future__ import annotations

import platform
import re
import statistics
import subprocess
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "core.md"
HEAVY = ("torch", "SimpleITK", "matplotlib", "h5py", "dask", "zarr", "monai")
REPEATS = 7


def measure_import_us() -> int:
    """Return the cumulative import time of medaug in microseconds, from -X importtime."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import medaug"],
        capture_output=True, text=True, check=True,
    )
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+\d+\s+\|\s+(\d+)\s+\|\s+medaug$", line)
        if match:
            return int(match.group(1))
    raise RuntimeError("medaug not found in -X importtime output")


def heavy_modules_loaded() -> list[str]:
    """Return the heavy modules present in sys.modules after ``import medaug``."""
    code = f"import sys, medaug; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [name for name in output.stdout.strip().split(",") if name]


def main() -> None:
    """Measure and write docs/benchmarks/core.md."""
    times_ms = [measure_import_us() / 1000.0 for _ in range(REPEATS)]
    loaded = heavy_modules_loaded()
    lines = [
        "## Import cost",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, 2-core VM.",
        "",
        "Command: `.venv/bin/python -m benchmarks.bench_core` (uses `python -X importtime`).",
        "",
        "| measure | value |",
        "| --- | ---: |",
        f"| `import medaug`, cumulative, median of {REPEATS} fresh interpreters | {statistics.median(times_ms):.1f} ms |",
        f"| slowest of the {REPEATS} | {max(times_ms):.1f} ms |",
        f"| heavy modules loaded ({', '.join(HEAVY)}) | {', '.join(loaded) or 'none'} |",
        "",
        "Subpackages and torch load on first use of a name (`medaug.Compose`,",
        "`medaug.physics.mri`, ...); importing torch alone takes about 1.5 s here.",
    ]
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
