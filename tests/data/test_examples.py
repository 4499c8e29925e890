from pathlib import Path

import pytest
import torch

from medaug.data.config import load_config
from medaug.data.pipeline import Pipeline

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "examples" / "configs").glob("*.yaml"))
OURS = [c for c in CONFIGS if not c.name.startswith("generator_")]


@pytest.mark.parametrize("path", OURS, ids=[c.stem for c in OURS])
def test_example_config_validates(path):
    config = load_config(path)
    assert config.writer is not None
    assert config.fields_spec()


def test_segmentation_example_makes_binary_labels():
    pipeline = Pipeline.from_config(load_config(next(c for c in OURS if c.stem == "brain_segmentation")))
    sample = pipeline(0)
    assert sample["image"].data.shape == (1, 96, 96)
    assert set(sample["label"].labels) <= {0, 1}
    # RescalePercentiles maps the 0.5th and 99.5th percentiles to 0 and 1 (no clipping);
    # 0.05 allows for percentile interpolation differences on 9216 pixels.
    values = sample["image"].data.flatten()
    assert float(torch.quantile(values, 0.005)) == pytest.approx(0.0, abs=0.05)
    assert float(torch.quantile(values, 0.995)) == pytest.approx(1.0, abs=0.05)


def _train_segmentation():
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "examples" / "train_segmentation.py"
    spec = importlib.util.spec_from_file_location("train_segmentation", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_training_example_draws_heads_from_a_pool(tmp_path):
    pytest.importorskip("monai")
    module = _train_segmentation()
    results = module.run("brain", steps=2, batch_size=2, workers=0, data=tmp_path / "absent", out=tmp_path,
                         variants=("medaug",), anatomies=3)
    assert results["anatomies"] == 3
    assert 0.0 <= results["models"]["medaug"]["dice"] <= 1.0
    assert (tmp_path / "results.json").is_file()


def test_training_example_rejects_an_empty_pool(tmp_path):
    from medaug.data.errors import ConfigError

    module = _train_segmentation()
    with pytest.raises(ConfigError, match=r"`source.anatomies`"):
        module.run("brain", steps=1, batch_size=1, workers=0, data=tmp_path, out=tmp_path, anatomies=0)
