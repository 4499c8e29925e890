"""Tests for medaug.data.report_images: SNR estimate, spacing and range from NIfTI, HDF5 and Zarr."""

from __future__ import annotations

import numpy as np
import pytest

from medaug.core import Geometry, Image
from medaug.data.report_images import (
    RAYLEIGH_FACTOR,
    aggregate_statistics,
    estimate_snr,
    image_statistics,
)
from medaug.io import write_image


def _magnitude_phantom(rng: np.random.Generator, amplitude: float, sigma: float) -> np.ndarray:
    """Magnitude of a complex image: a square of ``amplitude`` plus complex Gaussian noise of ``sigma``."""
    shape = (96, 96)
    signal = np.zeros(shape)
    signal[24:72, 24:72] = amplitude
    noise = rng.normal(0.0, sigma, shape) + 1j * rng.normal(0.0, sigma, shape)
    return np.abs(signal + noise)


def test_rayleigh_factor_closed_form():
    # Standard deviation of a Rayleigh variable with scale 1: sqrt((4 - pi) / 2).
    assert RAYLEIGH_FACTOR == pytest.approx(np.sqrt((4.0 - np.pi) / 2.0), rel=1e-12)


@pytest.mark.parametrize("amplitude", [20.0, 60.0])
def test_snr_estimate_matches_amplitude_over_sigma(amplitude):
    rng = np.random.default_rng(4)
    image = _magnitude_phantom(rng, amplitude, sigma=2.0)
    # 6912 background voxels give the noise SD to about 1 % (1 / sqrt(2 N)),
    # and the Rician foreground mean exceeds the amplitude by sigma^2 / (2 A)
    # (< 0.3 % here), so 5 % covers both with margin.
    assert estimate_snr(image) == pytest.approx(amplitude / 2.0, rel=0.05)


def test_snr_none_for_constant_image():
    assert estimate_snr(np.ones((8, 8))) is None
    assert estimate_snr(np.arange(10.0)) is None  # fewer than 16 voxels


def test_nifti_statistics(tmp_path):
    values = np.arange(2 * 3 * 4, dtype=np.float32).reshape(1, 2, 3, 4) - 5.0
    path = write_image(Image(values, geometry=Geometry(spacing=(2.0, 0.5, 0.25))), tmp_path / "x.nii.gz")
    [stats] = image_statistics(path)
    assert stats["spacing_mm"] == [0.25, 0.5, 2.0]  # file order x, y, z
    assert (stats["min"], stats["max"]) == (-5.0, 18.0)


def test_fastmri_statistics(tmp_path):
    h5py = pytest.importorskip("h5py")
    from medaug.data.writers.fastmri import ismrmrd_header

    target = np.zeros((2, 48, 32), np.float32)
    target[:, 10:20, 8:24] = 3.0
    path = tmp_path / "file000000.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("reconstruction_rss", data=target)
        # Spacing 2.0 mm along array axis H (rows) and 0.5 mm along W (columns).
        header = ismrmrd_header((48, 32), (48, 32), [2.0, 0.5], 2)
        handle.create_dataset("ismrmrd_header", data=np.bytes_(header.encode("utf-8")))
    [stats] = image_statistics(path)
    assert stats["spacing_mm"] == pytest.approx([0.5, 2.0])  # x (columns), y (rows)
    assert (stats["min"], stats["max"]) == (0.0, 3.0)


def test_zarr_statistics_images_only(tmp_path):
    zarr = pytest.importorskip("zarr")
    group = zarr.open_group(str(tmp_path / "sample_000000.zarr"), mode="w")
    image = group.create_array("image", shape=(1, 4, 6), dtype="float32", chunks=(1, 4, 6))
    image[...] = np.linspace(-1.0, 1.0, 24, dtype=np.float32).reshape(1, 4, 6)
    image.attrs.update({"kind": "Image", "spacing_mm": [3.0, 1.5]})  # array order (H, W)
    label = group.create_array("label", shape=(1, 4, 6), dtype="uint8", chunks=(1, 4, 6))
    label[...] = 7
    label.attrs.update({"kind": "LabelMap", "spacing_mm": [3.0, 1.5]})
    [stats] = image_statistics(tmp_path / "sample_000000.zarr")
    assert stats["spacing_mm"] == [1.5, 3.0]
    assert (stats["min"], stats["max"]) == pytest.approx((-1.0, 1.0))


def test_statistics_bad_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="image file not found"):
        image_statistics(tmp_path / "absent.nii.gz")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="cannot read image statistics of .*notes.txt"):
        image_statistics(tmp_path / "notes.txt")


def test_aggregate_spacings_and_range():
    stats = [
        {"snr": 10.0, "spacing_mm": [0.957, 0.957, 1.5], "min": -1024.0, "max": 2000.0},
        {"snr": None, "spacing_mm": [0.957, 0.957, 1.5], "min": -1000.0, "max": 3000.0},
        {"snr": 30.0, "spacing_mm": [1.0, 1.0, 1.0], "min": 0.0, "max": 1.0},
    ]
    summary = aggregate_statistics(stats)
    assert summary["images"] == 3
    assert summary["median_snr"] == 20.0  # the image without an SNR estimate is left out
    assert summary["spacings_mm"] == {"0.957 x 0.957 x 1.5": 2, "1 x 1 x 1": 1}
    assert (summary["finest_spacing_mm"], summary["coarsest_spacing_mm"]) == (0.957, 1.5)
    assert (summary["intensity_min"], summary["intensity_max"]) == (-1024.0, 3000.0)


def test_aggregate_empty_group():
    assert aggregate_statistics([]) == {"images": 0}
