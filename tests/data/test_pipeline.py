import numpy as np
import pytest
import torch

from medaug.core.fields import Image, LabelMap
from medaug.data.config import parse_config
from medaug.data.pipeline import Pipeline, cast_field, stage_rng
from tests.data.helpers import mri_config, seg_config


def build(data):
    return Pipeline.from_config(parse_config(data))


def assert_same(a, b):
    assert sorted(a) == sorted(b)
    for name in a:
        assert torch.equal(a[name].data, b[name].data), name


def test_sample_depends_only_on_index():
    pipeline = build(seg_config())
    forward = [pipeline(i) for i in range(3)]
    backward = [pipeline(i) for i in reversed(range(3))][::-1]
    for a, b in zip(forward, backward):
        assert_same(a, b)


def test_rebuilt_pipeline_gives_same_sample():
    assert_same(build(seg_config())(2), build(seg_config())(2))


def test_samples_differ_between_indices():
    pipeline = build(seg_config())
    assert not torch.equal(pipeline(0)["image"].data, pipeline(1)["image"].data)


def test_seed_changes_samples():
    a = build(seg_config(seed=1))(0)["image"].data
    b = build(seg_config(seed=2))(0)["image"].data
    assert not torch.equal(a, b)


def test_augmentation_varies_by_epoch_only():
    pytest.importorskip("medaug.transforms")
    config = seg_config(augmentation=[{"type": "RandomAffine", "rotation_range_deg": [-30, 30]}])
    pipeline = build(config)
    epoch0, epoch1 = pipeline.trace(0, epoch=0), pipeline.trace(0, epoch=1)
    assert torch.equal(epoch0["source"]["image"].data, epoch1["source"]["image"].data)
    assert not torch.equal(epoch0["output"]["image"].data, epoch1["output"]["image"].data)
    assert_same(pipeline(0, epoch=1), build(config)(0, epoch=1))


def test_vary_all_changes_source_per_epoch():
    pipeline = Pipeline.from_config(parse_config(seg_config()), vary="all")
    assert not torch.equal(pipeline(0, epoch=0)["image"].data, pipeline(0, epoch=1)["image"].data)


def test_adding_augmentation_keeps_source():
    pytest.importorskip("medaug.transforms")
    plain = build(seg_config())
    augmented = build(seg_config(augmentation=[{"type": "RandomFlip", "axes": ["x"]}]))
    assert torch.equal(plain.trace(1)["source"]["image"].data, augmented.trace(1)["source"]["image"].data)


def test_history_records_simulation():
    sample = build(mri_config())(0)
    assert [record.name for record in sample.history] == ["test_fft"]


def test_outputs_select_and_cast():
    sample = build(seg_config(outputs={"label": "int16"}, writer=None))(0)
    assert list(sample) == ["label"]
    assert sample["label"].data.dtype == torch.int16


def test_metadata_has_index_and_seed():
    sample = build(seg_config())(2)
    assert sample.metadata["index"] == 2
    assert sample.metadata["seed"] == 11


def test_stage_streams_are_independent():
    values = {stage_rng(0, 0, s, j).integers(1 << 62) for s in range(4) for j in range(3)}
    assert len(values) == 12


def test_bad_seed():
    with pytest.raises(ValueError, match="`seed` must be an int >= 0, got -1"):
        Pipeline(lambda rng, i, f: None, seed=-1)


def test_bad_source_type():
    with pytest.raises(TypeError, match="`source` must be callable"):
        Pipeline(3)


def image(values, dtype=np.float32):
    return Image(np.asarray(values, dtype=dtype).reshape(1, 1, -1))


def test_cast_float_to_uint8_exact():
    assert cast_field(image([0, 3, 255]), "uint8").data.tolist() == [[[0, 3, 255]]]


def test_cast_rejects_overflow():
    with pytest.raises(ValueError, match=r"values in \[-1, 2\], outside uint8's range"):
        cast_field(image([-1, 2]), "uint8")


def test_cast_rejects_fraction():
    with pytest.raises(ValueError, match="fractional values"):
        cast_field(image([0.5]), "int16")


def test_cast_rejects_float_overflow():
    with pytest.raises(ValueError, match="overflows float16"):
        cast_field(image([1e6]), "float16")


def test_cast_rejects_complex_to_real():
    from medaug.core.fields import KSpace

    field = KSpace(torch.ones(1, 2, 2, dtype=torch.complex64))
    with pytest.raises(ValueError, match="is complex and cannot be cast to float32"):
        cast_field(field, "float32")


def test_cast_label_to_float_rejected():
    with pytest.raises(ValueError, match="label map and must keep an integer dtype"):
        cast_field(LabelMap(np.zeros((1, 2, 2), np.uint8)), "float32")


def test_cast_none_keeps_field():
    field = image([1.0])
    assert cast_field(field, None) is field
