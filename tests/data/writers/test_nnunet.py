import json

import numpy as np
import pytest
import SimpleITK as sitk

from medaug.data.config import parse_config
from medaug.data.errors import GenerationError
from medaug.data.pipeline import Pipeline
from medaug.data.runner import generate_set
from tests.data.helpers import seg_config


@pytest.fixture(scope="module")
def seg_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("seg")
    config = seg_config(source={"type": "shapes", "shape": [6, 8, 10], "spacing_mm": [2.0, 1.0, 0.5]})
    generate_set(parse_config(config), out, count=2, progress=False)
    return out, config


def test_layout(seg_set):
    out, _ = seg_set
    assert sorted(p.name for p in (out / "imagesTr").iterdir()) == ["case_000000_0000.nii.gz", "case_000001_0000.nii.gz"]
    assert sorted(p.name for p in (out / "labelsTr").iterdir()) == ["case_000000.nii.gz", "case_000001.nii.gz"]


def test_dataset_json(seg_set):
    out, _ = seg_set
    dataset = json.loads((out / "dataset.json").read_text())
    assert dataset["channel_names"] == {"0": "image"}
    assert dataset["labels"] == {"background": 0, "a": 1, "b": 2}
    assert dataset["numTraining"] == 2
    assert dataset["file_ending"] == ".nii.gz"


def test_files_hold_sample_with_geometry(seg_set):
    out, config = seg_set
    sample = Pipeline.from_config(parse_config(config))(1)
    image = sitk.ReadImage(str(out / "imagesTr" / "case_000001_0000.nii.gz"))
    label = sitk.ReadImage(str(out / "labelsTr" / "case_000001.nii.gz"))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(image), sample["image"].numpy()[0])
    np.testing.assert_array_equal(sitk.GetArrayFromImage(label), sample["label"].numpy()[0])
    assert label.GetPixelID() == sitk.sitkUInt8
    # SimpleITK lists spacing in (x, y, z) order, the reverse of the array axes.
    assert image.GetSpacing() == pytest.approx((0.5, 1.0, 2.0))
    assert label.GetSpacing() == image.GetSpacing()
    assert label.GetOrigin() == image.GetOrigin()


def test_undeclared_label_rejected(tmp_path):
    config = seg_config(source={"type": "shapes", "shape": [8, 8], "num_classes": 3, "num_shapes": 12},
                        writer={"type": "nnunet", "labels": {"background": 0, "a": 1}})
    with pytest.raises(GenerationError, match=r"label values \[[23].*\] that `labels` does not list"):
        generate_set(parse_config(config), tmp_path, count=4, progress=False)


def test_channel_count_mismatch_rejected():
    from medaug.data.errors import ConfigError

    writer = {"type": "nnunet", "labels": {"background": 0, "a": 1, "b": 2}, "channel_names": ["T1", "T2"]}
    with pytest.raises(ConfigError, match=r"`writer.channel_names`: the image has 1 channels but 2"):
        parse_config(seg_config(writer=writer))


def test_labels_must_be_consecutive():
    from medaug.data.errors import ConfigError

    writer = {"type": "nnunet", "labels": {"background": 0, "a": 2}}
    with pytest.raises(ConfigError, match="consecutive from 0"):
        parse_config(seg_config(writer=writer))
