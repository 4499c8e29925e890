"""Image I/O: geometry round trips on real files, orientation codes, bad input."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from medaug.core import Image, LabelMap, Sample
from medaug.io import read_image, read_sample, write_image, write_sample
from tests.conftest import shared_file


def _pydicom_file(name: str) -> Path:
    data = pytest.importorskip("pydicom.data")
    try:
        return Path(data.get_testdata_file(name, download=False))
    except Exception as error:  # pydicom raises various errors when a file is not bundled
        pytest.skip(f"pydicom test file {name} not available offline: {error}")


def _nibabel_file(name: str) -> Path:
    nibabel = pytest.importorskip("nibabel")
    path = Path(nibabel.__file__).parent / "tests" / "data" / name
    if not path.is_file():
        pytest.skip(f"nibabel test file {path} not installed")
    return path


def _nilearn_file(name: str) -> Path:
    nilearn = pytest.importorskip("nilearn")
    path = Path(nilearn.__file__).parent / "datasets" / "data" / name
    if not path.is_file():
        pytest.skip(f"nilearn data file {path} not installed")
    return path


def _real_files() -> list:
    return [
        pytest.param(lambda: _pydicom_file("CT_small.dcm"), id="pydicom-CT_small"),
        pytest.param(lambda: _pydicom_file("J2K_pixelrep_mismatch.dcm"), id="pydicom-tilted-CT"),
        pytest.param(lambda: _nibabel_file("anatomical.nii"), id="nibabel-big-endian-LAS"),
        pytest.param(
            lambda: _nilearn_file("mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"), id="nilearn-MNI-T1"
        ),
        pytest.param(lambda: shared_file("ct_head/ct_head.nii.gz"), id="shared-CT-head"),
    ]


def _sitk_reference(path: Path):
    image = sitk.ReadImage(str(path))
    return sitk.GetArrayFromImage(image), image


@pytest.mark.parametrize("locate", _real_files())
@pytest.mark.parametrize("extension", [".nii.gz", ".mha", ".nrrd"])
def test_real_file_round_trip(locate, extension, tmp_path):
    path = locate()
    reference_array, reference = _sitk_reference(path)

    field = read_image(path)
    written = write_image(Sample({"image": field})["image"], tmp_path / f"copy{extension}")
    back = read_image(written)

    np.testing.assert_array_equal(back.numpy()[0], reference_array)
    assert back.data.dtype == field.data.dtype
    # NIfTI stores spacing, origin and the direction quaternion in float32, so
    # geometry survives to about 1e-6 relative; MetaImage and NRRD store text
    # with full double precision.
    tolerance = 2e-5 if extension == ".nii.gz" else 1e-9
    np.testing.assert_allclose(back.geometry.spacing, tuple(reversed(reference.GetSpacing())), rtol=tolerance)
    np.testing.assert_allclose(back.geometry.origin, reference.GetOrigin(), atol=tolerance * 1e3)
    itk_direction = np.asarray(reference.GetDirection()).reshape(3, 3)
    np.testing.assert_allclose(back.geometry.direction_matrix[:, ::-1], itk_direction, atol=tolerance)


@pytest.mark.parametrize("locate", _real_files()[2:])
def test_orientation_matches_nibabel(locate):
    nibabel = pytest.importorskip("nibabel")
    path = locate()
    expected = "".join(nibabel.aff2axcodes(nibabel.load(str(path)).affine))
    assert read_image(path).geometry.orientation == expected


def test_dicom_rescale_gives_hounsfield_units():
    field = read_image(_pydicom_file("CT_small.dcm"))
    assert int(field.data.min()) == -896
    assert int(field.data.max()) == 1167


def test_tilted_dicom_direction_kept():
    pydicom = pytest.importorskip("pydicom")
    path = _pydicom_file("J2K_pixelrep_mismatch.dcm")
    row_cosine, column_cosine = np.split(np.asarray(pydicom.dcmread(path).ImageOrientationPatient, float), 2)
    geometry = read_image(path).geometry
    # Array axis 2 (W, columns of the slice) runs along the DICOM row cosine,
    # array axis 1 (H) along the column cosine.
    np.testing.assert_allclose(geometry.direction_matrix[:, 2], row_cosine, atol=1e-4)
    np.testing.assert_allclose(geometry.direction_matrix[:, 1], column_cosine, atol=1e-4)
    assert not np.allclose(geometry.direction_matrix, np.eye(3)[:, ::-1])


def test_big_endian_int16_read_without_overflow():
    path = _nibabel_file("anatomical.nii")
    nibabel = pytest.importorskip("nibabel")
    expected = np.asarray(nibabel.load(str(path)).dataobj)
    field = read_image(path)
    assert field.data.dtype.is_floating_point is False
    # nibabel returns (i, j, k); medaug stores array order (k, j, i).
    np.testing.assert_array_equal(field.numpy()[0], expected.transpose(2, 1, 0))


def test_int16_hounsfield_kept(tmp_path):
    values = np.array([[-1024, -1000, 0, 3071]], np.int16).reshape(1, 1, 2, 2)
    path = write_image(Image(values), tmp_path / "hu.nii.gz")
    back = read_image(path)
    assert str(back.data.dtype) == "torch.int16"
    np.testing.assert_array_equal(back.numpy(), values)


def test_label_read_rejects_fractional_values(tmp_path):
    image = sitk.GetImageFromArray(np.array([[0.0, 1.5], [2.0, 0.0]], np.float32))
    sitk.WriteImage(image, str(tmp_path / "labels.nii.gz"))
    with pytest.raises(ValueError, match="non-integer values"):
        read_image(tmp_path / "labels.nii.gz", label=True)


def test_label_read_converts_integral_floats(tmp_path):
    image = sitk.GetImageFromArray(np.array([[0.0, 1.0], [2.0, 0.0]], np.float32))
    sitk.WriteImage(image, str(tmp_path / "labels.nii.gz"))
    with pytest.warns(UserWarning, match="integral values"):
        labels = read_image(tmp_path / "labels.nii.gz", label=True)
    assert isinstance(labels, LabelMap)
    assert labels.labels == [0, 1, 2]


def test_missing_file_named():
    with pytest.raises(FileNotFoundError, match="image file not found: '/no/such/file.nii.gz'"):
        read_image("/no/such/file.nii.gz")


def test_unsupported_extension_named(tmp_path):
    path = tmp_path / "picture.jpg"
    path.write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"unsupported image file extension in .*picture\.jpg"):
        read_image(path)


def test_write_is_atomic_and_leaves_no_temporary(tmp_path):
    write_image(Image(np.zeros((1, 3, 4, 5), np.float32)), tmp_path / "a.nii.gz")
    assert sorted(os.listdir(tmp_path)) == ["a.nii.gz"]


def test_write_to_missing_folder_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="output folder does not exist"):
        write_image(Image(np.zeros((1, 3, 4), np.float32)), tmp_path / "missing" / "a.nii.gz")


def test_mhd_pair_written(tmp_path):
    write_image(Image(np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4)), tmp_path / "a.mhd")
    # Compressed MetaImage data go to a .zraw file beside the header.
    assert sorted(os.listdir(tmp_path)) == ["a.mhd", "a.zraw"]
    np.testing.assert_array_equal(read_image(tmp_path / "a.mhd").numpy().reshape(-1), np.arange(24))


def test_read_sample_pairs_image_and_label(tmp_path):
    write_image(Image(np.ones((1, 2, 3, 4), np.float32)), tmp_path / "t1.nii.gz")
    write_image(LabelMap(np.ones((1, 2, 3, 4), np.uint8)), tmp_path / "seg.nii.gz")
    sample = read_sample(tmp_path / "t1.nii.gz", tmp_path / "seg.nii.gz")
    assert isinstance(sample["label"], LabelMap)
    assert sample.spatial_shape == (2, 3, 4)
    written = write_sample(sample, tmp_path / "out")
    assert sorted(p.name for p in written.values()) == ["image.nii.gz", "label.nii.gz"]
