"""Batched samples: per-item parameters, one ``grid_sample`` per fused run.

A batched sample ``(B, C, *spatial)`` is transformed as if each item ran on
its own, in batch order, drawing from the same generator: item 0 draws all
its parameters, then item 1, and so on. The outputs are equal, tensor for
tensor, to running the items one after another.

When it can, :func:`run_batched` first plans every item: it draws the
item's parameters against zero-valued placeholders of the right shape and
geometry. Then it runs the planned steps for all items together, so each
fused spatial run off the CPU interpolates the whole batch in one
``grid_sample`` call
(:func:`~medaug.transforms.functional.resample.resample_samples`). Planning
without the data is exact only when no leaf reads voxel values while it
samples its parameters, which is what ``needs_data = False`` states. The
batch therefore runs item by item when a chosen leaf has ``needs_data``
set, when a leaf is neither spatial nor intensity (such a leaf may read
label values, as label-to-image synthesis does), when fusion is off, or
when an item has fields on different grids or fields that spatial
transforms cannot move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from medaug.core.collate import collate, uncollate
from medaug.core.fields import GridField, Image, LabelMap
from medaug.core.sample import Sample, TransformRecord
from medaug.transforms.base import Transform
from medaug.transforms.compose import _FusedRun, placeholder_sample, plan_leaves, run_leaves
from medaug.transforms.functional.coordinates import Grid, SpatialPlan, chain_plans
from medaug.transforms.functional.resample import Resampling, resample_sample, resample_samples

__all__ = ["run_batched"]


@dataclass(frozen=True)
class _Resample:
    """A fused spatial run: its plans in order, their records and the resampling."""

    plans: tuple[SpatialPlan, ...]
    records: tuple[TransformRecord, ...]
    resampling: Resampling


@dataclass(frozen=True)
class _Apply:
    """A non-fused leaf with its sampled parameters and record."""

    leaf: Transform
    parameters: Any
    record: TransformRecord


class _StepRecorder:
    """Collects one item's steps from :func:`plan_leaves` without touching its voxel values."""

    def __init__(self, sample: Sample) -> None:
        self.sample = sample
        self.steps: list[_Resample | _Apply] = []
        self._grid = Grid.of(sample.reference)
        self._run = _FusedRun()

    def grid(self) -> Grid:
        return self._run.plans[-1].output if self._run.plans else self._grid

    def view(self) -> Sample:
        return placeholder_sample(self.sample, self.grid())

    def accepts(self, resampling: Resampling | None) -> bool:
        return self._run.accepts(resampling)

    def add_spatial(self, plan: SpatialPlan, record: TransformRecord, resampling: Resampling | None) -> None:
        self._run.add(plan, record, resampling)

    def flush(self) -> None:
        if not self._run.plans:
            return
        run = self._run
        self.steps.append(_Resample(tuple(run.plans), tuple(run.records), run.resampling or Resampling()))
        self._grid = run.plans[-1].output
        self._run = _FusedRun()

    def prefilter(self, twin: Transform, parameters: Any) -> None:
        raise AssertionError("leaves with needs_data are run item by item, never planned ahead")

    def apply(self, leaf: Transform, parameters: Any, record: TransformRecord) -> None:
        self.steps.append(_Apply(leaf, parameters, record))


def _can_plan_ahead(item: Sample, leaves: Sequence[Transform], fuse: bool) -> bool:
    if not fuse:
        return False
    if any(leaf.needs_data or leaf.kind not in ("spatial", "intensity") for leaf in leaves):
        return False
    reference = Grid.of(item.reference)
    for field in item.values():
        if isinstance(field, (Image, LabelMap)):
            if Grid.of(field) != reference:
                return False
        elif isinstance(field, GridField):
            # k-space and sinograms cannot be moved; the item-by-item path raises for them.
            return False
    return True


def _plan_items(
    items: Sequence[Sample], transform: Transform, rng: np.random.Generator | None, fuse: bool
) -> list[list[_Resample | _Apply]] | None:
    """Draw every item's steps in batch order; None when some item must run on its data."""
    programs = []
    for item in items:
        leaves = transform.leaves(rng)
        if not _can_plan_ahead(item, leaves, fuse):
            return None
        recorder = _StepRecorder(item)
        plan_leaves(leaves, rng, recorder, fuse=True)
        programs.append(recorder.steps)
    return programs


def _run_resample(items: list[Sample], steps: Sequence[_Resample]) -> list[Sample]:
    plans = [chain_plans(list(step.plans)) for step in steps]
    if all(step.resampling == steps[0].resampling for step in steps):
        results = resample_samples(items, plans, steps[0].resampling)
    else:
        results = [resample_sample(item, plan, step.resampling) for item, plan, step in zip(items, plans, steps)]
    for index, step in enumerate(steps):
        for record in step.records:
            results[index] = results[index].replace(record=record)
    return results


def _run_programs(items: list[Sample], programs: Sequence[Sequence[_Resample | _Apply]]) -> list[Sample]:
    """Run planned steps, all items together where their steps line up."""
    layout = [[type(step) for step in program] for program in programs]
    if any(kinds != layout[0] for kinds in layout):
        return [_run_programs([item], [program])[0] for item, program in zip(items, programs)]
    for position in range(len(layout[0])):
        steps = [program[position] for program in programs]
        if isinstance(steps[0], _Resample):
            items = _run_resample(items, steps)
        else:
            items = [
                step.leaf.apply(item, step.parameters).replace(record=step.record)
                for item, step in zip(items, steps)
            ]
    return items


def run_batched(
    sample: Sample, transform: Transform, rng: np.random.Generator | None, *, fuse: bool = True
) -> Sample:
    """Transform a batched ``sample`` item by item with parameters drawn in batch order.

    Parameters
    ----------
    sample : Sample
        A batched sample, fields ``(B, C, *spatial)``.
    transform : Transform
        The transform (leaf or container) to run on every item.
    rng : numpy.random.Generator or None
        Generator shared by the items; None for deterministic transforms.
    fuse : bool, keyword-only
        Fuse consecutive spatial leaves, as :func:`~medaug.transforms.compose.run_leaves` does.
    """
    items = uncollate(sample)
    state = None if rng is None else rng.bit_generator.state
    try:
        programs = _plan_items(items, transform, rng, fuse)
    except (ValueError, TypeError):
        # The item-by-item run below raises the error where it belongs.
        programs = None
    if programs is None:
        if rng is not None:
            rng.bit_generator.state = state
        results = [run_leaves(item, transform.leaves(rng), rng, fuse=fuse) for item in items]
    else:
        results = _run_programs(items, programs)
    batched = collate(results)
    return Sample(dict(batched), history=sample.history, metadata=batched.metadata)
