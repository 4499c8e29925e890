"""Base of the transforms that run another library's transform inside a medaug pipeline.

The foreign object cannot be written to a config, so its record contains
the object's ``repr`` and the seed it was given, and
:func:`~medaug.transforms.compose.replay` rejects it. Subclasses name the
library and implement :meth:`~medaug.transforms.base.Transform.apply`,
which reseeds the foreign transform from the parameters (an int seed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from medaug.core.sample import Sample, TransformRecord
from medaug.core.seeding import spawn_seed
from medaug.transforms.base import Transform

__all__ = ["ForeignTransform"]


class ForeignTransform(Transform):
    """A transform of another library, reseeded from ``rng`` on every call.

    Parameters
    ----------
    transform : callable
        The foreign transform object, stored as ``transform_``.
    """

    is_random = True
    #: Name of the library in messages, such as "MONAI".
    library: ClassVar[str] = "foreign"

    def __init__(self, transform: Any) -> None:
        if not callable(transform):
            raise TypeError(
                f"`transform` must be a callable {self.library} transform, got {type(transform).__name__}"
            )
        self.transform_ = transform

    def get_config(self) -> dict[str, Any]:
        return {"transform": repr(self.transform_)}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Transform:
        raise ValueError(
            f"{cls.__name__} cannot be rebuilt from a config or record: construct it from the "
            f"{cls.library} object"
        )

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> int:
        # numpy.random.RandomState, which MONAI transforms use, takes seeds below 2**32.
        return spawn_seed(rng) % (2**32)

    def record(self, parameters: int) -> TransformRecord:
        return TransformRecord(self.registry_name, {"transform": repr(self.transform_), "seed": int(parameters)})
