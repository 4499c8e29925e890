import pytest
import torch

from medaug.data.config import parse_config
from medaug.data.errors import ConfigError
from medaug.data.pipeline import Pipeline


def source(**options):
    return {"seed": 3, "source": {"type": "phantom", **options}}


def test_shepp_logan_values():
    sample = Pipeline.from_config(parse_config(source(generator="shepp_logan", shape=[32, 32])))(0)
    # The modified Shepp-Logan phantom's outer ellipse has value 1.
    assert float(sample["image"].data.max()) == pytest.approx(1.0, abs=1e-6)


def test_procedural_head_labels_and_hounsfield():
    pytest.importorskip("medaug.phantoms.generators.head")
    config = source(generator="procedural_head", shape=[32, 32], contrast={"type": "hounsfield"})
    sample = Pipeline.from_config(parse_config(config))(0)
    assert sample["label"].data.shape == (1, 32, 32)
    # Air outside the head is -1000 HU by definition of the Hounsfield scale.
    assert float(sample["image"].data[0, 0, 0]) == pytest.approx(-1000.0, abs=1e-3)


def test_procedural_heads_differ_by_index():
    pytest.importorskip("medaug.phantoms.generators.head")
    pipeline = Pipeline.from_config(parse_config(source(generator="procedural_head", shape=[32, 32],
                                                        contrast={"type": "spin_echo"})))
    assert not torch.equal(pipeline(0)["image"].data, pipeline(1)["image"].data)


def test_variant_must_match_shape():
    with pytest.raises(ConfigError, match=r"`source.shape`: variant 'modified_2d' needs a 2-D `shape`"):
        parse_config(source(generator="shepp_logan", shape=[8, 8, 8]))


def test_unknown_variant():
    with pytest.raises(ConfigError, match=r"`source`: .*`variant` must be one of"):
        parse_config(source(generator="shepp_logan", variant="nope"))


@pytest.mark.parametrize("fov", [0, -240, float("nan"), [240, 0]])
def test_nonpositive_fov_rejected_at_load(fov):
    with pytest.raises(ConfigError, match=r"`source.fov_mm`: `fov_mm` must be finite and > 0 mm, got"):
        parse_config(source(generator="shepp_logan", shape=[16, 16], fov_mm=fov))


def test_fov_needs_one_value_per_axis():
    with pytest.raises(ConfigError, match=r"`source.fov_mm`: `fov_mm` must have 1 or 2 values .*got \[240.0, 240.0, 5.0\]"):
        parse_config(source(generator="shepp_logan", shape=[16, 16], fov_mm=[240, 240, 5]))


def test_fov_per_axis_accepted():
    sample = Pipeline.from_config(parse_config(source(generator="shepp_logan", shape=[16, 8], fov_mm=[240, 120])))(0)
    # 240 mm over 16 voxels and 120 mm over 8 voxels are both 15 mm spacing.
    assert tuple(sample["image"].geometry.spacing) == pytest.approx((15.0, 15.0))
