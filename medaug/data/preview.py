"""Preview montages of a pipeline: ground truth, simulated acquisition, augmentations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from medaug.core.fields import Field, GridField, Image, KSpace, LabelMap, Sinogram
from medaug.core.sample import Sample
from medaug.data.pipeline import Pipeline

__all__ = ["field_to_display", "render_preview"]


def field_to_display(field: Field) -> tuple[np.ndarray, str]:
    """Return a 2-D array to show for a field, and the colour map to show it with.

    Volumes show their middle slice along the first spatial axis. K-space
    shows ``log(1 + |k|)`` combined over coils by root sum of squares;
    sinograms show their first channel; label maps use a qualitative map.
    """
    data = field.numpy()
    if isinstance(field, GridField) and field.is_batched:
        data = data[0]
    if isinstance(field, KSpace):
        magnitude = np.sqrt((np.abs(data) ** 2).sum(axis=0))
        data = np.log1p(magnitude / max(float(magnitude.max()), 1e-12) * 1e3)
    else:
        data = data[0]
        if np.iscomplexobj(data):
            data = np.abs(data)
    while data.ndim > 2:
        data = data[data.shape[0] // 2]
    if isinstance(field, LabelMap):
        cmap = "tab10"
    elif isinstance(field, (KSpace, Sinogram)):
        cmap = "magma"
    else:
        cmap = "gray"
    return data.astype(np.float64), cmap


def _panels(stages: dict[str, Sample], augmented: list[Sample]) -> list[tuple[str, Field]]:
    panels: list[tuple[str, Field]] = []
    source = stages["source"]
    panels += [(f"ground truth: {n}", f) for n, f in source.items() if isinstance(f, (Image, LabelMap))][:2]
    simulated = stages["simulation"]
    new = [(f"simulated: {n}", f) for n, f in simulated.items() if n not in source or f is not source[n]]
    panels += [(t, f) for t, f in new if isinstance(f, (KSpace, Sinogram, Image))][:2]
    for epoch, sample in enumerate(augmented):
        images = sample.fields_of_type(Image)
        if images:
            name = next(iter(images))
            panels.append((f"augmented (epoch {epoch}): {name}", images[name]))
    return panels


def render_preview(
    pipeline: Pipeline,
    path: str | os.PathLike[str],
    *,
    indices: tuple[int, ...] = (0, 1, 2),
    augmentations: int = 3,
    dpi: int = 100,
) -> Path:
    """Write a PNG montage: one row per sample, one column per stage.

    Parameters
    ----------
    pipeline : Pipeline
    path : path-like
        Output PNG file.
    indices : tuple of int
        Samples to show, one row each.
    augmentations : int
        Training epochs to show for each sample (0 shows none).
    dpi : int
        Resolution of the PNG (dots per inch; each panel is 2.2 inches).

    Returns
    -------
    Path
        The written file.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not indices:
        raise ValueError("`indices` must name at least one sample")
    if augmentations < 0:
        raise ValueError(f"`augmentations` must be >= 0, got {augmentations}")
    rows: list[list[tuple[str, Field]]] = []
    for index in indices:
        stages = pipeline.trace(index)
        augmented = [pipeline.trace(index, epoch=e)["augmentation"] for e in range(augmentations)] if pipeline.augmentation else []
        rows.append(_panels(stages, augmented))
    columns = max(len(r) for r in rows)
    figure, axes = plt.subplots(len(rows), columns, figsize=(2.2 * columns, 2.4 * len(rows)), squeeze=False)
    for row, panels in zip(axes, rows):
        for axis in row:
            axis.axis("off")
        for axis, (title, field) in zip(row, panels):
            image, cmap = field_to_display(field)
            options: dict[str, Any] = {"cmap": cmap, "interpolation": "nearest"}
            if cmap == "tab10":
                options.update(vmin=0, vmax=9)
            axis.imshow(image, **options)
            axis.set_title(title, fontsize=7)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi)
    plt.close(figure)
    return path
