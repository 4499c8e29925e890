import pytest
import yaml

from medaug.cli import main
from tests.data.helpers import mri_config, seg_config

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_preview_with_augmentation(tmp_path):
    pytest.importorskip("medaug.transforms")
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(seg_config(augmentation=[{"type": "RandomFlip", "axes": ["x"]}])))
    out = tmp_path / "p.png"
    assert main(["preview", str(path), "--out", str(out), "-n", "2", "--augmentations", "2", "--dpi", "40"]) == 0
    assert out.read_bytes()[:8] == PNG_SIGNATURE


def test_preview_of_simulation(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(mri_config()))
    out = tmp_path / "sub" / "p.png"
    assert main(["preview", str(path), "--out", str(out), "-n", "1", "--dpi", "40"]) == 0
    assert out.read_bytes()[:8] == PNG_SIGNATURE


def test_preview_bad_count(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(mri_config()))
    assert main(["preview", str(path), "--out", str(tmp_path / "p.png"), "-n", "0"]) == 2
    assert "`--count` must be >= 1, got 0" in capsys.readouterr().err


def test_preview_help(capsys):
    with pytest.raises(SystemExit):
        main(["preview", "--help"])
    assert "dots per inch" in capsys.readouterr().out
