"""Package-level contracts: light import, lazy public names, CLI entry point."""

from __future__ import annotations

import subprocess
import sys

HEAVY_MODULES = ("torch", "matplotlib", "h5py", "dask", "zarr", "SimpleITK", "monai")


def test_import_is_light():
    code = (
        "import sys, medaug; "
        f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""


def test_public_names_resolve_lazily():
    import medaug

    assert medaug.Sample.__name__ == "Sample"
    assert medaug.read_image.__module__ == "medaug.io.images"


def test_cli_help_lists_info():
    result = subprocess.run([sys.executable, "-m", "medaug.cli", "--help"], capture_output=True, text=True, check=True)
    assert "info" in result.stdout


def test_every_exported_name_resolves():
    import medaug

    missing = [name for name in medaug.__all__ if getattr(medaug, name, None) is None]
    assert missing == []
