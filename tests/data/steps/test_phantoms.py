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


def pool_config(anatomies=4, **changes):
    options = {"generator": "procedural_head", "shape": [32, 32], "fov_mm": 240, "anatomies": anatomies,
               "contrast": {"type": "spin_echo", "tr_ms": 2500, "te_ms": 90}}
    return {**source(**options), **changes}


def test_pool_anatomy_equals_library_head():
    pytest.importorskip("medaug.phantoms.generators.head")
    import numpy as np

    import medaug.phantoms as phantoms
    from medaug.data.steps.phantoms import _POOL_TAG

    pipeline = Pipeline.from_config(parse_config(pool_config()))
    sample = pipeline(5)
    k = sample.metadata["source"]["anatomy"]
    rng = np.random.default_rng(np.random.SeedSequence(3, spawn_key=(_POOL_TAG, k)))
    expected = phantoms.procedural_head(rng, ndim=2).label_map((32, 32), 240.0, supersample=2)
    assert torch.equal(sample["label"].data, expected.data)


def test_pool_reuses_at_most_its_anatomies():
    pytest.importorskip("medaug.phantoms.generators.head")
    pipeline = Pipeline.from_config(parse_config(pool_config(anatomies=3)))
    samples = [pipeline(i) for i in range(24)]
    picked = {s.metadata["source"]["anatomy"] for s in samples}
    assert picked == {0, 1, 2}
    labels = {s["label"].data.numpy().tobytes() for s in samples}
    assert len(labels) == 3


def test_pool_sample_survives_pickling():
    pytest.importorskip("medaug.phantoms.generators.head")
    import pickle

    config = parse_config(pool_config())
    first = Pipeline.from_config(config)
    warm = [first(i) for i in range(8)]
    clone = pickle.loads(pickle.dumps(first))
    # Pickling drops the kept anatomies; the clone redraws them from the seed.
    assert clone.source._kept == {}
    for i in (7, 2, 5):
        assert torch.equal(clone(i)["image"].data, warm[i]["image"].data)
        assert torch.equal(Pipeline.from_config(config)(i)["label"].data, warm[i]["label"].data)


def test_pool_contrast_follows_sampled_factors():
    pytest.importorskip("medaug.phantoms.generators.head")
    config = pool_config(anatomies=1, sampling={"factors": {"te_ms": {"range": [10, 120]}}})
    pipeline = Pipeline.from_config(parse_config(config))
    a, b = pipeline(0), pipeline(1)
    assert torch.equal(a["label"].data, b["label"].data)
    assert a.metadata["factors"]["te_ms"] != b.metadata["factors"]["te_ms"]
    # Spin echo with a longer TE gives less signal wherever T2 is finite and PD > 0.
    longer, shorter = (a, b) if a.metadata["factors"]["te_ms"] > b.metadata["factors"]["te_ms"] else (b, a)
    tissue = shorter["image"].data > 0
    assert bool((longer["image"].data[tissue] < shorter["image"].data[tissue]).all())


@pytest.mark.parametrize("value", [0, -2, 1.5, "many"])
def test_pool_size_must_be_a_positive_int(value):
    with pytest.raises(ConfigError, match=r"`source.anatomies`"):
        parse_config(pool_config(anatomies=value))


def test_pool_rejects_anatomy_factors_naming_the_key():
    pytest.importorskip("medaug.phantoms.generators.head")
    config = pool_config(sampling={"factors": {"age_years": {"range": [20, 80]}}})
    with pytest.raises(ConfigError, match=r"`sampling.factors.age_years`: factor 'age_years' changes the anatomy"):
        parse_config(config)


def test_pool_too_large_for_memory_names_the_key():
    pytest.importorskip("medaug.phantoms.generators.head")
    config = pool_config(anatomies=100_000)
    config["source"]["shape"] = [256, 256]
    with pytest.raises(ConfigError, match=r"`source.anatomies`: a pool of 100000 anatomies .* GiB per process"):
        parse_config(config)


def test_fractional_pool_size_message_names_value_once():
    with pytest.raises(ConfigError) as error:
        parse_config(pool_config(anatomies=2.5))
    message = str(error.value)
    assert "fractional part; the value is 2.5" in message
    assert message.count("got") == 1
