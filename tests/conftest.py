"""Shared fixtures: seeded generators, the real scans beside the project, devices."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# One thread per test process: the suite is sized for 2 cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")

#: Real scans shared beside the project (absent on a user's machine).
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _single_thread_torch():
    import torch

    torch.set_num_threads(1)
    yield


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh seeded numpy Generator for each test."""
    return np.random.default_rng(20261204)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ../shared/data; skips the test when the folder is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test scans not found at {SHARED_DATA} (only present beside the project)")
    return SHARED_DATA


def shared_file(relative: str) -> Path:
    """Return a file under ../shared/data or skip the calling test with the reason."""
    path = SHARED_DATA / relative
    if not path.is_file():
        pytest.skip(f"real test scan {path} not found (only present beside the project)")
    return path


@pytest.fixture(params=["cpu"] + (["cuda"] if os.environ.get("MEDAUG_TEST_CUDA") else []))
def device(request) -> str:
    """Devices to test on: the CPU, plus CUDA when MEDAUG_TEST_CUDA is set."""
    return request.param
