"""What every set writer provides, and helpers shared by the formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from medaug.core.fields import Field, GridField
from medaug.core.sample import Sample

__all__ = ["SetWriter", "geometry_attributes", "require_field"]


class SetWriter(Protocol):
    """Writes the files of one sample into a staging folder, and the set-level files.

    The runner publishes the staged files atomically and records them in
    the manifest; a writer never writes outside the folder it is given.
    """

    #: Short name of the layout, stored in the manifest ("fastmri", "nnunet", "zarr").
    layout: str

    def prepare(self, out: Path) -> None:
        """Create the folders of the layout under ``out`` (idempotent)."""

    def relative_paths(self, index: int) -> list[str]:
        """Return the paths (relative to the set folder) that sample ``index`` produces."""

    def write(self, sample: Sample, index: int, staging: Path) -> None:
        """Write sample ``index`` under ``staging`` at its :meth:`relative_paths`."""

    def finalize(self, staging: Path, count: int) -> list[str]:
        """Write set-level files (e.g. ``dataset.json``) under ``staging``; return their relative paths."""


def require_field(sample: Sample, name: str, kind: type[Field], writer: str) -> Any:
    """Return ``sample[name]`` checked to be an unbatched ``kind``."""
    if name not in sample:
        raise ValueError(f"the {writer} writer needs field {name!r}; the sample has {sorted(sample)}")
    field = sample[name]
    if not isinstance(field, kind):
        raise TypeError(f"the {writer} writer needs {name!r} to be a {kind.__name__}, got {type(field).__name__}")
    if isinstance(field, GridField) and field.is_batched:
        raise ValueError(f"the {writer} writer needs unbatched samples, got {name!r} shaped {tuple(field.data.shape)}")
    return field


def geometry_attributes(field: GridField) -> dict[str, list[float]]:
    """Return spacing (mm), origin (mm, LPS) and direction (row-major) as lists."""
    geometry = field.geometries[0]
    return {
        "spacing_mm": [float(v) for v in geometry.spacing],
        "origin_mm": [float(v) for v in geometry.origin],
        "direction": [float(v) for v in geometry.direction_matrix.reshape(-1)],
    }
