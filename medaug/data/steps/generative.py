"""The ``generator`` source: samples from a trained generative model.

Wraps :func:`medaug.generative.sampling.load_generator`. Sample *i* is
``source.sample(1, rng)[0]`` with the sample's own generator, so it does not
depend on the worker or the order of calls. The checkpoint is loaded once
per process. Label-to-image synthesis (``LabelToImageSynthesis``,
``RandomLabelToImage``) is a transform and plugs in as a simulation or
augmentation step by its name.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pydantic

from medaug.core.sample import Sample
from medaug.data.registry import BuildContext, FieldSpec, StepConfig, register_step

__all__ = ["GeneratorSourceConfig"]


@register_step("source", "generator")
class GeneratorSourceConfig(StepConfig):
    """Options of the trained-generator source: ``checkpoint`` (path) and ``labels`` (whether the model makes label maps)."""

    type: Literal["generator"] = "generator"
    checkpoint: Path
    labels: bool = False

    @pydantic.field_validator("checkpoint")
    @classmethod
    def _check_checkpoint(cls, value: Path, info: pydantic.ValidationInfo) -> Path:
        context = (info.context or {}).get("build_context", BuildContext())
        if not context.resolve(value).is_file():
            raise ValueError(f"file not found: {str(context.resolve(value))!r}")
        return value

    def output_spec(self, spec: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        out = {"image": FieldSpec("Image", 1, None)}
        if self.labels:
            out["label"] = FieldSpec("LabelMap", 1, None)
        return out

    def build(self, context: BuildContext) -> Any:
        return functools.partial(_draw, str(context.resolve(self.checkpoint)))


@functools.lru_cache(maxsize=4)
def _load(checkpoint: str) -> Any:
    from medaug.generative.sampling import load_generator

    return load_generator(checkpoint, batch_size=1)


def _draw(checkpoint: str, rng: np.random.Generator, index: int, factors: Any = None) -> Sample:
    sample = _load(checkpoint).sample(1, rng)[0]
    return sample.replace(metadata={"source": {"type": "generator", "checkpoint": Path(checkpoint).name,
                                               "index": index}})
