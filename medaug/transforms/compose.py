"""Composition of transforms, fused resampling, replay and inversion.

Containers (:class:`Compose`, :class:`OneOf`, :class:`SomeOf`,
:class:`RandomApply`) only choose which leaf transforms run: they draw their
choices from ``rng`` first, then the chosen leaves run in order through
:func:`run_leaves`. There, consecutive spatial leaves are *fused*: their
plans chain into one coordinate map, and each field is interpolated once at
the end of the run (see :mod:`medaug.transforms.functional.coordinates`).
Fusion stops at any non-spatial leaf, at a leaf that needs voxel values
(``needs_data``: a foreground crop, or an anti-aliasing filter applied by
its ``prefilter``), and where two leaves ask for different :class:`~medaug.transforms.functional.resample.Resampling`.

While a run is being fused, a spatial leaf samples its parameters from a
placeholder sample whose image and label fields have the fused output's
shape and geometry but zero values. Leaves that need real values set
``needs_data = True``.

Every leaf appends its deterministic twin's record to the sample's history,
in order, so :func:`replay` reproduces an output exactly from its input and
history, and :func:`invert` undoes the spatial part (test-time
augmentation).

Examples
--------
>>> import numpy as np
>>> from medaug.transforms import Compose, RandomApply, Flip
>>> pipeline = Compose([RandomApply(Flip(axes="x"), p=0.5)])
>>> image = np.arange(6, dtype=np.float32).reshape(2, 3)
>>> pipeline(image, rng=np.random.default_rng(2)).tolist()
[[2.0, 1.0, 0.0], [5.0, 4.0, 3.0]]
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from medaug.core.fields import Image, LabelMap
from medaug.core.sample import Sample, TransformRecord
from medaug.transforms.base import (
    NotInvertibleError,
    RandomTransform,
    Transform,
    get_transform_class,
)
from medaug.transforms.functional.coordinates import Grid, SpatialPlan, chain_plans
from medaug.transforms.functional.resample import Resampling, resample_sample
from medaug.transforms.validation import check_probability

__all__ = [
    "Compose",
    "OneOf",
    "RandomApply",
    "SomeOf",
    "build_transform",
    "invert",
    "placeholder_sample",
    "plan_leaves",
    "replay",
    "run_leaves",
]


def build_transform(config: Mapping[str, Any] | Transform) -> Transform:
    """Build a transform from ``{"name": ..., "config": {...}}`` (as written by ``to_config``)."""
    if isinstance(config, Transform):
        return config
    if not isinstance(config, Mapping) or "name" not in config:
        raise TypeError(
            f"a transform config must be a mapping with 'name' and 'config', got {config!r}"
        )
    unknown = set(config) - {"name", "config"}
    if unknown:
        raise ValueError(f"a transform config has only 'name' and 'config', got extra keys {sorted(unknown)}")
    cls = get_transform_class(str(config["name"]))
    return cls.from_config(dict(config.get("config") or {}))


def _check_transforms(transforms: Any, name: str) -> list[Transform]:
    if isinstance(transforms, (Transform, Mapping)) or not isinstance(transforms, Iterable):
        raise TypeError(f"`{name}` must be a sequence of transforms, got {type(transforms).__name__}")
    built = [build_transform(t) for t in transforms]
    if not built:
        raise ValueError(f"`{name}` must contain at least one transform")
    return built


class _Container(Transform):
    """A transform that chooses among child transforms and has no leaf behaviour."""

    transforms: list[Transform]

    def _draws_random(self) -> bool:
        return self.is_random or any(t._draws_random() for t in self.transforms)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["transforms"] = [t.to_config() for t in self.transforms]
        return config


class Compose(_Container):
    """Run transforms in order, fusing consecutive spatial ones into one resampling.

    Parameters
    ----------
    transforms : sequence of Transform
        Applied first to last. Configs (``{"name", "config"}`` dicts) are built.
    fuse : bool, keyword-only
        Interpolate consecutive spatial transforms once (default). With
        False every spatial transform resamples on its own.
    """

    def __init__(self, transforms: Sequence[Transform], *, fuse: bool = True) -> None:
        self.transforms = _check_transforms(transforms, "transforms")
        if not isinstance(fuse, bool):
            raise TypeError(f"`fuse` must be a bool, got {fuse!r}")
        self.fuse = fuse

    def leaves(self, rng: np.random.Generator | None) -> list[Transform]:
        chosen: list[Transform] = []
        for child in self.transforms:
            chosen.extend(child.leaves(rng))
        return chosen

    def transform(self, sample: Sample, *, rng=None, fuse: bool | None = None) -> Sample:
        return super().transform(sample, rng=rng, fuse=self.fuse if fuse is None else fuse)

    def inverse(self) -> Transform:
        """Return the Compose of the children's inverses in reverse order."""
        return Compose([t.inverse() for t in reversed(self.transforms)], fuse=self.fuse)

    def __len__(self) -> int:
        return len(self.transforms)

    def __getitem__(self, index: int) -> Transform:
        return self.transforms[index]


class OneOf(_Container):
    """Run exactly one of ``transforms``, chosen with probabilities ``weights``.

    Parameters
    ----------
    transforms : sequence of Transform
    weights : sequence of float, optional
        Non-negative relative weights, normalised to sum to one. Default equal.
    """

    is_random = True

    def __init__(self, transforms: Sequence[Transform], weights: Sequence[float] | None = None) -> None:
        self.transforms = _check_transforms(transforms, "transforms")
        if weights is not None:
            weights = [float(w) for w in weights]
            if len(weights) != len(self.transforms):
                raise ValueError(
                    f"`weights` must have one value per transform ({len(self.transforms)}), got {len(weights)}"
                )
            if any(not np.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
                raise ValueError(f"`weights` must be finite, >= 0 and not all 0, got {weights}")
        self.weights = weights

    def leaves(self, rng: np.random.Generator | None) -> list[Transform]:
        probabilities = None
        if self.weights is not None:
            probabilities = np.asarray(self.weights) / np.sum(self.weights)
        index = int(rng.choice(len(self.transforms), p=probabilities))
        return self.transforms[index].leaves(rng)


class SomeOf(_Container):
    """Run a random number of distinct ``transforms``, in their listed order.

    Parameters
    ----------
    transforms : sequence of Transform
    count : int or (int, int)
        How many run: a fixed number or an inclusive ``(low, high)`` range.
    shuffle : bool, keyword-only
        Run the chosen transforms in random order instead of listed order.
    """

    is_random = True

    def __init__(
        self, transforms: Sequence[Transform], count: int | Sequence[int] = (1, 2), *, shuffle: bool = False
    ) -> None:
        self.transforms = _check_transforms(transforms, "transforms")
        low, high = (count, count) if isinstance(count, numbers.Integral) else tuple(count)
        if not (0 <= int(low) <= int(high) <= len(self.transforms)):
            raise ValueError(
                f"`count` must satisfy 0 <= low <= high <= {len(self.transforms)} "
                f"(the number of transforms), got {count!r}"
            )
        self.count = count if isinstance(count, numbers.Integral) else [int(low), int(high)]
        self.shuffle = bool(shuffle)

    def leaves(self, rng: np.random.Generator | None) -> list[Transform]:
        low, high = (self.count, self.count) if isinstance(self.count, int) else self.count
        number = int(rng.integers(low, high + 1))
        chosen = rng.choice(len(self.transforms), size=number, replace=False)
        order = chosen if self.shuffle else np.sort(chosen)
        result: list[Transform] = []
        for index in order:
            result.extend(self.transforms[int(index)].leaves(rng))
        return result


class RandomApply(_Container):
    """Run ``transform`` with probability ``p``.

    Parameters
    ----------
    transform : Transform
    p : float
        Probability in [0, 1].
    """

    is_random = True

    def __init__(self, transform: Transform, p: float = 0.5) -> None:
        self.transform_ = build_transform(transform)
        self.transforms = [self.transform_]
        self.p = check_probability(p, "p")

    def leaves(self, rng: np.random.Generator | None) -> list[Transform]:
        if rng.random() < self.p:
            return self.transform_.leaves(rng)
        return []

    def get_config(self) -> dict[str, Any]:
        return {"transform": self.transform_.to_config(), "p": self.p}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Transform:
        return cls(build_transform(config["transform"]), p=config.get("p", 0.5))


def placeholder_sample(sample: Sample, grid: Grid) -> Sample:
    """Return ``sample`` with image and label fields replaced by zeros on ``grid`` (no memory)."""
    fields = {}
    for name, field in sample.items():
        if isinstance(field, (Image, LabelMap)):
            zeros = torch.zeros((), dtype=field.data.dtype, device=field.data.device)
            data = zeros.expand(field.data.shape[0], *grid.shape)
            fields[name] = field.replace(data=data, geometry=grid.geometry)
        else:
            fields[name] = field
    return Sample(fields, history=sample.history, metadata=sample.metadata)


class _FusedRun:
    """Spatial leaves waiting to be resampled together."""

    def __init__(self) -> None:
        self.plans: list[SpatialPlan] = []
        self.records: list[TransformRecord] = []
        self.resampling: Resampling | None = None

    def accepts(self, resampling: Resampling | None) -> bool:
        return resampling is None or self.resampling is None or resampling == self.resampling

    def add(self, plan: SpatialPlan, record: TransformRecord, resampling: Resampling | None) -> None:
        self.plans.append(plan)
        self.records.append(record)
        self.resampling = self.resampling or resampling

    def flush(self, sample: Sample) -> Sample:
        if not self.plans:
            return sample
        result = resample_sample(sample, chain_plans(self.plans), self.resampling or Resampling())
        for record in self.records:
            result = result.replace(record=record)
        self.__init__()
        return result


class _ItemRunner:
    """Applies the steps that :func:`plan_leaves` chooses to one sample, as they come."""

    def __init__(self, sample: Sample) -> None:
        self.current = sample
        self._run = _FusedRun()

    def grid(self) -> Grid:
        """Return the grid the next spatial leaf starts from."""
        return self._run.plans[-1].output if self._run.plans else Grid.of(self.current.reference)

    def view(self) -> Sample:
        """Return the sample that the next leaf samples its parameters from."""
        return placeholder_sample(self.current, self.grid()) if self._run.plans else self.current

    def accepts(self, resampling: Resampling | None) -> bool:
        return self._run.accepts(resampling)

    def add_spatial(self, plan: SpatialPlan, record: TransformRecord, resampling: Resampling | None) -> None:
        self._run.add(plan, record, resampling)

    def flush(self) -> None:
        self.current = self._run.flush(self.current)

    def prefilter(self, twin: Transform, parameters: Any) -> None:
        self.current = twin.prefilter(self.current, parameters)

    def apply(self, leaf: Transform, parameters: Any, record: TransformRecord) -> None:
        self.current = leaf.apply(self.current, parameters).replace(record=record)


def plan_leaves(leaves: Sequence[Transform], rng: np.random.Generator | None, runner: Any, *, fuse: bool) -> None:
    """Sample each leaf's parameters in order and hand the steps to ``runner``.

    This walk fixes the order of every draw from ``rng``. ``runner`` is
    :class:`_ItemRunner` for one sample, or a recorder that collects the
    steps of one batch item (:mod:`medaug.transforms.batched`).
    """
    # RandomTransform.apply and .record both go through the deterministic twin, so building
    # the twin once per draw here saves building it twice.
    for leaf in leaves:
        if not (fuse and leaf.kind == "spatial"):
            runner.flush()
            parameters = leaf.sample_parameters(rng, runner.view())
            twin = leaf.deterministic(parameters) if isinstance(leaf, RandomTransform) else leaf
            runner.apply(twin, parameters, twin.record(parameters))
            continue
        if leaf.needs_data:
            runner.flush()
        grid = runner.grid()
        parameters = leaf.sample_parameters(rng, runner.view())
        twin = leaf.deterministic(parameters) if leaf.is_random else leaf
        if leaf.needs_data:
            runner.prefilter(twin, parameters)
        if not runner.accepts(twin.resampling):
            runner.flush()
        runner.add_spatial(twin.plan(parameters, grid), twin.record(parameters), twin.resampling)
    runner.flush()


def run_leaves(
    sample: Sample, leaves: Sequence[Transform], rng: np.random.Generator | None, *, fuse: bool = True
) -> Sample:
    """Run leaf transforms in order, fusing consecutive spatial ones when ``fuse`` is True."""
    runner = _ItemRunner(sample)
    plan_leaves(leaves, rng, runner, fuse=fuse)
    return runner.current


def _records(history: Iterable[TransformRecord | Mapping[str, Any]]) -> list[TransformRecord]:
    records = []
    for item in history:
        if isinstance(item, TransformRecord):
            records.append(item)
        elif isinstance(item, Mapping) and "name" in item:
            records.append(TransformRecord(name=item["name"], parameters=item.get("parameters", {})))
        else:
            raise TypeError(f"history entries must be TransformRecord or dicts with 'name', got {item!r}")
    return records


def _from_record(record: TransformRecord) -> Transform:
    return get_transform_class(record.name).from_config(dict(record.parameters))


def replay(
    sample: Any,
    history: Iterable[TransformRecord | Mapping[str, Any]],
    *,
    fuse: bool = True,
) -> Any:
    """Apply recorded transforms to ``sample`` again, without random numbers.

    Parameters
    ----------
    sample : Sample, array, tensor, SimpleITK image or dict
        The input the history was recorded on; the output has the same type.
    history : sequence of TransformRecord or dict
        ``output.history`` (or ``output.history_dicts()`` read back from
        JSON or YAML).
    fuse : bool, keyword-only
        Fuse consecutive spatial records, as :class:`Compose` does. Replay
        is exact when this matches how the output was made: True for one
        call of a Compose or a transform, False for a chain of separate calls.
    """
    from medaug.core.convert import to_sample

    source, restore = to_sample(sample)
    leaves = [_from_record(record) for record in _records(history)]
    if not leaves:
        return restore(source)
    return restore(Compose(leaves, fuse=fuse).transform(source))


def invert(
    sample: Any,
    history: Iterable[TransformRecord | Mapping[str, Any]] | None = None,
    *,
    fuse: bool = True,
) -> Any:
    """Undo the spatial transforms of ``history`` on ``sample`` (test-time augmentation).

    Non-spatial records (intensity changes) are skipped: a prediction lives in
    label or probability space, so only its geometry needs undoing.

    Parameters
    ----------
    sample : Sample, array, tensor, SimpleITK image or dict
        Typically a network prediction on the augmented grid.
    history : sequence of TransformRecord or dict, optional
        Records of the augmentation; default ``sample.history``.

    Raises
    ------
    NotInvertibleError
        If a recorded spatial transform has no inverse.
    """
    from medaug.core.convert import to_sample

    source, restore = to_sample(sample)
    records = _records(source.history if history is None else history)
    inverses = []
    for record in reversed(records):
        transform = _from_record(record)
        if transform.kind != "spatial":
            continue
        try:
            inverses.append(transform.inverse())
        except NotInvertibleError as error:
            raise NotInvertibleError(f"cannot invert recorded {record.name}: {error}") from error
    if not inverses:
        return restore(source)
    return restore(Compose(inverses, fuse=fuse).transform(source))
