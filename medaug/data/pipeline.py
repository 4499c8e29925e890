"""The runtime pipeline: sample *i* = outputs(augment(simulate(source(i)))).

Each stage draws from its own stream, derived from the set seed and the
sample index only (:func:`medaug.core.seeding.seed_sequence`), so sample
*i* is the same in any process, worker or machine, and adding an
augmentation step never changes the anatomy or the simulated acquisition.
The streams of stage *s*, step *j* are ``SeedSequence(seed, spawn_key=key
+ (s, j))`` where ``key`` is ``(i,)`` or, for training epochs,
``(EPOCH, e, i)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from medaug.core.fields import Field, LabelMap
from medaug.core.sample import Sample
from medaug.core.seeding import seed_sequence
from medaug.data.config import PipelineConfig, load_config

__all__ = ["Pipeline", "cast_field", "stage_rng"]

SourceFn = Callable[..., Sample]
StepFn = Callable[[Sample, np.random.Generator], Sample]

# Stage tags appended to a sample's spawn key.
_SAMPLING, _SOURCE, _SIMULATION, _AUGMENTATION = 0, 1, 2, 3


def stage_rng(seed: int, index: int, stage: int, step: int, epoch: int | None = None) -> np.random.Generator:
    """Return the generator of step ``step`` of stage ``stage`` for sample ``index``.

    Examples
    --------
    >>> a = stage_rng(1, 4, 2, 0).random()
    >>> b = stage_rng(1, 4, 2, 0).random()
    >>> a == b, a == stage_rng(1, 4, 2, 1).random()
    (True, False)
    """
    base = seed_sequence(seed, index, epoch)
    sequence = np.random.SeedSequence(base.entropy, spawn_key=(*base.spawn_key, stage, step))
    return np.random.default_rng(sequence)


class Pipeline:
    """A source, simulation steps and augmentation steps that make sample *i* on demand.

    Parameters
    ----------
    source : callable
        ``source(rng, index, factors) -> Sample``.
    simulation, augmentation : sequence of callable
        Each ``step(sample, rng) -> Sample``.
    seed : int
        Set seed (>= 0).
    outputs : mapping of str to (str or None), optional
        Fields to keep and the dtype to cast each to (None keeps it).
    sampling : object, optional
        Draws per-sample factors with ``draw(rng, index)`` (see
        :mod:`medaug.data.sampling`); they are stored in
        ``sample.metadata["factors"]`` and passed to the source.
    vary : {"augmentation", "all"}
        With an epoch given, which stages get a new stream each epoch.

    Examples
    --------
    >>> from medaug.data.config import parse_config
    >>> pipeline = Pipeline.from_config(parse_config({"seed": 0, "source": {"type": "shapes", "shape": [8, 8]}}))
    >>> sample = pipeline(3)
    >>> sorted(sample), sample.metadata["index"]
    (['image', 'label'], 3)
    """

    def __init__(
        self,
        source: SourceFn,
        *,
        simulation: Sequence[StepFn] = (),
        augmentation: Sequence[StepFn] = (),
        seed: int = 0,
        outputs: Mapping[str, str | None] | None = None,
        sampling: Any = None,
        vary: Literal["augmentation", "all"] = "augmentation",
    ) -> None:
        if not callable(source):
            raise TypeError(f"`source` must be callable, got {type(source).__name__}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"`seed` must be an int >= 0, got {seed!r}")
        if vary not in ("augmentation", "all"):
            raise ValueError(f"`vary` must be 'augmentation' or 'all', got {vary!r}")
        self.source = source
        self.simulation = tuple(simulation)
        self.augmentation = tuple(augmentation)
        self.seed = int(seed)
        self.outputs = dict(outputs) if outputs is not None else None
        self.sampling = sampling
        self.vary = vary
        self.config: PipelineConfig | None = None

    @classmethod
    def from_config(cls, config: PipelineConfig, *, vary: Literal["augmentation", "all"] = "augmentation") -> Pipeline:
        """Build every step of a validated config."""
        context = config.context
        pipeline = cls(
            config.source.build(context),
            simulation=[step.build(context) for step in config.simulation],
            augmentation=[step.build(context) for step in config.augmentation],
            seed=config.seed,
            outputs=config.outputs,
            sampling=config.sampling,
            vary=vary,
        )
        pipeline.config = config
        return pipeline

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str], **options: Any) -> Pipeline:
        """Read, validate and build a config file."""
        return cls.from_config(load_config(path), **options)

    def __call__(self, index: int, *, epoch: int | None = None) -> Sample:
        """Make sample ``index`` (for training epoch ``epoch``, or the benchmark sample if None)."""
        return self.trace(index, epoch=epoch)["output"]

    def trace(self, index: int, *, epoch: int | None = None) -> dict[str, Sample]:
        """Make sample ``index`` and return it after each stage.

        Returns
        -------
        dict
            ``"source"``, ``"simulation"`` (after every simulation step),
            ``"augmentation"`` and ``"output"`` (fields selected and cast).
        """
        fixed_epoch = epoch if self.vary == "all" else None

        factors = None
        if self.sampling is not None:
            factors = self.sampling.draw(stage_rng(self.seed, index, _SAMPLING, 0, fixed_epoch), index)
        sample = self.source(stage_rng(self.seed, index, _SOURCE, 0, fixed_epoch), index, factors)
        sample = sample.replace(metadata={"factors": factors} if factors is not None else None)
        stages = {"source": sample}
        for j, step in enumerate(self.simulation):
            sample = step(sample, stage_rng(self.seed, index, _SIMULATION, j, fixed_epoch))
        stages["simulation"] = sample
        for j, step in enumerate(self.augmentation):
            sample = step(sample, stage_rng(self.seed, index, _AUGMENTATION, j, epoch))
        stages["augmentation"] = sample

        sample = self._select_outputs(sample)
        stages["output"] = sample.replace(metadata={"index": int(index), "seed": self.seed, "epoch": epoch})
        return stages

    def _select_outputs(self, sample: Sample) -> Sample:
        if self.outputs is None:
            return sample
        missing = [name for name in self.outputs if name not in sample]
        if missing:
            raise ValueError(f"pipeline outputs {missing} are missing from the sample; it has {sorted(sample)}")
        fields = {name: cast_field(sample[name], dtype, name) for name, dtype in self.outputs.items()}
        return Sample(fields, history=sample.history, metadata=sample.metadata)


def cast_field(field: Field, dtype: str | None, name: str = "field") -> Field:
    """Cast a field's data to ``dtype`` only when no value changes beyond float rounding.

    Float to integer requires finite whole numbers within the integer range;
    integer narrowing requires the range; complex to real is rejected.

    Raises
    ------
    ValueError
        If the cast would clip, wrap, drop a fraction or an imaginary part.

    Examples
    --------
    >>> import numpy as np
    >>> from medaug.core.fields import Image
    >>> cast_field(Image(np.full((1, 2, 2), 3.0)), "uint8").data.dtype
    torch.uint8
    >>> cast_field(Image(np.full((1, 2, 2), 300.0)), "uint8")
    Traceback (most recent call last):
    ...
    ValueError: output 'field' has values in [300, 300], outside uint8's range [0, 255]
    """
    import torch

    if dtype is None:
        return field
    target = getattr(torch, dtype)
    data = field.data
    if data.dtype == target:
        return field
    if isinstance(field, LabelMap) and (target.is_floating_point or target.is_complex):
        raise ValueError(f"output {name!r} is a label map and must keep an integer dtype, got {dtype}")
    if data.is_complex() and not target.is_complex:
        raise ValueError(f"output {name!r} is complex and cannot be cast to {dtype}; keep complex64/complex128")
    if not target.is_floating_point and not target.is_complex:
        _check_integer_cast(data, target, dtype, name)
    converted = data.to(target)
    if (data.is_floating_point() or data.is_complex()) and bool(torch.isfinite(data).all()):
        if not bool(torch.isfinite(converted).all()):
            raise ValueError(f"output {name!r} overflows {dtype}; keep a wider float type")
    return field.replace(data=converted)


def _check_integer_cast(data: Any, target: Any, dtype: str, name: str) -> None:
    import torch

    if data.is_floating_point():
        if not bool(torch.isfinite(data).all()):
            raise ValueError(f"output {name!r} has non-finite values and cannot be cast to {dtype}")
        if not bool((data == data.round()).all()):
            raise ValueError(f"output {name!r} has fractional values and cannot be cast to {dtype} without rounding")
    info = torch.iinfo(target)
    low, high = float(data.min()), float(data.max())
    if low < info.min or high > info.max:
        raise ValueError(
            f"output {name!r} has values in [{low:g}, {high:g}], outside {dtype}'s range [{info.min}, {info.max}]"
        )
