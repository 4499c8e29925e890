"""The README's first example runs as written and prints what it claims."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart.py"


def test_quickstart_runs_and_keeps_labels():
    result = subprocess.run([sys.executable, str(QUICKSTART)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "achieved acceleration: 4.00" in result.stdout
    assert "applied: ['Affine', 'ElasticDeformation', 'Gamma']" in result.stdout
