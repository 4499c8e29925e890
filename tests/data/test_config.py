import textwrap

import pytest

from medaug.data.config import load_config, parse_config
from medaug.data.errors import ConfigError
from tests.data.helpers import mri_config, seg_config


def write(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_valid_config_defaults():
    config = parse_config(seg_config())
    assert config.seed == 11
    assert config.writer.type == "nnunet"
    assert config.simulation == ()


def test_unknown_top_level_key_names_line(tmp_path):
    path = write(tmp_path, """\
        seed: 1
        source: {type: shapes}
        simulaton: []
        """)
    with pytest.raises(ConfigError, match=r"config\.yaml:3: `simulaton`: unknown key; did you mean 'simulation'\?"):
        load_config(path)


def test_unknown_step_key_names_line(tmp_path):
    path = write(tmp_path, """\
        seed: 1
        source:
          type: shapes
          num_clases: 3
        """)
    with pytest.raises(ConfigError, match=r":4: `source.num_clases`: unknown key; did you mean 'num_classes'"):
        load_config(path)


def test_wrong_type_names_key(tmp_path):
    path = write(tmp_path, """\
        seed: one
        source: {type: shapes}
        """)
    with pytest.raises(ConfigError, match=r":1: `seed`: .*valid integer.*'one'"):
        load_config(path)


def test_unknown_step_type_suggests(tmp_path):
    path = write(tmp_path, """\
        source: {type: shape}
        """)
    with pytest.raises(ConfigError, match=r":1: `source.type`: unknown source type 'shape'; did you mean 'shapes'"):
        load_config(path)


def test_missing_file_names_key(tmp_path):
    path = write(tmp_path, """\
        source:
          type: images
          items:
            - {image: absent.nii.gz}
        """)
    with pytest.raises(ConfigError, match=r":4: `source.items\[0\].image`: .*file not found"):
        load_config(path)


def test_impossible_shape_names_key(tmp_path):
    path = write(tmp_path, """\
        source:
          type: shapes
          shape: [0, 16]
        """)
    with pytest.raises(ConfigError, match=r":3: `source.shape`: .*>= 4 voxels, got \[0, 16\]"):
        load_config(path)


def test_writer_needs_kspace_names_key(tmp_path):
    path = write(tmp_path, """\
        source: {type: shapes}
        writer:
          type: fastmri
        """)
    with pytest.raises(ConfigError, match=r":2: `writer.kspace_field`: the pipeline produces no KSpace field 'kspace'"):
        load_config(path)


def test_step_rejects_3d_input():
    data = mri_config(source={"type": "shapes", "shape": [8, 8, 8]})
    with pytest.raises(ConfigError, match=r"`simulation\[0\].coils`: needs a 2-D image"):
        parse_config(data)


def test_output_of_absent_field():
    with pytest.raises(ConfigError, match=r"`outputs.kspace`: the pipeline produces no field 'kspace'"):
        parse_config(seg_config(outputs={"kspace": None}))


def test_bad_output_dtype():
    with pytest.raises(ConfigError, match=r"`outputs`: .*dtype of output 'image' must be one of"):
        parse_config(seg_config(outputs={"image": "float8"}))


def test_nnunet_labels_need_background():
    writer = {"type": "nnunet", "labels": {"a": 1, "b": 2}}
    with pytest.raises(ConfigError, match=r"`writer.labels`: .*'background' to 0"):
        parse_config(seg_config(writer=writer))


def test_several_issues_reported_together():
    data = seg_config(source={"type": "shapes", "shape": [2, 2]}, writer={"type": "nosuch"})
    with pytest.raises(ConfigError, match=r"2 problems") as info:
        parse_config(data)
    assert [i.path for i in info.value.issues] == [("source", "shape"), ("writer", "type")]


def test_transform_step_option_error_names_key(tmp_path):
    pytest.importorskip("medaug.transforms")
    path = write(tmp_path, """\
        source: {type: shapes}
        augmentation:
          - type: RandomAffine
            scale_range: -2
        """)
    with pytest.raises(ConfigError, match=r":4: `augmentation\[0\].scale_range`"):
        load_config(path)


def test_transform_step_unknown_option(tmp_path):
    pytest.importorskip("medaug.transforms")
    path = write(tmp_path, """\
        source: {type: shapes}
        augmentation:
          - {type: RandomFlip, axis: [x]}
        """)
    with pytest.raises(ConfigError, match=r":3: `augmentation\[0\].axis`: unknown option of RandomFlip; did you mean 'axes'"):
        load_config(path)


def test_hash_ignores_size():
    assert parse_config(seg_config(size=3)).config_hash() == parse_config(seg_config(size=9)).config_hash()


def test_hash_changes_with_seed():
    assert parse_config(seg_config(seed=1)).config_hash() != parse_config(seg_config(seed=2)).config_hash()


def test_round_trip_through_dict():
    config = parse_config(mri_config())
    again = parse_config(config.to_dict())
    assert again.config_hash() == config.config_hash()


def test_relative_paths_resolve_against_config(tmp_path):
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "a.nii.gz").write_bytes(b"")
    path = write(tmp_path, """\
        source: {type: images, folder: cases}
        """)
    config = load_config(path)
    items = config.source.resolved_items(config.context)
    assert items[0].image == tmp_path / "cases" / "a.nii.gz"


def test_not_a_mapping():
    with pytest.raises(ConfigError, match="config must be a mapping"):
        parse_config([1, 2])


def test_real_dtype_for_kspace_rejected(tmp_path):
    path = write(tmp_path, """\
        source: {type: shapes, shape: [16, 12]}
        simulation: [{type: test_fft}]
        outputs:
          kspace: float32
        """)
    with pytest.raises(ConfigError, match=r":4: `outputs.kspace`: 'kspace' is complex k-space and cannot be stored "
                                          r"as float32; use complex64 or complex128"):
        load_config(path)


def test_float_dtype_for_label_map_rejected():
    with pytest.raises(ConfigError, match=r"`outputs.label`: 'label' is a label map and needs an integer dtype"):
        parse_config(seg_config(outputs={"image": "float32", "label": "float32"}))


def test_union_error_reported_once(tmp_path):
    # `shape` accepts 2 or 3 axes; pydantic reports a scalar once per union member.
    path = write(tmp_path, """\
        source: {type: shapes, shape: 128}
        """)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert len(info.value.issues) == 1
    assert str(info.value).startswith("invalid config:\n")
    assert "problems" not in str(info.value)


def test_locate_names_file_and_line(tmp_path):
    path = write(tmp_path, """\
        source: {type: shapes, shape: [16, 12]}
        simulation:
          - type: test_fft
            coils: 2
        """)
    config = load_config(path)
    assert config.locate(("simulation", 0, "coils")) == f"{path}:4: `simulation[0].coils`"
    # keep_every is a default that the file does not spell out: the step's line stands in.
    assert config.locate(("simulation", 0, "keep_every")) == f"{path}:3: `simulation[0].keep_every`"
    assert config.with_overrides(seed=5).locate(("source",)) == f"{path}:1: `source`"
    assert parse_config(config.to_dict()).locate(("source",)) == "`source`"


@pytest.mark.parametrize("name", ["mri_reconstruction.yaml", "brain_segmentation.yaml", "lowdose_ct.yaml",
                                  "bone_segmentation_ct.yaml", "demo.yaml"])
def test_with_options_changes_named_keys(name):
    from pathlib import Path

    config = load_config(Path(__file__).resolve().parents[2] / "examples" / "configs" / name)
    assert config.with_options({}).config_hash() == config.config_hash()
    changed = config.with_options({"source": {"supersample": 3}})
    assert changed.source.supersample == 3
    assert changed.source.model_dump(exclude={"supersample"}) == config.source.model_dump(exclude={"supersample"})
    with pytest.raises(ConfigError, match=r"`source.supersample`"):
        config.with_options({"source": {"supersample": 0}})


def test_with_options_error_names_the_file():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "configs" / "demo.yaml"
    with pytest.raises(ConfigError, match=r"demo\.yaml \(with options\): `source.supersample`"):
        load_config(path).with_options({"source": {"supersample": 0}})
