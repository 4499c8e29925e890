"""``medaug evaluate`` on folders: JSON and PNG output, exit status, named errors."""

from __future__ import annotations

import json

import numpy as np

from medaug.cli import main


def _write(folder, images, prefix):
    folder.mkdir()
    for index, image in enumerate(images):
        np.save(folder / f"{prefix}{index // 2:03d}_slice{index % 2}.npy", image.astype(np.float32))


def test_evaluate_writes_report_and_flags_copies(tmp_path, heads):
    rng = np.random.default_rng(4)
    train, _ = heads(12, rng)
    real, _ = heads(12, rng)
    _write(tmp_path / "train", train, "p")
    _write(tmp_path / "real", real, "q")
    _write(tmp_path / "synthetic", train[:8] + rng.normal(0, 0.02, train[:8].shape), "s")

    status = main([
        "evaluate", "--real", str(tmp_path / "real"), "--synthetic", str(tmp_path / "synthetic"),
        "--train", str(tmp_path / "train"), "--out", str(tmp_path / "report"),
        "--patient-pattern", r"^(?P<patient>[pq]\d+)_", "--membership-alpha", "0.01",
    ])

    assert status == 1
    report = json.loads((tmp_path / "report" / "evaluation.json").read_text())
    assert report["privacy"]["memorising"] is True
    assert report["privacy"]["copy_detection"]["flagged_fraction"] == 1.0
    assert report["privacy"]["membership_inference"]["unit"] == "patients"
    assert report["privacy"]["membership_inference"]["members"] == 6
    assert report["privacy"]["membership_alpha"] == 0.01
    assert "copies" in report["privacy"]["memorising_criteria"]
    assert len(report["privacy"]["copy_detection"]["flagged_patients"]) == 4
    png = (tmp_path / "report" / "evaluation_flagged.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_empty_folder_is_an_error(tmp_path, capsys):
    for name in ("real", "synthetic", "train"):
        (tmp_path / name).mkdir()
    status = main([
        "evaluate", "--real", str(tmp_path / "real"), "--synthetic", str(tmp_path / "synthetic"),
        "--train", str(tmp_path / "train"),
    ])
    assert status == 2
    assert "contains no image files" in capsys.readouterr().err
