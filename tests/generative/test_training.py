"""Training loop and ``medaug train-generator``: checkpoints, resume, loss log, samples."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

from medaug.cli import main
from medaug.generative.sampling import load_generator
from medaug.generative.training import TrainConfig, load_train_config, train_generator


def _config(tmp_path, steps: int, output: str = "run", kind: str = "vae", labels: bool = False) -> TrainConfig:
    rng = np.random.default_rng(0)
    images, masks = tmp_path / "images", tmp_path / "labels"
    if not images.exists():
        images.mkdir()
        masks.mkdir()
        for index in range(6):
            np.save(images / f"img{index}.npy", rng.random((16, 16)).astype(np.float32))
            np.save(masks / f"img{index}.npy", (rng.random((16, 16)) > 0.5).astype(np.uint8))
    return TrainConfig.model_validate({
        "output": str(tmp_path / output),
        "model": {"kind": kind, "image_size": [16, 16], "channels": [8, 8], "num_train_timesteps": 20,
                  "sampling_steps": 2, "condition_on_labels": labels},
        "data": {"source": "folder", "folder": str(images), "label_folder": str(masks) if labels else None},
        "training": {"steps": steps, "batch_size": 2, "checkpoint_every": 2, "log_every": 1, "num_threads": 1},
    })


def test_resume_equals_uninterrupted(tmp_path):
    straight = train_generator(_config(tmp_path, 4, "straight"), progress=False)
    train_generator(_config(tmp_path, 2, "resumed"), progress=False)
    resumed = train_generator(_config(tmp_path, 4, "resumed"), resume=True, progress=False)
    a = torch.load(straight, weights_only=False)
    b = torch.load(resumed, weights_only=False)
    assert a["step"] == b["step"] == 4
    for key in a["model"]:
        torch.testing.assert_close(a["model"][key], b["model"][key], rtol=0, atol=0)
    log = (tmp_path / "resumed" / "loss.csv").read_text().splitlines()
    assert log[0] == "step,loss,elapsed_s"
    assert [int(line.split(",")[0]) for line in log[1:]] == [1, 2, 3, 4]


def test_existing_checkpoint_needs_resume(tmp_path):
    config = _config(tmp_path, 1)
    train_generator(config, progress=False)
    with pytest.raises(FileExistsError, match="pass resume=True"):
        train_generator(config, progress=False)


def test_conditioned_diffusion_checkpoint_samples_pairs(tmp_path):
    checkpoint = train_generator(_config(tmp_path, 1, kind="ddpm", labels=True), progress=False)
    source = load_generator(checkpoint)
    images, labels = source.sample_arrays(2, 0)
    training_labels = np.load(tmp_path / "run" / "data.npz")["labels"]
    assert images.shape == labels.shape == (2, 16, 16)
    assert any(np.array_equal(labels[0], maps) for maps in training_labels)


def test_cli_trains_and_writes_samples(tmp_path):
    config = _config(tmp_path, 2)
    path = tmp_path / "config.yaml"
    raw = config.model_dump()
    raw["output"] = "cli_run"
    path.write_text(yaml.safe_dump(raw))
    assert load_train_config(path).output == str(tmp_path / "cli_run")
    status = main(["train-generator", str(path), "--samples", "3", "--no-progress"])
    assert status == 0
    assert len(list((tmp_path / "cli_run" / "samples").glob("sample_*.npy"))) == 3
    assert (tmp_path / "cli_run" / "checkpoint.pt").is_file()


def test_bad_config(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("output: x\nmodel: {kind: gan}\n")
    with pytest.raises(ValueError, match="invalid training config"):
        load_train_config(path)
    assert main(["train-generator", str(path)]) == 2
    assert "invalid training config" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="not found"):
        load_train_config(tmp_path / "absent.yaml")
