"""The ``relabel`` step: merge label values into the classes a task needs."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pydantic

from medaug.core.fields import LabelMap
from medaug.core.sample import Sample, TransformRecord
from medaug.data.registry import BuildContext, FieldSpec, SpecError, StepConfig, register_step

__all__ = ["Relabel"]


@register_step("simulation", "relabel")
@register_step("augmentation", "relabel")
class Relabel(StepConfig):
    """Map groups of label values to new classes 1, 2, ... in the order given; the rest become 0.

    ``groups`` maps a class name to the label values it merges, for example
    ``{brain: [5, 6, 7, 8]}`` for the procedural head's CSF, grey matter,
    white matter and lesions.
    """

    type: Literal["relabel"] = "relabel"
    label_field: str = "label"
    groups: dict[str, list[int]]

    @pydantic.field_validator("groups")
    @classmethod
    def _check_groups(cls, value: dict[str, list[int]]) -> dict[str, list[int]]:
        if not value:
            raise ValueError("`groups` must name at least one class")
        seen: dict[int, str] = {}
        for name, values in value.items():
            if not values:
                raise ValueError(f"group {name!r} lists no label values")
            for label in values:
                if label in seen:
                    raise ValueError(f"label {label} is in groups {seen[label]!r} and {name!r}; a label joins one group")
                seen[label] = name
        return value

    def output_spec(self, spec: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        field = spec.get(self.label_field)
        if field is None or field.kind != "LabelMap":
            raise SpecError(f"needs a LabelMap field {self.label_field!r}; the pipeline has {', '.join(sorted(spec))}",
                            key="label_field")
        return spec

    def build(self, context: BuildContext) -> Any:
        return self.apply

    def apply(self, sample: Sample, rng: np.random.Generator | None = None) -> Sample:
        """Return the sample with its label map merged into the groups' classes (uint8)."""
        import torch

        field = sample[self.label_field]
        if not isinstance(field, LabelMap):
            raise TypeError(f"`{self.label_field}` must be a LabelMap, got {type(field).__name__}")
        merged = torch.zeros_like(field.data, dtype=torch.uint8)
        for new, values in enumerate(self.groups.values(), start=1):
            merged[torch.isin(field.data, torch.tensor(values, dtype=field.data.dtype))] = new
        record = TransformRecord("relabel", {"groups": self.groups})
        return sample.replace({self.label_field: field.replace(data=merged)}, record=record)
