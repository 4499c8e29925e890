"""DICOM series: write and read back with geometry and rescale kept."""

from __future__ import annotations

import numpy as np
import pytest

from medaug.core import Geometry, Image
from medaug.io import format_decimal_string, read_dicom_series, read_image, write_dicom_series


def _tilted_geometry() -> Geometry:
    angle = 0.3
    rotation = np.array(
        [[1, 0, 0], [0, np.cos(angle), -np.sin(angle)], [0, np.sin(angle), np.cos(angle)]]
    )
    return Geometry.from_sitk_parameters((0.5, 0.6, 2.0), (1.0, -2.0, 3.5), rotation.reshape(-1))


def test_series_round_trip_int16(tmp_path):
    values = np.arange(-1024, -1024 + 5 * 6 * 7, dtype=np.int16).reshape(1, 5, 6, 7)
    written = write_dicom_series(Image(values, geometry=_tilted_geometry()), tmp_path / "series", modality="CT")
    assert len(written) == 5

    back = read_dicom_series(tmp_path / "series")
    np.testing.assert_array_equal(back.numpy().astype(np.int64), values)
    # Positions and cosines are stored as 16-character decimal strings.
    assert back.geometry.isclose(_tilted_geometry(), tolerance=1e-6)
    assert read_image(tmp_path / "series").geometry.orientation == _tilted_geometry().orientation


def test_series_rejects_float(tmp_path):
    values = np.linspace(-1.5, 2.5, 3 * 4 * 4).reshape(1, 3, 4, 4).astype(np.float32)
    with pytest.raises(TypeError, match="convert to integers first"):
        write_dicom_series(Image(values), tmp_path / "float")
    assert not (tmp_path / "float").exists()


def test_series_uint16_beyond_int16(tmp_path):
    values = np.array([0, 40000, 65535, 7], np.uint16).reshape(1, 1, 2, 2).repeat(2, axis=1)
    write_dicom_series(Image(values.astype(np.int32)), tmp_path / "u16")
    np.testing.assert_array_equal(read_dicom_series(tmp_path / "u16").numpy(), values)


def test_series_refuses_existing_dicom(tmp_path):
    write_dicom_series(Image(np.zeros((1, 2, 3, 3), np.int16)), tmp_path / "s")
    with pytest.raises(FileExistsError, match="already contains DICOM files"):
        write_dicom_series(Image(np.zeros((1, 2, 3, 3), np.int16)), tmp_path / "s")


def test_series_rejects_2d(tmp_path):
    with pytest.raises(ValueError, match="unbatched 3-D grid field"):
        write_dicom_series(Image(np.zeros((1, 3, 3), np.int16)), tmp_path / "s")


def test_missing_series_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no DICOM series found"):
        read_dicom_series(tmp_path)


@pytest.mark.parametrize("value", [0.045781982421875, -1024.0, 1e-20, 123456789.123456, -0.000123456789])
def test_decimal_string_fits_sixteen_characters(value):
    text = format_decimal_string(value)
    assert len(text) <= 16
    assert float(text) == pytest.approx(value, rel=1e-9)
