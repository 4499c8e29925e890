"""Preview montages of a pipeline: ground truth, simulated acquisition, augmentations.

For a simulated MRI acquisition the montage shows the sampling mask, the
k-space and the zero-filled reconstruction of the undersampled, noisy
k-space (root sum of squares over coils), so aliasing and noise are
visible beside the fully sampled reference.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from medaug.core.fields import Field, GridField, Image, KSpace, LabelMap, Sinogram
from medaug.core.sample import Sample
from medaug.data.pipeline import Pipeline

__all__ = ["field_to_display", "mask_image", "render_preview", "zero_filled_image"]


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


def zero_filled_image(kspace: KSpace) -> Image:
    """Return the zero-filled reconstruction of a k-space: the RSS over coils of its inverse FFT.

    Unsampled locations are already 0 in :class:`KSpace` data, so this is
    the image a scanner would show before any parallel-imaging or
    compressed-sensing reconstruction. ``(C, H, W)`` gives ``(1, H, W)``
    and ``(C, D, H, W)`` gives ``(1, D, H, W)`` (2-D FFT per slice).
    """
    from medaug.physics.mri.reconstruction import root_sum_of_squares, zero_filled

    data = kspace.data[0] if kspace.is_batched else kspace.data
    combined = root_sum_of_squares(zero_filled(data), coil_axis=0)
    return Image(combined[None].to(data.real.dtype), geometry=kspace.geometry)


def mask_image(kspace: KSpace) -> Image | None:
    """Return the sampling mask of a k-space as a ``(1, H, W)`` image of 0 and 1, or None without a mask."""
    if kspace.mask is None:
        return None
    plane = tuple(kspace.data.shape[-2:])
    mask = kspace.mask
    while mask.ndim > 2:
        mask = mask[mask.shape[0] // 2]
    return Image(mask.broadcast_to(plane).to(kspace.data.real.dtype)[None])


def _acquisition_panels(name: str, kspace: KSpace) -> list[tuple[str, Field]]:
    panels: list[tuple[str, Field]] = []
    mask = mask_image(kspace)
    if mask is not None:
        fraction = float(mask.data.mean())
        label = f"R = {1 / fraction:.1f}" if fraction > 0 else "no samples"
        panels.append((f"sampling mask ({label})", mask))
    panels.append((f"simulated: {name}", kspace))
    panels.append(("simulated: zero-filled", zero_filled_image(kspace)))
    return panels


def _panels(stages: dict[str, Sample], augmented: list[Sample]) -> list[tuple[str, Field]]:
    panels: list[tuple[str, Field]] = []
    source = stages["source"]
    panels += [(f"ground truth: {n}", f) for n, f in source.items() if isinstance(f, (Image, LabelMap))][:2]
    simulated = stages["simulation"]
    new = [(n, f) for n, f in simulated.items() if n not in source or f is not source[n]]
    for name, field in new:
        if isinstance(field, KSpace):
            panels += _acquisition_panels(name, field)
    others = [(n, f) for n, f in new if isinstance(f, (Sinogram, Image))]
    for name, field in others[: 1 if any(isinstance(f, KSpace) for _, f in new) else 2]:
        title = "reference: fully sampled RSS" if name == "reconstruction" else f"simulated: {name}"
        panels.append((title, field))
    for epoch, sample in enumerate(augmented):
        images = sample.fields_of_type(Image)
        if images:
            name = next(iter(images))
            panels.append((f"augmented (epoch {epoch}): {name}", images[name]))
    return panels


#: Soft-tissue window (HU) for images in Hounsfield units: level 40, width 400.
CT_WINDOW_HU = (-160.0, 240.0)


def _display_options(field: Field, image: np.ndarray, cmap: str) -> tuple[dict[str, Any], str]:
    """Return imshow options and a title suffix for one panel.

    Label maps use fixed colours, sinograms fill their panel, and images in
    Hounsfield units (air at about -1000) show the soft-tissue window, so
    brain and CSF stay distinguishable next to bone.
    """
    options: dict[str, Any] = {"cmap": cmap, "interpolation": "nearest"}
    note = ""
    if cmap == "tab10":
        options.update(vmin=0, vmax=9)
    elif isinstance(field, Sinogram):
        options.update(aspect="auto")
    elif isinstance(field, Image) and image.size and float(image.min()) <= -900.0:
        options.update(vmin=CT_WINDOW_HU[0], vmax=CT_WINDOW_HU[1])
        note = " [W400 L40]"
    return options, note


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
            options, note = _display_options(field, image, cmap)
            axis.imshow(image, **options)
            axis.set_title(title + note, fontsize=7)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi)
    plt.close(figure)
    return path
