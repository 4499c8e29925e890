"""Zarr stores for large arrays: one store per sample, one array per field.

``samples/<prefix><index:06d>.zarr`` contains every kept field as an array of
the same name (complex k-space included), chunked by ``chunk_shape`` over
the trailing axes, with attributes ``kind`` (field class), and for grid
fields ``spacing_mm``, ``origin_mm`` and ``direction``. The store's own
attributes hold the sample index and the config hash.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pydantic

from medaug.core.fields import GridField, KSpace, Sinogram
from medaug.core.sample import Sample
from medaug.data.registry import BuildContext, StepConfig, register_step
from medaug.data.writers.base import geometry_attributes

__all__ = ["ZarrWriterConfig", "ZarrWriter"]


@register_step("writer", "zarr")
class ZarrWriterConfig(StepConfig):
    """Options of the Zarr writer: ``chunk_shape`` (voxels, trailing axes) and file ``prefix``."""

    type: Literal["zarr"] = "zarr"
    chunk_shape: tuple[int, ...] = pydantic.Field((64, 64, 64), min_length=1, max_length=3)
    prefix: str = pydantic.Field("sample_", pattern=r"^[A-Za-z0-9._-]*$")

    @pydantic.field_validator("chunk_shape")
    @classmethod
    def _check_chunks(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(n < 1 for n in value):
            raise ValueError(f"`chunk_shape` entries must be >= 1, got {list(value)}")
        return value

    def build(self, context: BuildContext) -> ZarrWriter:
        return ZarrWriter(self, context)


class ZarrWriter:
    """Runtime Zarr writer (see the module docstring for the layout)."""

    layout = "zarr"

    def __init__(self, options: ZarrWriterConfig, context: BuildContext) -> None:
        self.options = options
        self.config_hash = context.config_hash

    def prepare(self, out: Path) -> None:
        (out / "samples").mkdir(parents=True, exist_ok=True)

    def relative_paths(self, index: int) -> list[str]:
        return [f"samples/{self.options.prefix}{index:06d}.zarr"]

    def write(self, sample: Sample, index: int, staging: Path) -> None:
        import zarr

        path = staging / self.relative_paths(index)[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        group = zarr.open_group(str(path), mode="w")
        group.attrs.update({"medaug_index": int(index), "medaug_config_hash": self.config_hash})
        for name, field in sample.items():
            array = field.numpy()
            chunks = self._chunks(array.shape)
            stored = group.create_array(name, shape=array.shape, dtype=array.dtype, chunks=chunks)
            stored[...] = array
            attributes: dict[str, object] = {"kind": type(field).__name__}
            if isinstance(field, GridField):
                attributes.update(geometry_attributes(field))
            if isinstance(field, KSpace) and field.mask is not None:
                mask = field.mask.detach().cpu().numpy()
                group.create_array(f"{name}_mask", shape=mask.shape, dtype=bool, chunks=mask.shape or (1,))[...] = mask
            if isinstance(field, Sinogram):
                attributes["angles_deg"] = [float(v) for v in field.angles_deg.tolist()]
                attributes["detector_spacing_mm"] = float(field.detector_spacing_mm)
            stored.attrs.update(attributes)

    def _chunks(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        trailing = self.options.chunk_shape[-min(len(shape), len(self.options.chunk_shape)):]
        leading = shape[: len(shape) - len(trailing)]
        return tuple(1 for _ in leading) + tuple(min(c, n) for c, n in zip(trailing, shape[len(leading):]))

    def finalize(self, staging: Path, count: int) -> list[str]:
        return []
