"""``medaug info``: summary of a file on the command line."""

import json

import numpy as np

from medaug.cli import main
from medaug.core import Geometry, Image
from medaug.io import write_image


def test_info_json_reports_geometry_and_range(tmp_path, capsys):
    values = np.arange(2 * 3 * 4, dtype=np.int16).reshape(1, 2, 3, 4) - 5
    geometry = Geometry(spacing=(2.0, 0.5, 0.25), origin=(1.0, 2.0, 3.0))
    path = write_image(Image(values, geometry=geometry), tmp_path / "x.nii.gz")

    assert main(["info", "--json", str(path)]) == 0
    info = json.loads(capsys.readouterr().out)

    assert info["size_xyz"] == [4, 3, 2]
    assert info["spacing_mm_xyz"] == [0.25, 0.5, 2.0]
    assert info["dtype"] == "int16"
    assert info["min"] == -5
    assert info["max"] == 18
    assert info["percentiles"]["p50"] == np.percentile(values, 50)


def test_info_text_lists_orientation(tmp_path, capsys):
    path = write_image(Image(np.zeros((1, 2, 2, 2), np.float32)), tmp_path / "x.mha")
    assert main(["info", str(path)]) == 0
    assert "orientation   LPS" in capsys.readouterr().out


def test_info_missing_file_exit_code(capsys):
    assert main(["info", "/no/such.nii"]) == 2
    assert "image file not found" in capsys.readouterr().err
