"""Built-in sources: random labelled shapes, and real images with labels from disk."""

from __future__ import annotations

import fnmatch
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pydantic

from medaug.core.fields import Image, LabelMap
from medaug.core.geometry import Geometry
from medaug.core.sample import Sample
from medaug.data.registry import BuildContext, FieldSpec, SpecError, StepConfig, register_step

__all__ = ["GridShape", "ShapesSource", "ImagesSource", "ImageItem", "random_shapes", "read_cached"]


def _check_grid_shape(value: tuple[int, ...]) -> tuple[int, ...]:
    if any(n < 4 for n in value):
        raise ValueError(f"every axis of `shape` must be >= 4 voxels, got {list(value)}")
    return value


#: A 2D or 3D grid shape in voxels, array order, every axis at least 4 voxels.
GridShape = Annotated[tuple[int, int] | tuple[int, int, int], pydantic.AfterValidator(_check_grid_shape)]


def random_shapes(
    shape: tuple[int, ...], num_shapes: int, num_classes: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a label map of random axis-aligned ellipses and an image with one intensity per class.

    Parameters
    ----------
    shape : tuple of int
        Grid shape ``(H, W)`` or ``(D, H, W)`` in voxels.
    num_shapes : int
        Number of ellipses; later ones are drawn over earlier ones.
    num_classes : int
        Labels are drawn from 1 to ``num_classes``; 0 is background.
    rng : numpy.random.Generator
        Source of every random choice.

    Returns
    -------
    image : ndarray, float32, ``shape``
        Class intensities in [0, 1] plus Gaussian noise of standard deviation 0.02.
    label : ndarray, uint8, ``shape``

    Examples
    --------
    >>> image, label = random_shapes((16, 16), 3, 2, np.random.default_rng(0))
    >>> image.shape, label.dtype, int(label.max()) <= 2
    ((16, 16), dtype('uint8'), True)
    """
    grids = np.meshgrid(*[np.linspace(-1.0, 1.0, n) for n in shape], indexing="ij")
    label = np.zeros(shape, dtype=np.uint8)
    for _ in range(num_shapes):
        centre = rng.uniform(-0.5, 0.5, size=len(shape))
        radii = rng.uniform(0.15, 0.45, size=len(shape))
        inside = sum(((g - c) / r) ** 2 for g, c, r in zip(grids, centre, radii)) <= 1.0
        label[inside] = rng.integers(1, num_classes + 1)
    intensities = np.concatenate([[0.0], rng.uniform(0.2, 1.0, size=num_classes)])
    image = intensities[label] + rng.normal(0.0, 0.02, size=shape)
    return image.astype(np.float32), label


@register_step("source", "shapes")
class ShapesSource(StepConfig):
    """Random ellipses with class labels: a tiny self-contained source for tests and demos.

    Options: ``shape`` (voxels, array order, 2 or 3 axes), ``spacing_mm``
    (one value per axis, default 1 mm), ``num_shapes``, ``num_classes``.
    """

    type: Literal["shapes"] = "shapes"
    shape: GridShape = (64, 64)
    spacing_mm: tuple[float, ...] | None = None
    num_shapes: int = pydantic.Field(4, ge=1, le=64)
    num_classes: int = pydantic.Field(2, ge=1, le=255)

    @pydantic.model_validator(mode="after")
    def _check_spacing(self) -> ShapesSource:
        if self.spacing_mm is not None:
            if len(self.spacing_mm) != len(self.shape):
                raise ValueError(
                    f"`spacing_mm` needs one value per axis of `shape` ({len(self.shape)}), "
                    f"got {list(self.spacing_mm)}"
                )
            if any(not (s > 0 and np.isfinite(s)) for s in self.spacing_mm):
                raise ValueError(f"`spacing_mm` values must be > 0, got {list(self.spacing_mm)}")
        return self

    def output_spec(self, spec: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        return {
            "image": FieldSpec("Image", 1, tuple(self.shape)),
            "label": FieldSpec("LabelMap", 1, tuple(self.shape)),
        }

    def build(self, context: BuildContext) -> Callable[..., Sample]:
        return functools.partial(_shapes_sample, self)


def _shapes_sample(options: ShapesSource, rng: np.random.Generator, index: int, factors: Any = None) -> Sample:
    image, label = random_shapes(tuple(options.shape), options.num_shapes, options.num_classes, rng)
    spacing = options.spacing_mm or (1.0,) * len(options.shape)
    geometry = Geometry(spacing=spacing)
    return Sample(
        {"image": Image(image[None], geometry=geometry), "label": LabelMap(label[None], geometry=geometry)},
        metadata={"source": {"type": "shapes", "index": index}},
    )


class ImageItem(pydantic.BaseModel):
    """One real case: an image file and an optional label-map file."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    image: Path
    label: Path | None = None

    @pydantic.field_validator("image", "label")
    @classmethod
    def _check_exists(cls, value: Path | None, info: pydantic.ValidationInfo) -> Path | None:
        return _check_path(value, info, folder=False)


@register_step("source", "images")
class ImagesSource(StepConfig):
    """Real images (and label maps) read from files, cached decoded per process.

    Give ``items`` (a list of ``{image, label}`` paths) or ``folder`` with a
    glob ``pattern`` and an optional ``labels_folder`` holding label files of
    the same names (an nnU-Net channel suffix ``_0000`` is dropped to find
    the label). Sample *i* reads item ``i % len(items)`` when ``order`` is
    ``cycle`` or an item drawn from its generator when ``random``. Relative
    paths resolve against the config file's folder.
    """

    type: Literal["images"] = "images"
    items: tuple[ImageItem, ...] = ()
    folder: Path | None = None
    pattern: str = "*.nii.gz"
    labels_folder: Path | None = None
    order: Literal["cycle", "random"] = "cycle"
    spatial_shape: tuple[int, ...] | None = None

    @pydantic.field_validator("folder", "labels_folder")
    @classmethod
    def _check_folder(cls, value: Path | None, info: pydantic.ValidationInfo) -> Path | None:
        return _check_path(value, info, folder=True)

    @pydantic.model_validator(mode="after")
    def _check_items(self, info: pydantic.ValidationInfo) -> ImagesSource:
        if bool(self.items) == (self.folder is not None):
            raise ValueError("give either `items` (a list of {image, label}) or `folder`, not both or neither")
        if self.folder is not None and not self.resolved_items(_context(info)):
            raise ValueError(f"`folder` {str(self.folder)!r} contains no file matching `pattern` {self.pattern!r}")
        return self

    def resolved_items(self, context: BuildContext) -> list[ImageItem]:
        """Return the cases with absolute paths, in a fixed (sorted) order."""
        if self.items:
            return [
                ImageItem(image=context.resolve(i.image), label=context.resolve(i.label) if i.label else None)
                for i in self.items
            ]
        folder = context.resolve(self.folder)  # type: ignore[arg-type]
        names = sorted(n for n in os.listdir(folder) if fnmatch.fnmatch(n, self.pattern))
        items = []
        for name in names:
            label = None
            if self.labels_folder is not None:
                label = context.resolve(self.labels_folder) / name.replace("_0000.", ".")
                if not label.exists():
                    label = context.resolve(self.labels_folder) / name
            items.append(ImageItem(image=folder / name, label=label))
        return items

    def output_spec(self, spec: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        shape = tuple(self.spatial_shape) if self.spatial_shape else None
        out = {"image": FieldSpec("Image", None, shape)}
        if any(i.label is not None for i in self.items) or self.labels_folder is not None:
            out["label"] = FieldSpec("LabelMap", 1, shape)
        return out

    def build(self, context: BuildContext) -> Callable[..., Sample]:
        return functools.partial(_image_sample, tuple(self.resolved_items(context)), self.order, bool(self.items))


def _context(info: pydantic.ValidationInfo) -> BuildContext:
    return (info.context or {}).get("build_context", BuildContext())


def _check_path(value: Path | None, info: pydantic.ValidationInfo, *, folder: bool) -> Path | None:
    if value is None:
        return None
    path = _context(info).resolve(value)
    if folder and not path.is_dir():
        raise ValueError(f"folder not found: {str(path)!r}")
    if not folder and not path.exists():
        raise ValueError(f"file not found: {str(path)!r}")
    return value


@functools.lru_cache(maxsize=8)
def read_cached(path: str, label: bool) -> Any:
    """Read an image file once per process (decoded fields are immutable, so sharing is safe)."""
    from medaug.io import read_image

    return read_image(path, label=label)


def _image_sample(items: tuple[ImageItem, ...], order: str, listed: bool, rng: np.random.Generator, index: int,
                  factors: Any = None) -> Sample:
    position = index % len(items) if order == "cycle" else int(rng.integers(len(items)))
    item = items[position]
    fields = {}
    for name, path in (("image", item.image), ("label", item.label)):
        if path is None:
            continue
        try:
            fields[name] = read_cached(str(path), name == "label")
        except ValueError as error:
            # Name the config key of the file: its entry in `items`, or the folder it was found in.
            key = ("items", position, name) if listed else ("labels_folder" if name == "label" else "folder",)
            raise SpecError(str(error), key=key) from error
    source = {"type": "images", "image": item.image.name, "case": position}
    if item.label is not None:
        source["label"] = item.label.name
    return Sample(fields, metadata={"source": source})
