"""Training loop for the generators: YAML config, checkpoints, resume, loss log.

A run writes into its output folder:

* ``data.npz``: the training images and label maps (cached, so a resumed
  run trains on the same set);
* ``checkpoint.pt``: model, optimiser, step and config, replaced atomically
  (written to a temporary name, then renamed) every ``checkpoint_every``
  steps and at the end;
* ``loss.csv``: ``step,loss,elapsed_s`` every ``log_every`` steps.

Batch ``s`` is drawn from ``SeedSequence(seed, spawn_key=(EPOCH_TAG, s, 0))``
(see :func:`medaug.core.seeding.sample_rng`), so a resumed run continues
exactly as an uninterrupted one would.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pydantic
import torch

from medaug.core.seeding import sample_rng, spawn_seed
from medaug.generative.models import ModelSettings, build_model

__all__ = ["TrainConfig", "load_train_config", "train_generator", "load_training_data"]

logger = logging.getLogger(__name__)


class DataConfig(pydantic.BaseModel):
    """Source of the training images."""

    model_config = pydantic.ConfigDict(extra="forbid")

    source: Literal["phantom", "folder"] = "phantom"
    count: int = pydantic.Field(256, ge=1, description="phantoms drawn (source: phantom)")
    seed: int = pydantic.Field(0, ge=0)
    folder: str | None = pydantic.Field(None, description="folder of images (source: folder)")
    label_folder: str | None = pydantic.Field(None, description="label maps with the same file names")

    @pydantic.model_validator(mode="after")
    def _folder_given(self) -> DataConfig:
        if self.source == "folder" and not self.folder:
            raise ValueError("`data.folder` is required when `data.source` is 'folder'")
        return self


class TrainingConfig(pydantic.BaseModel):
    """Optimisation settings."""

    model_config = pydantic.ConfigDict(extra="forbid")

    steps: int = pydantic.Field(1000, ge=1)
    batch_size: int = pydantic.Field(16, ge=1)
    learning_rate: float = pydantic.Field(1e-3, gt=0)
    checkpoint_every: int = pydantic.Field(200, ge=1)
    log_every: int = pydantic.Field(20, ge=1)
    seed: int = pydantic.Field(0, ge=0)
    # One thread by default. On a 2-core VM shared with other jobs, two torch
    # threads per process used about 8 times the CPU time per step of one thread.
    num_threads: int = pydantic.Field(1, ge=1, description="torch CPU threads")


class ModelConfig(pydantic.BaseModel):
    """Architecture; see :class:`medaug.generative.models.ModelSettings`."""

    model_config = pydantic.ConfigDict(extra="forbid")

    kind: Literal["ddpm", "vae"] = "ddpm"
    spatial_dims: Literal[2, 3] = 2
    image_size: tuple[int, ...] = (64, 64)
    channels: tuple[int, ...] = (16, 32, 64)
    num_res_blocks: int = 1
    condition_on_labels: bool = False
    num_train_timesteps: int = 1000
    sampling_steps: int = 50
    latent_channels: int = 4
    kl_weight: float = 1e-3
    edge_weight: float = 0.0


class TrainConfig(pydantic.BaseModel):
    """A ``medaug train-generator`` config file."""

    model_config = pydantic.ConfigDict(extra="forbid")

    output: str = pydantic.Field(..., description="run folder for data, checkpoint and loss log")
    model: ModelConfig = ModelConfig()
    data: DataConfig = DataConfig()
    training: TrainingConfig = TrainingConfig()


def load_train_config(path: str | Path) -> TrainConfig:
    """Read and validate a YAML training config; relative ``output`` is taken from the file's folder."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"training config {str(path)!r} not found")
    with path.open() as handle:
        raw = yaml.safe_load(handle) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"training config {str(path)!r} must be a mapping, got {type(raw).__name__}")
    try:
        config = TrainConfig.model_validate(raw)
    except pydantic.ValidationError as error:
        raise ValueError(f"invalid training config {str(path)!r}:\n{error}") from None
    if not Path(config.output).is_absolute():
        config = config.model_copy(update={"output": str((path.parent / config.output).resolve())})
    return config


def model_settings(config: TrainConfig, num_labels: int) -> ModelSettings:
    """Return the :class:`ModelSettings` of a config, with the label count of its data."""
    fields = config.model.model_dump()
    conditioned = fields.pop("condition_on_labels")
    return ModelSettings(**fields, num_labels=num_labels if conditioned else 0)


def load_training_data(config: TrainConfig) -> tuple[np.ndarray, np.ndarray | None]:
    """Return training images ``(N, *spatial)`` in [0, 1] and label maps (or None)."""
    from medaug.generative.imagesets import read_image_folder
    from medaug.generative.training_data import phantom_pairs

    if config.data.source == "phantom":
        return phantom_pairs(config.data.count, config.data.seed, image_size=config.model.image_size)
    images = read_image_folder(config.data.folder).images
    low, high = float(images.min()), float(images.max())
    images = ((images - low) / (high - low if high > low else 1.0)).astype(np.float32)
    labels = None
    if config.data.label_folder:
        labels = read_image_folder(config.data.label_folder).images.astype(np.int64)
        if labels.shape != images.shape:
            raise ValueError(f"label maps {labels.shape} and images {images.shape} differ in shape")
    if images.shape[1:] != tuple(config.model.image_size):
        raise ValueError(
            f"images in {config.data.folder!r} have shape {images.shape[1:]}, but `model.image_size` "
            f"is {tuple(config.model.image_size)}"
        )
    return images, labels


def _atomic_save(payload: dict[str, Any], path: Path) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, temporary)
    os.replace(temporary, path)


def _cached_data(config: TrainConfig, folder: Path) -> tuple[np.ndarray, np.ndarray | None]:
    cache = folder / "data.npz"
    if cache.is_file():
        stored = np.load(cache)
        return stored["images"], (stored["labels"] if "labels" in stored.files else None)
    images, labels = load_training_data(config)
    arrays = {"images": images} if labels is None else {"images": images, "labels": labels}
    temporary = folder / "data.tmp.npz"
    np.savez_compressed(temporary, **arrays)
    os.replace(temporary, cache)
    return images, labels


def train_generator(config: TrainConfig, *, resume: bool = False, progress: bool = True) -> Path:
    """Train the generator that ``config`` specifies and return the checkpoint path.

    Parameters
    ----------
    config : TrainConfig
    resume : bool, keyword-only
        Continue from ``checkpoint.pt`` in the output folder. Without it an
        existing checkpoint raises ``FileExistsError``.
    progress : bool, keyword-only
        Show a progress bar (tqdm) on stderr.
    """
    folder = Path(config.output)
    folder.mkdir(parents=True, exist_ok=True)
    checkpoint_path = folder / "checkpoint.pt"
    if checkpoint_path.exists() and not resume:
        raise FileExistsError(
            f"{checkpoint_path} exists; pass resume=True (--resume) to continue it or choose another output"
        )
    torch.set_num_threads(config.training.num_threads)
    images, labels = _cached_data(config, folder)
    num_labels = int(labels.max()) + 1 if labels is not None else 0
    settings = model_settings(config, num_labels)
    if settings.num_labels and labels is None:
        raise ValueError("`model.condition_on_labels` needs label maps in the training data")
    # MONAI initialises weights from torch's global generator. Seeding it inside
    # fork_rng makes them follow the config seed and restores the caller's state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.training.seed)
        model = build_model(settings)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.training.learning_rate)
    start, elapsed = 0, 0.0
    if resume and checkpoint_path.exists():
        state = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimizer"])
        start, elapsed = int(state["step"]), float(state.get("elapsed_s", 0.0))
        logger.info("resuming %s at step %d", checkpoint_path, start)
    _trim_loss_log(folder / "loss.csv", start)
    _run_steps(config, model, optimiser, images, labels if settings.num_labels else None,
               start, elapsed, folder, settings, progress)
    return checkpoint_path


def _trim_loss_log(path: Path, step: int) -> None:
    """Keep only log rows up to ``step`` (rows after the last checkpoint are redone)."""
    if not path.exists():
        path.write_text("step,loss,elapsed_s\n")
        return
    lines = path.read_text().splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if int(line.split(",")[0]) <= step]
    path.write_text("\n".join(kept) + "\n")


def _run_steps(config, model, optimiser, images, labels, start, elapsed, folder, settings, progress) -> None:
    from tqdm import tqdm

    training = config.training
    image_tensor = torch.from_numpy(images)
    label_tensor = torch.from_numpy(labels.astype(np.int64)) if labels is not None else None
    began = time.perf_counter() - elapsed
    bar = tqdm(total=training.steps, initial=start, disable=not progress, desc="train-generator", unit="step")
    model.train()
    for step in range(start + 1, training.steps + 1):
        rng = sample_rng(training.seed, 0, epoch=step)
        index = torch.from_numpy(rng.integers(0, len(images), size=training.batch_size))
        generator = torch.Generator().manual_seed(spawn_seed(rng))
        loss = model.loss(image_tensor[index], None if label_tensor is None else label_tensor[index], generator)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        value = float(loss.detach())
        bar.update(1)
        if step % training.log_every == 0 or step == training.steps:
            seconds = time.perf_counter() - began
            with (folder / "loss.csv").open("a") as handle:
                handle.write(f"{step},{value:.6g},{seconds:.2f}\n")
            bar.set_postfix(loss=f"{value:.4f}")
            logger.debug("step %d loss %.5f", step, value)
        if step % training.checkpoint_every == 0 or step == training.steps:
            _atomic_save({
                "model": model.state_dict(),
                "optimizer": optimiser.state_dict(),
                "step": step,
                "elapsed_s": time.perf_counter() - began,
                "settings": dataclasses.asdict(settings),
                "config": config.model_dump(),
            }, folder / "checkpoint.pt")
    bar.close()
