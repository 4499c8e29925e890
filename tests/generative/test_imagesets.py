"""Reading and validating image sets from arrays and folders."""

from __future__ import annotations

import numpy as np
import pytest

from medaug.generative.errors import (
    EmptyImageSetError,
    ImageShapeMismatchError,
    NonFiniteImageError,
    TooFewImagesError,
)
from medaug.generative.imagesets import as_image_set, check_comparable, read_image_folder


def _write_folder(folder, rng, count=3, shape=(8, 8)):
    import SimpleITK as sitk
    from PIL import Image as PILImage

    folder.mkdir()
    arrays = []
    for index in range(count):
        array = rng.integers(0, 255, size=shape).astype(np.uint8)
        arrays.append(array)
        if index % 3 == 0:
            np.save(folder / f"p{index // 2}_img{index}.npy", array)
        elif index % 3 == 1:
            PILImage.fromarray(array).save(folder / f"p{index // 2}_img{index}.png")
        else:
            sitk.WriteImage(sitk.GetImageFromArray(array), str(folder / f"p{index // 2}_img{index}.nii.gz"))
    return arrays


def test_read_folder_all_formats(tmp_path, rng):
    arrays = _write_folder(tmp_path / "set", rng, count=6)
    images = read_image_folder(tmp_path / "set", patient_pattern=r"^(?P<patient>p\d+)_")
    assert len(images) == 6
    assert images.images.dtype == np.float64
    by_name = dict(zip(images.names, images.images))
    for index, array in enumerate(arrays):
        name = next(n for n in by_name if f"img{index}." in n)
        np.testing.assert_array_equal(by_name[name], array)
    assert images.patients.count("p0") == 2


def test_as_image_set_drops_channel_axis(rng):
    images = as_image_set(rng.random((3, 1, 8, 8)))
    assert images.spatial_shape == (8, 8)


def test_empty_folder_raises(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyImageSetError, match="contains no image files"):
        read_image_folder(tmp_path / "empty")


def test_missing_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        read_image_folder(tmp_path / "absent")


def test_single_image_raises(tmp_path, rng):
    _write_folder(tmp_path / "one", rng, count=1)
    with pytest.raises(TooFewImagesError, match="at least 2 images, got 1"):
        read_image_folder(tmp_path / "one")


def test_mismatched_sizes_raise(rng):
    with pytest.raises(ImageShapeMismatchError, match="must share one shape"):
        as_image_set([rng.random((8, 8)), rng.random((8, 9))])
    a, b = as_image_set(rng.random((2, 8, 8))), as_image_set(rng.random((2, 9, 9)))
    with pytest.raises(ImageShapeMismatchError, match="to be compared"):
        check_comparable(("a", a), ("b", b))


def test_nan_raises(rng):
    images = rng.random((3, 8, 8))
    images[1, 2, 2] = np.nan
    with pytest.raises(NonFiniteImageError, match=r"1 image\(s\) with NaN"):
        as_image_set(images)


def test_bad_pattern_raises(tmp_path, rng):
    _write_folder(tmp_path / "set", rng, count=2)
    with pytest.raises(ValueError, match="named group 'patient'"):
        read_image_folder(tmp_path / "set", patient_pattern=r"p\d+")
    with pytest.raises(ValueError, match="does not match file name"):
        read_image_folder(tmp_path / "set", patient_pattern=r"^(?P<patient>sub-\d+)")


def test_bad_types_raise():
    with pytest.raises(TypeError, match="real numeric arrays"):
        as_image_set(np.zeros((2, 4, 4), complex))
    with pytest.raises(EmptyImageSetError, match="contains no images"):
        as_image_set([])
