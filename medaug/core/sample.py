"""The :class:`Sample`: named, typed fields plus the record of what was applied."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from medaug.core.fields import Field, GridField, Image, LabelMap

__all__ = ["Sample", "TransformRecord"]


@dataclasses.dataclass(frozen=True)
class TransformRecord:
    """One applied transform: its registered name and serialisable parameters.

    ``parameters`` holds plain Python values (numbers, strings, lists,
    dicts), so a record survives JSON or YAML and can be replayed.
    """

    name: str
    parameters: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"name": ..., "parameters": {...}}`` for serialisation."""
        return {"name": self.name, "parameters": dict(self.parameters)}


class Sample(Mapping[str, Field]):
    """An immutable mapping from field names to typed fields.

    Parameters
    ----------
    fields : mapping of str to Field
        At least one field. Image and label-map fields must share their
        spatial shape, and every grid field must have the same number of
        spatial axes and the same batch size.
    history : sequence of TransformRecord, optional
        Transforms applied so far, oldest first.
    metadata : mapping, optional
        Free-form information that travels with the sample (source path,
        seed, acquisition factors). Values should be serialisable.

    Raises
    ------
    TypeError
        If a value is not a :class:`~medaug.core.fields.Field`.
    ValueError
        If there are no fields or grid fields disagree in shape.

    Examples
    --------
    >>> import numpy as np
    >>> s = Sample({"image": Image(np.zeros((1, 4, 5), np.float32)),
    ...             "label": LabelMap(np.zeros((1, 4, 5), np.uint8))})
    >>> sorted(s), s.spatial_shape
    (['image', 'label'], (4, 5))
    """

    __slots__ = ("_fields", "history", "metadata")

    def __init__(
        self,
        fields: Mapping[str, Field],
        *,
        history: tuple[TransformRecord, ...] | list[TransformRecord] = (),
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(fields, Mapping):
            raise TypeError(f"`fields` must be a mapping of name to Field, got {type(fields).__name__}")
        if not fields:
            raise ValueError("`fields` must contain at least one field")
        for name, value in fields.items():
            if not isinstance(name, str):
                raise TypeError(f"field names must be str, got {name!r}")
            if not isinstance(value, Field):
                raise TypeError(
                    f"field {name!r} must be a medaug Field (Image, LabelMap, ...), "
                    f"got {type(value).__name__}; wrap arrays with Image(data) or LabelMap(data)"
                )
        _check_consistent(fields)
        self._fields = dict(fields)
        self.history = tuple(history)
        self.metadata = dict(metadata or {})

    # Mapping protocol -------------------------------------------------

    def __getitem__(self, name: str) -> Field:
        try:
            return self._fields[name]
        except KeyError:
            raise KeyError(f"sample has no field {name!r}; fields are {sorted(self._fields)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        parts = []
        for name, value in self._fields.items():
            parts.append(f"{name}={type(value).__name__}{tuple(value.data.shape)}:{value.data.dtype}")
        return f"Sample({', '.join(parts)}, history={len(self.history)})"

    # Derived views ----------------------------------------------------

    def replace(
        self,
        fields: Mapping[str, Field] | None = None,
        *,
        record: TransformRecord | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Sample:
        """Return a new sample with some fields replaced and optionally one more record."""
        merged = dict(self._fields)
        history = self.history + ((record,) if record is not None else ())
        new_metadata = dict(self.metadata)
        if metadata:
            new_metadata.update(metadata)
        if not fields:
            # The fields were checked when this sample was made; only the record or metadata changes.
            result = object.__new__(Sample)
            result._fields, result.history, result.metadata = merged, history, new_metadata
            return result
        merged.update(fields)
        return Sample(merged, history=history, metadata=new_metadata)

    def without(self, *names: str) -> Sample:
        """Return a new sample without the named fields."""
        kept = {k: v for k, v in self._fields.items() if k not in names}
        return Sample(kept, history=self.history, metadata=self.metadata)

    def fields_of_type(self, kind: type[Field]) -> dict[str, Field]:
        """Return the fields that are instances of ``kind``, by name."""
        return {k: v for k, v in self._fields.items() if isinstance(v, kind)}

    @property
    def grid_fields(self) -> dict[str, GridField]:
        """Image, label-map and k-space fields, by name."""
        return {k: v for k, v in self._fields.items() if isinstance(v, GridField)}

    @property
    def reference(self) -> GridField:
        """The first image (else label map, else grid field): the sample's reference grid."""
        for kind in (Image, LabelMap, GridField):
            for value in self._fields.values():
                if isinstance(value, kind):
                    return value
        raise ValueError("sample has no grid field (Image, LabelMap or KSpace)")

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        """Spatial shape of the reference grid."""
        return self.reference.spatial_shape

    @property
    def is_batched(self) -> bool:
        """True when the grid fields carry a batch axis."""
        return self.reference.is_batched

    def to(self, *args: Any, **kwargs: Any) -> Sample:
        """Move every field's tensor (``tensor.to`` semantics)."""
        moved = {k: v.to(*args, **kwargs) for k, v in self._fields.items()}
        return Sample(moved, history=self.history, metadata=self.metadata)

    def history_dicts(self) -> list[dict[str, Any]]:
        """Return the history as a list of plain dicts (JSON/YAML-ready)."""
        return [record.to_dict() for record in self.history]


def _check_consistent(fields: Mapping[str, Field]) -> None:
    grid = {k: v for k, v in fields.items() if isinstance(v, GridField)}
    if not grid:
        return
    names = list(grid)
    first = grid[names[0]]
    for name in names[1:]:
        other = grid[name]
        if other.spatial_ndim != first.spatial_ndim:
            raise ValueError(
                f"fields {names[0]!r} and {name!r} differ in spatial axes: "
                f"{first.spatial_ndim} vs {other.spatial_ndim}"
            )
        if other.is_batched != first.is_batched or (
            first.is_batched and other.data.shape[0] != first.data.shape[0]
        ):
            raise ValueError(
                f"fields {names[0]!r} and {name!r} differ in batch layout: "
                f"shapes {tuple(first.data.shape)} and {tuple(other.data.shape)}"
            )
    on_image_grid = {k: v for k, v in grid.items() if isinstance(v, (Image, LabelMap))}
    shapes = {k: v.spatial_shape for k, v in on_image_grid.items()}
    if len(set(shapes.values())) > 1:
        described = ", ".join(f"{k}: {v}" for k, v in shapes.items())
        raise ValueError(
            f"image and label-map fields of one sample must share their spatial shape, got {described}"
        )
