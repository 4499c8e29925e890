"""Check that nnU-Net v2 accepts a segmentation set written by medaug.

Writes 4 cases of examples/configs/brain_segmentation.yaml into a temporary
``nnUNet_raw/Dataset501_SynthBrain`` folder and runs nnU-Net v2's
``verify_dataset_integrity`` on it. nnunetv2 requires a newer torch than
medaug's test environment, so run this from the benchmark environment:

    OMP_NUM_THREADS=1 .venv-bench/bin/python -m benchmarks.nnunet_integrity
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    from nnunetv2.experiment_planning.verify_dataset_integrity import verify_dataset_integrity

    from medaug.data.config import load_config
    from medaug.data.runner import generate_set

    config = load_config(ROOT / "examples" / "configs" / "brain_segmentation.yaml")
    with tempfile.TemporaryDirectory() as folder:
        dataset = Path(folder) / "nnUNet_raw" / "Dataset501_SynthBrain"
        generate_set(config, dataset, count=4, progress=False)
        verify_dataset_integrity(str(dataset), num_processes=1)
    print("nnU-Net v2 verify_dataset_integrity accepted the set (4 cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
