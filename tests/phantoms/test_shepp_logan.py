"""Shepp-Logan phantoms against scikit-image and their published tables."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from skimage.data import shepp_logan_phantom

from medaug.phantoms import SHEPP_LOGAN_VARIANTS, shepp_logan, shepp_logan_table


def _interior(image: np.ndarray) -> np.ndarray:
    """True where a pixel and its 8 neighbours share one value (not on an edge)."""
    quantised = np.round(image * 255.0)
    low = ndimage.minimum_filter(quantised, size=3)
    high = ndimage.maximum_filter(quantised, size=3)
    return low == high


def test_modified_2d_matches_scikit_image():
    reference = shepp_logan_phantom()
    image = shepp_logan("modified_2d", scale_mm=1.0).rasterize((400, 400), 2.0).numpy()[0]

    both_interior = _interior(reference) & _interior(image)

    # The reference is an 8-bit PNG, so its values are k/255: 0.3 is stored as
    # 76/255 = 0.298. Half a grey level (0.002) separates equal from different.
    # Edges and their 3x3 neighbourhoods cover about 6 % of the image.
    assert both_interior.mean() > 0.9
    assert np.abs(image - reference)[both_interior].max() < 1.0 / 255.0


def test_modified_2d_orientation_is_not_flipped():
    reference = shepp_logan_phantom()
    image = shepp_logan("modified_2d", scale_mm=1.0).rasterize((400, 400), 2.0).numpy()[0]
    flipped = image[::-1]

    interior = _interior(reference) & _interior(flipped)
    # Flipped upside down the phantom differs on many interior pixels.
    assert (np.abs(flipped - reference)[interior] > 0.05).mean() > 0.01


def test_modified_2d_values_inside_regions():
    phantom = shepp_logan("modified_2d", scale_mm=100.0)
    image = phantom.rasterize((200, 200), 200.0).numpy()[0]

    # Pixel (row, col) sits at x = col - 100, y_LPS = row - 100 (mm); the
    # table's y axis points up, so y_table = -(row - 100) / 100.
    assert image[100, 100] == pytest.approx(0.2, abs=1e-6)  # interior
    assert image[100 - 35, 100] == pytest.approx(0.3, abs=1e-6)  # ellipse e at y = +0.35
    assert image[100, 100 + 22] == pytest.approx(0.0, abs=1e-6)  # dark ellipse c at x = +0.22
    assert image[100, 100 + 67] == pytest.approx(1.0, abs=1e-6)  # outer rim
    assert image[0, 0] == 0.0


def test_original_2d_values():
    image = shepp_logan("original_2d", scale_mm=100.0).rasterize((200, 200), 200.0).numpy()[0]

    # Published grey levels: rim 2, interior 2 - 0.98 = 1.02, e adds 0.01.
    assert image[100, 167] == pytest.approx(2.0, abs=1e-6)
    assert image[100, 100] == pytest.approx(1.02, abs=1e-6)
    assert image[65, 100] == pytest.approx(1.03, abs=1e-6)


@pytest.mark.parametrize("variant", SHEPP_LOGAN_VARIANTS)
def test_tables_have_source_and_ten_ellipses(variant):
    table = shepp_logan_table(variant)

    assert len(table["ellipses"]) == 10
    assert len(table["reference"]) > 40
    assert all(len(row) == len(table["columns"]) for row in table["ellipses"])


def test_kak_slaney_3d_central_values():
    phantom = shepp_logan("kak_slaney_3d", scale_mm=50.0)
    volume = phantom.rasterize((50, 50, 50), 100.0).numpy()[0]

    # Centre: ellipsoids a and b only (2 - 0.98). Ellipsoid f at (0, 0.1, -0.25)
    # adds 0.02: y_LPS = -5 mm, z = -12.5 mm -> index (25 - 12.5, 25 - 5, 25).
    assert volume[25, 25, 25] == pytest.approx(1.02, abs=1e-6)
    assert volume[25 - 12, 20, 25] == pytest.approx(1.04, abs=1e-6)


def test_modified_3d_matches_sigpy_convention_at_centre_slice():
    phantom = shepp_logan("modified_3d", scale_mm=64.0)
    volume = phantom.rasterize((64, 128, 128), (128.0, 128.0, 128.0)).numpy()[0]
    slice_2d = shepp_logan("modified_2d", scale_mm=64.0).rasterize((128, 128), 128.0).numpy()[0]

    # The z = 0 slice of the modified 3D phantom cuts the big ellipsoids
    # through their middle, so away from ellipses c and d (turned 8 and 28
    # degrees instead of 18, and cut at other heights) it equals the 2D
    # modified phantom on most pixels.
    middle = volume[32]
    assert (np.abs(middle - slice_2d) < 1e-6).mean() > 0.9


def test_bad_variant_and_scale():
    with pytest.raises(ValueError, match="`variant` must be one of"):
        shepp_logan("forbild")
    with pytest.raises(ValueError, match="`scale_mm` must be a finite number > 0"):
        shepp_logan("modified_2d", scale_mm=-1.0)
