"""Writing an evaluation report: JSON and a PNG of flagged synthetic images."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from medaug.generative.imagesets import ImageSet

__all__ = ["write_report", "plot_flagged_pairs", "report_to_json"]


def report_to_json(report: dict[str, Any]) -> str:
    """Return the report as indented JSON, without keys that start with an underscore."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if not str(k).startswith("_")}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        if isinstance(value, np.generic):
            return value.item()
        return value

    return json.dumps(clean(report), indent=2, allow_nan=False)


def _middle_slice(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else image[image.shape[0] // 2]


def plot_flagged_pairs(
    report: dict[str, Any], synthetic: ImageSet, train: ImageSet, path: str | Path, *, max_pairs: int = 16
) -> Path:
    """Save a PNG with each flagged synthetic image beside its nearest training image.

    3D images show their middle slice along the first axis. Without flagged
    images the figure shows a note instead, so a report always has its PNG.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = report["privacy"]["_flagged_pairs"][:max_pairs]
    similarities = {item["synthetic"]: item["similarity"] for item in report["privacy"]["copy_detection"]["flagged"]}
    rows = max(1, len(pairs))
    figure, axes = plt.subplots(rows, 2, figsize=(5, 2.5 * rows), squeeze=False)
    if not pairs:
        for axis in axes[0]:
            axis.axis("off")
        axes[0, 0].text(0.5, 0.5, "no synthetic image flagged as a copy", ha="center", va="center",
                        transform=figure.transFigure)
    for row, (synthetic_index, train_index) in enumerate(pairs):
        name = synthetic.names[synthetic_index]
        for column, (image, title) in enumerate((
            (synthetic.images[synthetic_index], f"{name}\nNCC {similarities.get(name, float('nan')):.3f}"),
            (train.images[train_index], f"{train.names[train_index]}\npatient {train.patients[train_index]}"),
        )):
            axes[row, column].imshow(_middle_slice(image), cmap="gray")
            axes[row, column].set_title(title, fontsize=7)
            axes[row, column].axis("off")
    figure.suptitle("flagged synthetic image (left) and nearest training image (right)", fontsize=8)
    figure.tight_layout()
    path = Path(path)
    temporary = path.with_name(path.stem + ".tmp.png")
    figure.savefig(temporary, dpi=100)
    plt.close(figure)
    os.replace(temporary, path)
    return path


def write_report(
    report: dict[str, Any], synthetic: ImageSet, train: ImageSet, folder: str | Path, *, stem: str = "evaluation"
) -> tuple[Path, Path]:
    """Write ``{stem}.json`` and ``{stem}_flagged.png`` into ``folder`` and return both paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / f"{stem}.json"
    temporary = folder / f"{stem}.json.tmp"
    temporary.write_text(report_to_json(report) + "\n")
    os.replace(temporary, json_path)
    return json_path, plot_flagged_pairs(report, synthetic, train, folder / f"{stem}_flagged.png")
