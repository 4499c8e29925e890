import pytest
import torch

from medaug.data.config import parse_config
from medaug.data.errors import ConfigError
from medaug.data.pipeline import Pipeline


def test_label_to_image_step_paints_labels():
    pytest.importorskip("medaug.generative.label_to_image")
    config = parse_config({
        "seed": 1,
        "source": {"type": "shapes", "shape": [24, 24], "num_classes": 3},
        "simulation": [{"type": "RandomLabelToImage"}],
    })
    assert config.fields_spec()["image"].kind == "Image"
    sample = Pipeline.from_config(config)(0)
    image, label = sample["image"].data[0], sample["label"].data[0]
    # Each label is painted from its own Gaussian, so the class means differ.
    means = [float(image[label == value].mean()) for value in torch.unique(label)]
    assert len(set(round(m, 3) for m in means)) == len(means)


def test_generator_checkpoint_must_exist(tmp_path):
    with pytest.raises(ConfigError, match=r"`source.checkpoint`: file not found"):
        parse_config({"source": {"type": "generator", "checkpoint": "absent.pt"}}, base_dir=tmp_path)


def test_generator_source_draws_per_index(tmp_path):
    models = pytest.importorskip("medaug.generative.models")
    settings = models.ModelSettings(image_size=(8, 8), channels=(8, 8), sampling_steps=2)
    model = models.build_model(settings)
    checkpoint = tmp_path / "model.pt"
    torch.save({"settings": settings.__dict__ if hasattr(settings, "__dict__") else dict(settings),
                "model": model.state_dict()}, checkpoint)
    pipeline = Pipeline.from_config(parse_config({"seed": 0, "source": {"type": "generator", "checkpoint": "model.pt"}},
                                                 base_dir=tmp_path))
    first = pipeline(1)["image"].data
    assert first.shape == (1, 8, 8)
    assert torch.equal(first, pipeline(1)["image"].data)
    assert not torch.equal(first, pipeline(2)["image"].data)
