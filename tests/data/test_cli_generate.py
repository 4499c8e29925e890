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


def test_failed_first_sample_writes_nothing(tmp_path, caplog):
    data = seg_config(source={"type": "shapes", "shape": [8, 8], "num_classes": 3, "num_shapes": 12},
                      writer={"type": "nnunet", "labels": {"background": 0, "a": 1}})
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "o"
    assert main(["generate", str(path), "--out", str(out), "-n", "4", "--no-progress"]) == 1
    assert "sample 0 failed in" in caplog.text
    assert "`writer` (nnunet)" in caplog.text
    assert "nothing was written" in caplog.text
    assert "rerun the same command to resume" not in caplog.text
    assert not out.exists()

    data["writer"]["labels"] = {"background": 0, "a": 1, "b": 2, "c": 3}
    path.write_text(yaml.safe_dump(data))
    assert main(["generate", str(path), "--out", str(out), "-n", "4", "--no-progress"]) == 0


def test_failed_later_sample_names_next_step(tmp_path, caplog):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(seg_config(simulation=[{"type": "test_fail", "at": 2}])))
    assert main(["generate", str(path), "--out", str(tmp_path / "o"), "--no-progress"]) == 1
    assert "sample 2 failed in" in caplog.text
    assert "the 2 finished samples in" in caplog.text
    assert "write to a new --out" in caplog.text


def test_disk_error_suggests_resume(tmp_path, caplog):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(seg_config(simulation=[{"type": "test_fail", "at": 1, "error": "disk"}])))
    assert main(["generate", str(path), "--out", str(tmp_path / "o"), "--no-progress"]) == 1
    assert "finished samples are kept, rerun the same command to resume" in caplog.text


def test_bad_config_creates_no_folder(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(seg_config(outputs={"image": "float32", "label": "float32"})))
    out = tmp_path / "o"
    assert main(["generate", str(path), "--out", str(out)]) == 2
    assert "`outputs.label`: 'label' is a label map" in capsys.readouterr().err
    assert not out.exists()


def test_smaller_count_rejected(config_path, tmp_path, capsys):
    out = tmp_path / "set"
    assert main(["generate", str(config_path), "--out", str(out), "-n", "3", "--no-progress"]) == 0
    assert main(["generate", str(config_path), "--out", str(out), "-n", "2", "--no-progress"]) == 2
    assert "already contains 3 finished samples" in capsys.readouterr().err
    assert read_manifest(out)["count"] == 3
    assert main(["generate", str(config_path), "--out", str(out), "--verify"]) == 0


def test_verify_reports_unlisted_and_missing(config_path, tmp_path, caplog):
    out = tmp_path / "set"
    assert main(["generate", str(config_path), "--out", str(out), "-n", "2", "--no-progress"]) == 0
    (out / "imagesTr" / "case_000007_0000.nii.gz").write_bytes(b"stray")
    (out / "labelsTr" / "case_000001.nii.gz").unlink()
    assert main(["generate", str(config_path), "--out", str(out), "--verify"]) == 1
    assert "labelsTr/case_000001.nii.gz: file not found" in caplog.text
    assert "not listed in the manifest: imagesTr/case_000007_0000.nii.gz" in caplog.text


@pytest.mark.parametrize(("option", "message"), [
    (["-n", "0"], "`-n/--count` must be >= 1, got 0"),
    (["--workers", "0"], "`--workers` must be >= 1, got 0"),
])
def test_bad_count_names_flag(config_path, tmp_path, capsys, option, message):
    assert main(["generate", str(config_path), "--out", str(tmp_path / "o"), *option]) == 2
    assert message in capsys.readouterr().err
