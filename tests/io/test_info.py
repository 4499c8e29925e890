"""``medaug info``: summary of a file on the command line."""

import json

import numpy as np

from medaug.cli import main
from medaug.core import Geometry, Image
from medaug.io import write_dicom_series, write_image


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


def _two_series_folder(tmp_path):
    """Write a 3-slice MR series and a 2-slice CT series, then move both into one folder."""
    folder = tmp_path / "study"
    folder.mkdir()
    volumes = {
        "mr": (np.arange(3 * 4 * 5, dtype=np.int16).reshape(1, 3, 4, 5), "MR", "t2 axial"),
        "ct": (np.full((1, 2, 4, 5), -1000, dtype=np.int16), "CT", "head"),
    }
    for name, (values, modality, description) in volumes.items():
        written = write_dicom_series(Image(values), tmp_path / name, modality=modality, series_description=description)
        for path in written:
            path.rename(folder / f"{name}_{path.name}")
    return folder


def test_info_lists_series(tmp_path, capsys):
    folder = _two_series_folder(tmp_path)
    assert main(["info", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()

    assert lines[0] == f"path          {folder}"
    assert lines[1] == "DICOM series  2 in this folder; describe one with --series-id UID"
    rows = sorted(lines[2:], key=lambda line: "CT" not in line)
    assert len(rows) == 2
    assert "   2 files  CT " in rows[0]
    assert rows[0].endswith('"head"')
    assert "   3 files  MR " in rows[1]
    assert rows[1].endswith('"t2 axial"')


def test_info_series_id_describes_one(tmp_path, capsys):
    folder = _two_series_folder(tmp_path)
    assert main(["info", "--json", str(folder)]) == 0
    series = json.loads(capsys.readouterr().out)["series"]
    ct_uid = next(entry["series_id"] for entry in series if entry["modality"] == "CT")

    assert main(["info", "--json", "--series-id", ct_uid, str(folder)]) == 0
    info = json.loads(capsys.readouterr().out)

    assert info["size_xyz"] == [5, 4, 2]
    assert (info["min"], info["max"]) == (-1000, -1000)


def test_info_unknown_series_id(tmp_path, capsys):
    folder = _two_series_folder(tmp_path)
    assert main(["info", "--series-id", "1.2.3", str(folder)]) == 2
    assert "`series_id` '1.2.3' not found in" in capsys.readouterr().err


def test_info_series_id_needs_folder(tmp_path, capsys):
    path = write_image(Image(np.zeros((1, 2, 2, 2), np.float32)), tmp_path / "x.nii.gz")
    assert main(["info", "--series-id", "1.2.3", str(path)]) == 2
    assert "`--series-id` chooses a series in a DICOM folder, but" in capsys.readouterr().err


def test_info_text_starts_with_path(tmp_path, capsys):
    path = write_image(Image(np.zeros((1, 2, 2, 2), np.float32)), tmp_path / "x.nii.gz")
    assert main(["info", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"path          {path}"
