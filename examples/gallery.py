"""Render the README pictures: phantoms, simulated acquisitions and augmentations.

Writes one PNG montage per example config into ``--out`` (default
docs/images) with :func:`medaug.data.preview.render_preview`.
Run: ``python examples/gallery.py --out docs/images``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent

PICTURES = {
    "mri_reconstruction.png": "mri_reconstruction.yaml",
    "lowdose_ct.png": "lowdose_ct.yaml",
    "brain_segmentation.png": "brain_segmentation.yaml",
    "bone_segmentation_ct.png": "bone_segmentation_ct.yaml",
}


def main(argv: list[str] | None = None) -> int:
    import torch

    from medaug.data.config import load_config
    from medaug.data.pipeline import Pipeline
    from medaug.data.preview import render_preview

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"), help="output folder for the PNG files")
    parser.add_argument("--rows", type=int, default=2, help="samples per picture, one row each")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(1)
    for picture, config in PICTURES.items():
        pipeline = Pipeline.from_config(load_config(EXAMPLES / "configs" / config))
        path = render_preview(pipeline, args.out / picture, indices=tuple(range(args.rows)), augmentations=2)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
