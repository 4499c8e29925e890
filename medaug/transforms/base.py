"""Base classes of every medaug transform, and the registry used for replay.

Contract for authors of a transform
-----------------------------------
A *leaf* transform has two methods:

``sample_parameters(rng, sample) -> parameters``
    Draw everything random for one sample from ``rng`` (a
    ``numpy.random.Generator``) and return it as a frozen dataclass. A
    deterministic transform ignores ``rng`` and returns its fixed parameters
    (as the same dataclass its random twin samples), or None when it has
    none.
``apply(sample, parameters) -> Sample``
    A pure function of its arguments: transform a
    :class:`~medaug.core.sample.Sample` with those parameters. It never
    draws random numbers and never stores anything on ``self``.

A random transform subclasses :class:`RandomTransform` and also implements
``deterministic(parameters)``, which returns the deterministic twin that
applies exactly those parameters. The twin is what gets recorded.

Every transform stores each constructor argument under an attribute of the
same name, so :meth:`Transform.get_config` can rebuild it and a pipeline can
be written to YAML. Each concrete subclass is registered under its class
name (or ``name=`` in the class statement, ``class Motion(Transform,
name="MRIMotion")``), so a :class:`~medaug.core.sample.TransformRecord`
names a class that :func:`get_transform_class` finds again.

Calling a transform
-------------------
``t(x, rng=rng)`` accepts a Sample, numpy array, torch tensor, SimpleITK
image or dict (see :func:`medaug.core.to_sample`) and returns the same kind
of object. Random transforms require ``rng``; deterministic ones ignore it.
Each applied leaf appends ``TransformRecord(name, config)`` of its
deterministic twin to the output sample's ``history``, so
:func:`medaug.transforms.replay` reproduces the sample exactly.

Field dispatch is by type, never by name: :class:`IntensityTransform` acts
on :class:`~medaug.core.fields.Image` fields only, and
:class:`SpatialTransform` moves images, label maps, points and boxes
together (see :mod:`medaug.transforms.functional.resample`).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from medaug.core.convert import to_sample
from medaug.core.fields import Image
from medaug.core.sample import Sample, TransformRecord
from medaug.core.seeding import as_rng
from medaug.transforms.functional.coordinates import Grid, SpatialPlan
from medaug.transforms.functional.resample import Resampling, resample_sample

__all__ = [
    "IntensityTransform",
    "NotInvertibleError",
    "RandomTransform",
    "SpatialTransform",
    "Transform",
    "get_transform_class",
    "promote_intensity",
    "registered_transforms",
    "to_plain",
]

_REGISTRY: dict[str, type[Transform]] = {}


class NotInvertibleError(TypeError):
    """Raised by :meth:`Transform.inverse` for a transform that has no inverse."""


def get_transform_class(name: str) -> type[Transform]:
    """Return the transform class registered under ``name``.

    Raises
    ------
    ValueError
        If no transform is registered under that name (the message lists
        close names).
    """
    if name not in _REGISTRY:
        known = sorted(_REGISTRY)
        close = [k for k in known if k.lower().startswith(name.lower()[:4])]
        hint = f"; did you mean one of {close}?" if close else ""
        raise ValueError(
            f"no transform is registered under {name!r}{hint} Import the module that "
            "defines it before replaying or loading a pipeline"
        )
    return _REGISTRY[name]


def registered_transforms() -> dict[str, type[Transform]]:
    """Return a copy of the registry: name to transform class."""
    return dict(_REGISTRY)


def to_plain(value: Any) -> Any:
    """Convert a config or parameter value to plain YAML/JSON-ready Python values.

    Tuples become lists, numpy and torch arrays become nested lists, numpy
    scalars become Python numbers, dataclasses become dicts, enums their
    value and transforms ``{"name": ..., "config": {...}}``.

    Examples
    --------
    >>> to_plain({"angles": (np.float64(1.5), 2)})
    {'angles': [1.5, 2]}
    """
    kind = type(value)
    # Exact built-in types first: records convert many small values, and the ABC checks below are slow.
    if value is None or kind in (bool, str, int, float):
        return value
    if kind in (tuple, list):
        return [to_plain(v) for v in value]
    if kind is dict:
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Transform):
        return value.to_config()
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [to_plain(v) for v in value]
    raise TypeError(f"cannot serialise a value of type {type(value).__name__}: {value!r}")


def promote_intensity(data: torch.Tensor) -> torch.Tensor:
    """Return image data in a floating dtype for computation.

    Integer and boolean data become float32 (every int16 and uint8 value is
    exact in float32); floating data keep their dtype. Results are never
    cast back to an integer dtype, so no value wraps or is clipped.
    """
    if data.is_floating_point():
        return data
    return data.to(torch.float32)


class Transform:
    """Base of all transforms: a deterministic leaf unless a subclass overrides that.

    Subclasses implement :meth:`apply` (and :meth:`sample_parameters` when
    they have parameters). See the module docstring for the contract.
    """

    #: "spatial", "intensity" or "other": how Compose may fuse this transform.
    kind: ClassVar[str] = "other"
    #: True for transforms that draw from ``rng``.
    is_random: ClassVar[bool] = False
    #: True when sampling parameters reads voxel values (a foreground crop).
    #: Leaves with False sample from the shape and geometry only, so fused
    #: runs and batches plan them ahead on zero-valued placeholders.
    needs_data: ClassVar[bool] = False
    #: Name in the registry, set when the class is defined.
    registry_name: ClassVar[str] = ""

    def __init_subclass__(cls, *, name: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if name is None and "<locals>" in cls.__qualname__:
            # Classes defined inside functions (tests, notebooks) are not
            # registered unless they choose a name, so they never collide.
            cls.registry_name = cls.__qualname__
            return
        key = name or cls.__name__
        existing = _REGISTRY.get(key)
        if existing is not None and _qualified(existing) != _qualified(cls):
            raise ValueError(
                f"transform name {key!r} is already registered by {_qualified(existing)}; "
                f"pass name=... in the class statement of {_qualified(cls)}"
            )
        cls.registry_name = key
        _REGISTRY[key] = cls

    # Leaf contract --------------------------------------------------------

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> Any:
        """Return this transform's parameters for ``sample`` (fixed, so ``rng`` is unused)."""
        return None

    def apply(self, sample: Sample, parameters: Any) -> Sample:
        """Transform ``sample`` with ``parameters``; a pure function, without a record."""
        raise NotImplementedError(f"{type(self).__name__} must implement apply(sample, parameters)")

    def record(self, parameters: Any) -> TransformRecord:
        """Return the history record that replays this transform with ``parameters``."""
        return TransformRecord(name=self.registry_name, parameters=self.get_config())

    def leaves(self, rng: np.random.Generator | None) -> list[Transform]:
        """Return the leaf transforms that run, in order (containers choose here)."""
        return [self]

    def inverse(self) -> Transform:
        """Return the transform that undoes this one (spatial transforms only)."""
        raise NotInvertibleError(f"{type(self).__name__} has no inverse")

    # Running --------------------------------------------------------------

    def transform(
        self, sample: Sample, *, rng: np.random.Generator | int | None = None, fuse: bool = True
    ) -> Sample:
        """Run the transform on a Sample and return a new Sample with its records.

        A batched sample ``(B, C, *spatial)`` gets parameters drawn per item,
        in batch order, from the same ``rng``. The output equals the items
        run one after another, and each fused spatial run interpolates the
        whole batch at once where it can (see :mod:`medaug.transforms.batched`).
        """
        from medaug.transforms.batched import run_batched
        from medaug.transforms.compose import run_leaves

        if not isinstance(sample, Sample):
            raise TypeError(f"`sample` must be a medaug Sample, got {type(sample).__name__}")
        generator = self._check_rng(rng)
        if sample.is_batched:
            return run_batched(sample, self, generator, fuse=fuse)
        return run_leaves(sample, self.leaves(generator), generator, fuse=fuse)

    def __call__(
        self, x: Any, *, rng: np.random.Generator | int | None = None, spatial_dims: int | None = None
    ) -> Any:
        """Transform ``x`` (Sample, array, tensor, SimpleITK image or dict); same type out.

        ``spatial_dims`` (2 or 3) sets how plain arrays are read, as in
        :func:`medaug.core.to_sample`: ``spatial_dims=3`` reads a 3-axis
        array as one volume ``(D, H, W)`` instead of a 2-D image ``(C, H, W)``.
        """
        sample, restore = to_sample(x, spatial_dims=spatial_dims)
        return restore(self.transform(sample, rng=rng))

    def _check_rng(self, rng: np.random.Generator | int | None) -> np.random.Generator | None:
        if rng is None:
            if self._draws_random():
                raise TypeError(
                    f"{type(self).__name__} is random and needs `rng`: call it as "
                    "t(x, rng=numpy.random.default_rng(seed))"
                )
            return None
        return as_rng(rng)

    def _draws_random(self) -> bool:
        return self.is_random

    # Configuration --------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as plain values (``type(self)(**config)`` rebuilds it)."""
        config = {}
        for name in _constructor_arguments(type(self)):
            if not hasattr(self, name):
                raise AttributeError(
                    f"{type(self).__name__} must store constructor argument {name!r} as self.{name} for get_config"
                )
            config[name] = to_plain(getattr(self, name))
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Transform:
        """Build the transform from :meth:`get_config` output."""
        return cls(**config)

    def to_config(self) -> dict[str, Any]:
        """Return ``{"name": registry name, "config": get_config()}``."""
        return {"name": self.registry_name, "config": self.get_config()}

    def __repr__(self) -> str:
        try:
            arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except (AttributeError, TypeError):
            arguments = "..."
        return f"{type(self).__name__}({arguments})"


class RandomTransform(Transform):
    """A transform that samples parameters from ``rng`` and applies them through its twin.

    Subclasses implement :meth:`sample_parameters` and :meth:`deterministic`.
    ``RandomX(...)(x, rng=g)`` equals ``RandomX(...).deterministic(p)(x)``
    with ``p = RandomX(...).sample_parameters(g, sample)``.
    """

    is_random: ClassVar[bool] = True

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> Any:
        """Draw this transform's parameters for ``sample`` from ``rng``."""
        raise NotImplementedError(f"{type(self).__name__} must implement sample_parameters")

    def deterministic(self, parameters: Any) -> Transform:
        """Return the deterministic transform that applies ``parameters``."""
        raise NotImplementedError(f"{type(self).__name__} must implement deterministic")

    def apply(self, sample: Sample, parameters: Any) -> Sample:
        """Apply ``parameters`` through the deterministic twin."""
        return self.deterministic(parameters).apply(sample, parameters)

    def record(self, parameters: Any) -> TransformRecord:
        """Return the twin's record, so replay needs no random numbers."""
        return self.deterministic(parameters).record(parameters)


class IntensityTransform(Transform):
    """A transform of voxel values that acts on Image fields and leaves all others alone.

    Subclasses implement :meth:`apply_to_image`. Integer images are promoted
    with :func:`promote_intensity` before the call, and nothing is cast back.
    """

    kind: ClassVar[str] = "intensity"

    def apply_to_image(self, data: torch.Tensor, parameters: Any, field: Image) -> torch.Tensor:
        """Return the transformed intensities of one image ``(C, *spatial)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement apply_to_image")

    def apply(self, sample: Sample, parameters: Any) -> Sample:
        """Apply :meth:`apply_to_image` to every Image field (by type, never by name)."""
        changed = {}
        for name, field in sample.items():
            if isinstance(field, Image):
                data = self.apply_to_image(promote_intensity(field.data), parameters, field)
                changed[name] = field.replace(data=data)
        return sample.replace(changed)


class SpatialTransform(Transform):
    """A geometric transform, defined as a map between physical (mm) grids.

    Subclasses implement :meth:`plan`, which returns the output grid and the
    backward coordinate maps (output mm to input mm). :meth:`apply` resamples
    every field once; :class:`~medaug.transforms.compose.Compose` fuses the
    plans of consecutive spatial transforms into one resampling.

    Parameters common to subclasses
    -------------------------------
    resampling : Resampling or None
        Interpolation of images and label maps and the image padding. None
        means the transform maps voxels exactly onto voxels (flip, crop) and
        takes its neighbours' resampling when fused.
    """

    kind: ClassVar[str] = "spatial"

    def plan(self, parameters: Any, grid: Grid) -> SpatialPlan:
        """Return the output grid and backward maps for an input on ``grid``."""
        raise NotImplementedError(f"{type(self).__name__} must implement plan")

    @property
    def resampling(self) -> Resampling | None:
        """How this transform interpolates; None for exact voxel-to-voxel maps."""
        return None

    def prefilter(self, sample: Sample, parameters: Any) -> Sample:
        """Filter voxel values before resampling (anti-aliasing); the default changes nothing.

        Only called on transforms with ``needs_data`` True, which start a new
        fused run, so the filter receives this transform's actual input.
        """
        return sample

    def apply(self, sample: Sample, parameters: Any) -> Sample:
        """Resample every field of ``sample`` along this transform's plan."""
        sample = self.prefilter(sample, parameters)
        plan = self.plan(parameters, Grid.of(sample.reference))
        return resample_sample(sample, plan, self.resampling or Resampling())


@functools.cache
def _constructor_arguments(cls: type) -> tuple[str, ...]:
    """Return the names of ``cls.__init__``'s named arguments (without ``self``, ``*args``, ``**kwargs``)."""
    skipped = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return tuple(parameter.name for parameter in inspect.signature(cls.__init__).parameters.values()
                 if parameter.name != "self" and parameter.kind not in skipped)


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
