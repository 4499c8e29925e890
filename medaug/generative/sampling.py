"""Trained generators as sample sources for pipelines.

:class:`GeneratorSource` wraps a trained model and yields medaug
:class:`~medaug.core.sample.Sample` objects with an ``image`` field and,
for label-aware models, a ``label`` field, so a pipeline can draw synthetic
pairs as it draws phantoms.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medaug.core.fields import Image, LabelMap
from medaug.core.sample import Sample
from medaug.core.seeding import as_rng, spawn_seed
from medaug.generative.models import DiffusionGenerator, ModelSettings, VAEGenerator, build_model

__all__ = ["GeneratorSource", "load_generator"]

#: A function that returns ``n`` label maps ``(n, *spatial)`` drawn from ``rng``.
LabelSource = Callable[[int, np.random.Generator], np.ndarray]


class GeneratorSource:
    """Draw synthetic samples from a trained generator.

    Parameters
    ----------
    model : DiffusionGenerator or VAEGenerator
        A trained model (see :func:`load_generator`).
    label_source : callable or array, optional
        For diffusion models conditioned on labels: a function ``(n, rng) ->
        (n, *spatial)`` integer label maps, or an array of label maps from
        which ``n`` are drawn with replacement. Required for those models and
        rejected for others.
    batch_size : int
        Images generated per forward pass.
    name : str
        Recorded in each sample's metadata as ``source``.

    Examples
    --------
    >>> import numpy as np
    >>> from medaug.generative.models import ModelSettings, build_model
    >>> settings = ModelSettings(image_size=(8, 8), channels=(8, 8), sampling_steps=2)
    >>> source = GeneratorSource(build_model(settings))
    >>> samples = source.sample(2, np.random.default_rng(0))
    >>> samples[0]["image"].data.shape
    torch.Size([1, 8, 8])
    """

    def __init__(
        self,
        model: DiffusionGenerator | VAEGenerator,
        *,
        label_source: LabelSource | np.ndarray | None = None,
        batch_size: int = 32,
        name: str = "generator",
    ) -> None:
        if not isinstance(model, (DiffusionGenerator, VAEGenerator)):
            raise TypeError(f"`model` must be a DiffusionGenerator or VAEGenerator, got {type(model).__name__}")
        if batch_size < 1:
            raise ValueError(f"`batch_size` must be >= 1, got {batch_size}")
        conditioned = isinstance(model, DiffusionGenerator) and model.settings.num_labels > 0
        if conditioned and label_source is None:
            raise ValueError("this diffusion model is conditioned on label maps: pass `label_source`")
        if not conditioned and label_source is not None:
            raise ValueError("`label_source` is only used by diffusion models conditioned on labels")
        if label_source is not None and not callable(label_source):
            label_source = np.asarray(label_source)
            if label_source.shape[1:] != model.settings.image_size:
                raise ValueError(
                    f"`label_source` maps have shape {label_source.shape[1:]}, expected {model.settings.image_size}"
                )
        self.model = model.eval()
        self.label_source = label_source
        self.batch_size = batch_size
        self.name = name

    @property
    def settings(self) -> ModelSettings:
        """Architecture of the wrapped model."""
        return self.model.settings

    def _labels(self, count: int, rng: np.random.Generator) -> torch.Tensor | None:
        if self.label_source is None:
            return None
        if callable(self.label_source):
            maps = np.asarray(self.label_source(count, rng))
        else:
            maps = self.label_source[rng.integers(0, len(self.label_source), size=count)]
        if maps.shape != (count,) + self.settings.image_size:
            raise ValueError(f"label source returned shape {maps.shape}, expected {(count,) + self.settings.image_size}")
        return torch.from_numpy(maps.astype(np.int64))

    def sample(self, n: int, rng: np.random.Generator | int) -> list[Sample]:
        """Return ``n`` synthetic samples drawn with ``rng``.

        Each sample holds ``image`` (float32 ``(1, *spatial)``, about [0, 1])
        and, when the model produces labels, ``label`` (uint8 ``(1, *spatial)``).
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"`n` must be an int >= 1, got {n!r}")
        rng = as_rng(rng)
        samples: list[Sample] = []
        for start in range(0, int(n), self.batch_size):
            count = min(self.batch_size, int(n) - start)
            labels = self._labels(count, rng)
            generator = torch.Generator().manual_seed(spawn_seed(rng))
            images, label_maps = self.model.generate(count, generator, labels)
            for index in range(count):
                fields: dict[str, Any] = {"image": Image(images[index, None].float().cpu())}
                if label_maps is not None:
                    fields["label"] = LabelMap(label_maps[index, None].to(torch.uint8).cpu())
                samples.append(Sample(fields, metadata={"source": self.name}))
        return samples

    def sample_arrays(self, n: int, rng: np.random.Generator | int) -> tuple[np.ndarray, np.ndarray | None]:
        """Return ``n`` images ``(n, *spatial)`` and label maps (or None) as numpy arrays."""
        samples = self.sample(n, rng)
        images = np.stack([s["image"].numpy()[0] for s in samples])
        labels = np.stack([s["label"].numpy()[0] for s in samples]) if "label" in samples[0] else None
        return images, labels


def load_generator(
    checkpoint: str | Path,
    *,
    label_source: LabelSource | np.ndarray | None = None,
    batch_size: int = 32,
) -> GeneratorSource:
    """Load a checkpoint written by :func:`medaug.generative.training.train_generator`.

    For a diffusion model conditioned on labels without ``label_source``,
    the label maps of the run's cached training data (``data.npz`` beside the
    checkpoint) are used.
    """
    path = Path(checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} not found")
    state = torch.load(path, map_location="cpu", weights_only=False)
    settings = ModelSettings(**state["settings"])
    model = build_model(settings)
    model.load_state_dict(state["model"])
    if isinstance(model, DiffusionGenerator) and settings.num_labels and label_source is None:
        cache = path.parent / "data.npz"
        if not cache.is_file():
            raise ValueError(f"the model needs label maps: pass `label_source` (no {cache} to take them from)")
        label_source = np.load(cache)["labels"]
    return GeneratorSource(model, label_source=label_source, batch_size=batch_size, name=str(path))
