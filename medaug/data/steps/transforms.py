"""Any registered :mod:`medaug.transforms` transform as a simulation or augmentation step.

A step whose ``type`` is not a registered step name is looked up among the
transforms (``RandomAffine``, ``RandomFlip``, ``Compose``...). The other
keys of the mapping are the transform's constructor arguments::

    augmentation:
      - {type: RandomAffine, rotation_range_deg: [-10, 10]}
      - {type: RandomFlip, axes: [x]}

The transform records its parameters in the sample's history, which the
manifest stores.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pydantic

from medaug.core.sample import Sample
from medaug.data.errors import ConfigIssue, suggest
from medaug.data.registry import BuildContext, FieldSpec, SpecError, StepConfig

__all__ = ["TransformStep", "transform_step_issues"]

# Transforms that write an image field painted from a label map.
_LABEL_TO_IMAGE = {"LabelToImage", "RandomLabelToImage", "LabelToImageSynthesis"}


class TransformStep(StepConfig):
    """A transform from the :mod:`medaug.transforms` registry, named by ``type``."""

    model_config = pydantic.ConfigDict(extra="allow", frozen=True)

    def options(self) -> dict[str, Any]:
        """Return the transform's constructor arguments (every key but ``type``)."""
        return dict(self.model_extra or {})

    def output_spec(self, spec: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        """Add the image that label-to-image transforms paint; other transforms keep the fields."""
        if self.type in _LABEL_TO_IMAGE:
            labels = [name for name, field in spec.items() if field.kind == "LabelMap"]
            if not labels:
                raise SpecError(f"{self.type} needs a label map; the pipeline has {', '.join(sorted(spec))}")
            name = self.options().get("image_field", "image")
            return {**spec, name: FieldSpec("Image", 1, spec[labels[0]].spatial_shape)}
        return spec

    def make_transform(self) -> Any:
        """Build the transform object."""
        from medaug.transforms import get_transform_class

        return get_transform_class(self.type).from_config(self.options())

    def build(self, context: BuildContext) -> Callable[[Sample, np.random.Generator], Sample]:
        transform = self.make_transform()

        def step(sample: Sample, rng: np.random.Generator) -> Sample:
            return transform.transform(sample, rng=rng)

        return step


# Modules outside medaug.transforms that define transforms; imported when a name is not yet registered.
_TRANSFORM_MODULES = ("medaug.generative.label_to_image",)


def is_transform_name(name: str) -> bool:
    """Return True when ``name`` is a registered transform (importing known transform modules first)."""
    import importlib

    try:
        from medaug.transforms import registered_transforms
    except ImportError:
        return False
    if name not in registered_transforms():
        for module in _TRANSFORM_MODULES:
            try:
                importlib.import_module(module)
            except ImportError:
                continue
    return name in registered_transforms()


def transform_step_issues(data: dict[str, Any], path: tuple[str | int, ...]) -> tuple[TransformStep | None, list[ConfigIssue]]:
    """Validate a transform step by building it; map the transform's errors to keys."""
    from medaug.transforms import get_transform_class

    step = TransformStep.model_validate(dict(data))
    options = step.options()
    cls = get_transform_class(step.type)
    allowed = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = [key for key in options if key not in allowed and "kwargs" not in allowed]
    if unknown:
        return None, [ConfigIssue((*path, key), f"unknown option of {step.type}{suggest(key, allowed)}. "
                                  f"Allowed keys: {', '.join(allowed)}") for key in unknown]
    try:
        step.make_transform()
    except (TypeError, ValueError) as error:
        message = str(error)
        named = [key for key in re.findall(r"`(\w+)`", message) if key in options]
        location = (*path, named[0]) if named else path
        return None, [ConfigIssue(location, message)]
    return step, []
