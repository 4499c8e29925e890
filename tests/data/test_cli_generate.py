import pytest
import yaml

from medaug.cli import main
from medaug.data.manifest import read_manifest
from tests.data.helpers import seg_config


@pytest.fixture
def config_path(tmp_path):
    path = tmp_path / "seg.yaml"
    path.write_text(yaml.safe_dump(seg_config()))
    return path


def test_generate_and_verify(config_path, tmp_path):
    out = tmp_path / "set"
    assert main(["generate", str(config_path), "--out", str(out), "-n", "2", "--no-progress"]) == 0
    assert read_manifest(out)["count"] == 2
    assert main(["generate", str(config_path), "--out", str(out), "--verify"]) == 0
    (out / "labelsTr" / "case_000000.nii.gz").write_bytes(b"broken")
    assert main(["generate", str(config_path), "--out", str(out), "--verify"]) == 1


def test_seed_override(config_path, tmp_path):
    assert main(["generate", str(config_path), "--out", str(tmp_path / "s"), "-n", "1", "--seed", "7",
                 "--no-progress"]) == 0
    assert read_manifest(tmp_path / "s")["seed"] == 7


def test_bad_config_exit_code(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("seed: 1\nsource: {type: shapes, shape: [2, 2]}\n")
    assert main(["generate", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "bad.yaml:2: `source.shape`" in capsys.readouterr().err


def test_help_states_units(capsys):
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    text = capsys.readouterr().out
    assert "--workers" in text
    assert "--scheduler" in text
    assert "SHA-256" in text


def test_failed_sample_exit_code(tmp_path, caplog):
    data = seg_config(source={"type": "shapes", "shape": [8, 8], "num_classes": 3, "num_shapes": 12},
                      writer={"type": "nnunet", "labels": {"background": 0, "a": 1}})
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["generate", str(path), "--out", str(tmp_path / "o"), "-n", "4", "--no-progress"]) == 1
    assert "rerun the same command to resume" in caplog.text
