"""Tests for medaug.data.report_real: header factors, label-map skipping, contrast weighting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medaug.core import Geometry, Image
from medaug.data.report_real import (
    MAX_LABEL_VALUES,
    classify_weighting,
    default_real_policies,
    label_map_reason,
    read_acquisition_factors,
    scan_real_collection,
)
from medaug.io import write_image
from tests.conftest import shared_file


def _pydicom_file(name: str) -> Path:
    pydicom_data = pytest.importorskip("pydicom.data")
    return Path(pydicom_data.get_testdata_file(name, download=False))


def _write(path: Path, values: np.ndarray, spacing=(1.5, 0.8, 0.8)) -> Path:
    return write_image(Image(values[None], geometry=Geometry(spacing=spacing)), path)


@pytest.fixture
def ct_folder(tmp_path) -> Path:
    """A CT volume, its label map named as such, and an unnamed two-value mask."""
    rng = np.random.default_rng(0)
    ct = rng.integers(-1024, 1500, size=(4, 12, 12)).astype(np.int16)
    _write(tmp_path / "ct_head.nii.gz", ct)
    _write(tmp_path / "ct_head_labels.nii.gz", (ct > 0).astype(np.uint8) + (ct > 500))
    _write(tmp_path / "region.nii.gz", (ct > 0).astype(np.int16))
    return tmp_path


def test_ct_small_factors():
    factors = read_acquisition_factors(_pydicom_file("CT_small.dcm"))
    # Values from the header of pydicom's CT_small.dcm.
    assert factors["modality"] == "CT"
    assert factors["manufacturer"] == "GE MEDICAL SYSTEMS"
    assert factors["kvp"] == 120.0
    assert factors["slice_thickness_mm"] == 5.0
    assert factors["pixel_spacing_mm"] == pytest.approx([0.661468, 0.661468])
    assert factors["convolution_kernel"] == "STANDARD"


def test_mr_small_classified_t2():
    factors = read_acquisition_factors(_pydicom_file("MR_small.dcm"))
    # Values from the header of pydicom's MR_small.dcm: a spin echo with
    # TR 4000 ms and TE 240 ms, beyond the t2 profile's TE range (80-120 ms)
    # but long TR and long TE, so T2-weighted by the weighting rule.
    assert factors["modality"] == "MR"
    assert factors["manufacturer"] == "TOSHIBA_MEC"
    assert factors["pixel_spacing_mm"] == [0.3125, 0.3125]
    assert (factors["tr_ms"], factors["te_ms"]) == (4000.0, 240.0)
    assert factors["contrast"] == "t2"
    assert factors["contrast_match"] == "weighting rule"


def test_profile_match_preferred_over_weighting(tmp_path):
    (tmp_path / "t2.json").write_text('{"MagneticFieldStrength": 3, "RepetitionTime": 3.0, "EchoTime": 0.1}')
    values = np.random.default_rng(1).integers(0, 4000, size=(3, 10, 10)).astype(np.int16)
    factors = read_acquisition_factors(_write(tmp_path / "t2.nii.gz", values))
    # BIDS times are in seconds: TR 3000 ms, TE 100 ms lie inside the t2 profile.
    assert (factors["tr_ms"], factors["te_ms"]) == (3000.0, 100.0)
    assert factors["contrast"] == "t2"
    assert factors["contrast_match"] == "profile ranges"
    assert factors["modality"] == "MR"


@pytest.mark.parametrize(
    ("tr_ms", "te_ms", "ti_ms", "expected"),
    [
        (4000.0, 240.0, None, "t2"),  # long TR, long TE
        (1500.0, 80.0, None, "t2"),  # both thresholds inclusive
        (800.0, 30.0, None, "t1_se"),  # short TR, short TE
        (9000.0, 25.0, None, "pd"),  # long TR, short TE
        (12000.0, 150.0, 2500.0, "flair"),  # long TI, long TE
        (1000.0, 50.0, None, None),  # intermediate TR and TE
        (400.0, 100.0, None, None),  # short TR with long TE: mixed weighting
        (2000.0, 3.0, 150.0, None),  # short-TI inversion (STIR-like timing)
        (None, 100.0, None, None),
        (2000.0, None, None, None),
    ],
)
def test_classify_weighting_rule(tr_ms, te_ms, ti_ms, expected):
    assert classify_weighting(tr_ms, te_ms, ti_ms) == expected


@pytest.mark.parametrize(
    "name",
    ["ct_head_labels.nii.gz", "sub-01_dseg.nii.gz", "aparc+aseg.nii.gz", "brain_mask.nii.gz",
     "labelsTr/case_000.nii.gz", "masks/case_000.nii.gz", "AAL_atlas.nii.gz", "segmentation.nii.gz"],
)
def test_label_map_by_name(name):
    many = np.arange(1000, dtype=np.int16)
    assert "marks a label map" in label_map_reason(name, many)


@pytest.mark.parametrize(
    "name", ["t1_masked.nii.gz", "ct_head.nii.gz", "ch2.nii.gz", "segment_3.nii.gz", "study_labels/ct.nii.gz"]
)
def test_scan_names_not_label_maps(name):
    assert label_map_reason(name, np.arange(1000, dtype=np.int16)) is None


def test_label_map_by_distinct_values():
    few = np.arange(MAX_LABEL_VALUES, dtype=np.uint8)
    assert label_map_reason("scan.nii.gz", few) == (
        f"integer voxels with only {MAX_LABEL_VALUES} distinct values (at most {MAX_LABEL_VALUES})"
    )
    assert label_map_reason("scan.nii.gz", np.arange(MAX_LABEL_VALUES + 1, dtype=np.uint8)) is None


def test_float_image_never_label_map():
    assert label_map_reason("labels.nii.gz", np.array([0.0, 1.0, 2.0], np.float32)) is None


def test_scan_skips_label_maps(ct_folder):
    collection = scan_real_collection(ct_folder)
    assert [Path(r["path"]).name for r in collection.records] == ["ct_head.nii.gz"]
    assert sorted(Path(p).name for p in collection.skipped) == ["ct_head_labels.nii.gz", "region.nii.gz"]
    assert "name part 'labels'" in collection.skipped[str(ct_folder / "ct_head_labels.nii.gz")]
    assert "2 distinct values" in collection.skipped[str(ct_folder / "region.nii.gz")]


def test_read_label_map_rejected(ct_folder):
    with pytest.raises(ValueError, match="is a label map, not a scan: integer voxels and the name part"):
        read_acquisition_factors(ct_folder / "ct_head_labels.nii.gz")


def test_scan_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="real data folder or file not found"):
        scan_real_collection(tmp_path / "absent")


def test_shared_ct_head_folder_one_scan(shared_data):
    collection = scan_real_collection(shared_data / "ct_head")
    assert len(collection.records) == 1
    factors = collection.records[0]
    assert factors["modality"] == "CT"
    assert factors["pixel_spacing_mm"] == pytest.approx([0.957, 0.957], abs=1e-3)
    assert factors["slice_thickness_mm"] == pytest.approx(1.5)
    assert [Path(p).name for p in collection.skipped] == ["ct_head_labels.nii.gz"]


def test_shared_mri_brain_factors():
    factors = read_acquisition_factors(shared_file("mri_brain/ch2.nii.gz"))
    assert factors["modality"] is None  # uint8 intensities do not identify the modality
    assert factors["pixel_spacing_mm"] == [1.0, 1.0]
    assert factors["slice_thickness_mm"] == 1.0


def test_repeated_series_read_once():
    ct, mr = _pydicom_file("CT_small.dcm"), _pydicom_file("MR_small.dcm")
    collection = scan_real_collection([ct, mr, ct])
    assert [r["modality"] for r in collection.records] == ["CT", "MR"]
    assert collection.skipped == {}


def test_default_policies_cover_profiles():
    policies = default_real_policies()
    assert set(policies) == {"MR", "CT"}
    assert policies["MR"].strata == ("field_strength_t", "contrast")
    assert policies["CT"].strata == ("kvp", "slice_thickness_mm")
