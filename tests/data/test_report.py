"""Tests for medaug.data.report and `medaug report`: set coverage, real headers, empty strata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medaug.data.report import (
    compare_real,
    coverage_report,
    default_real_policies,
    read_acquisition_factors,
    scan_real_collection,
    summarise_factors,
    write_report,
)
from medaug.data.sampling import SamplingConfig, stratum_levels
from tests.conftest import shared_file

SAMPLING = {
    "mode": "stratified",
    "factors": {
        "field_strength_t": {"choices": [1.5, 3.0]},
        "contrast": {"choices": ["t2", "flair"]},
        "age_years": {"bands": [[20, 50], [50, 90]]},
    },
    "strata": ["field_strength_t", "contrast", "age_years"],
    "counts": 1,
}


@pytest.fixture(scope="module")
def written_set(tmp_path_factory) -> Path:
    from medaug.data.config import parse_config
    from medaug.data.runner import generate_set

    out = tmp_path_factory.mktemp("set")
    config = parse_config({
        "name": "coverage-test",
        "seed": 3,
        "size": 8,
        "source": {"type": "shapes", "shape": [16, 16], "num_classes": 1},
        "sampling": SAMPLING,
        "writer": {"type": "nnunet", "labels": {"background": 0, "foreground": 1}},
    })
    generate_set(config, out, progress=False)
    return out


def test_report_lists_every_factor_and_stratum(written_set):
    report = coverage_report(written_set)
    policy = SamplingConfig.model_validate(SAMPLING)
    for name in ("field_strength_t", "contrast", "age_years", "tr_ms", "te_ms", "ti_ms", "sex", "stratum"):
        assert name in report.factors
    assert list(report.strata) == stratum_levels(policy)
    assert set(report.strata.values()) == {1}
    assert report.requested == policy.stratum_counts()
    assert report.empty_strata == []
    assert report.outside_strata == 0


def test_report_image_statistics(written_set):
    report = coverage_report(written_set)
    everything = report.image_statistics["all"]
    assert everything["images"] == 8
    # The shapes source writes intensities in [0, 1] plus noise of SD 0.02 on a 1-unit grid.
    assert everything["finest_spacing_mm"] == pytest.approx(1.0)
    assert -0.2 < everything["intensity_min"] < everything["intensity_max"] < 1.2
    for label in report.strata:
        assert report.image_statistics[label]["images"] == 1


def test_write_report_files(written_set, tmp_path):
    paths = write_report(coverage_report(written_set), tmp_path)
    names = sorted(p.name for p in paths)
    assert names == ["coverage.json", "coverage.md", "coverage_factors.png", "coverage_strata.png"]
    for path in paths:
        assert path.stat().st_size > 0
    assert (tmp_path / "coverage.png").exists() is False
    assert json.loads((tmp_path / "coverage.json").read_text())["strata"]
    assert (tmp_path / "coverage_strata.png").read_bytes()[:4] == b"\x89PNG"


def test_empty_stratum_flagged(tmp_path):
    samples = [
        {"index": 0, "files": [], "parameters": {"factors": {"contrast": "t2", "age_years": 30.0}}},
        {"index": 1, "files": [], "parameters": {"factors": {"contrast": "t2", "age_years": 70.0}}},
        {"index": 2, "files": [], "parameters": {"factors": {"contrast": "flair", "age_years": 95.0}}},
    ]
    sampling = {
        "factors": {"contrast": {"choices": ["t2", "flair"]}, "age_years": {"bands": [[20, 50], [50, 90]]}},
        "strata": ["contrast", "age_years"],
    }
    (tmp_path / "manifest.json").write_text(json.dumps({"samples": samples, "config": {"sampling": sampling}}))
    report = coverage_report(tmp_path)
    assert report.empty_strata == ["contrast=flair|age_years=20-50", "contrast=flair|age_years=50-90"]
    assert report.outside_strata == 1
    assert "**empty**" in report.to_markdown()


def test_missing_manifest(tmp_path):
    with pytest.raises(FileNotFoundError, match="no manifest.json in"):
        coverage_report(tmp_path)


def test_summarise_factors_numeric_and_categorical():
    summary = summarise_factors([{"kvp": 80.0, "kernel": "hann"}, {"kvp": 120.0, "kernel": "hann"}, {"kernel": "ram_lak"}])
    assert summary["kvp"]["kind"] == "numeric"
    assert (summary["kvp"]["min"], summary["kvp"]["max"], summary["kvp"]["missing"]) == (80.0, 120.0, 1)
    assert sum(summary["kvp"]["histogram"]["counts"]) == 2
    assert summary["kernel"]["counts"] == {"hann": 2, "ram_lak": 1}


def _pydicom_file(name: str) -> Path:
    pydicom_data = pytest.importorskip("pydicom.data")
    return Path(pydicom_data.get_testdata_file(name, download=False))


def test_ct_small_factors():
    factors = read_acquisition_factors(_pydicom_file("CT_small.dcm"))
    # Values from the header of pydicom's CT_small.dcm.
    assert factors["modality"] == "CT"
    assert factors["manufacturer"] == "GE MEDICAL SYSTEMS"
    assert factors["kvp"] == 120.0
    assert factors["slice_thickness_mm"] == 5.0
    assert factors["pixel_spacing_mm"] == pytest.approx([0.661468, 0.661468])
    assert factors["convolution_kernel"] == "STANDARD"


def test_mr_small_factors():
    factors = read_acquisition_factors(_pydicom_file("MR_small.dcm"))
    # Values from the header of pydicom's MR_small.dcm.
    assert factors["modality"] == "MR"
    assert factors["manufacturer"] == "TOSHIBA_MEC"
    assert factors["pixel_spacing_mm"] == [0.3125, 0.3125]
    assert (factors["tr_ms"], factors["te_ms"]) == (4000.0, 240.0)
    assert factors["contrast"] is None  # TE 240 ms is beyond every profile's range


def test_shared_ct_head_factors():
    factors = read_acquisition_factors(shared_file("ct_head/ct_head.nii.gz"))
    assert factors["modality"] == "CT"
    assert factors["pixel_spacing_mm"] == pytest.approx([0.957, 0.957], abs=1e-3)
    assert factors["slice_thickness_mm"] == pytest.approx(1.5)


def test_shared_mri_brain_factors():
    factors = read_acquisition_factors(shared_file("mri_brain/ch2.nii.gz"))
    assert factors["modality"] is None  # uint8 intensities do not identify the modality
    assert factors["pixel_spacing_mm"] == [1.0, 1.0]
    assert factors["slice_thickness_mm"] == 1.0


def test_real_collection_lacks_strata(tmp_path):
    ct, mr = _pydicom_file("CT_small.dcm"), _pydicom_file("MR_small.dcm")
    records = scan_real_collection([ct, mr, ct])
    assert len(records) == 2  # the repeated CT file is one series
    policies = default_real_policies()
    report = compare_real([r for r in records if r["modality"] == "CT"], policies["CT"])
    assert report.strata["kvp=120|slice_thickness_mm=3.5-10"] == 1
    assert "kvp=80|slice_thickness_mm=0.1-1.5" in report.empty_strata
    assert len(report.empty_strata) == len(report.strata) - 1


def test_cli_report_set_and_real(written_set, tmp_path, capsys):
    from medaug.cli import main

    out = tmp_path / "report"
    code = main(["report", str(written_set), "--real", str(_pydicom_file("CT_small.dcm")), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "field_strength_t=1.5|contrast=t2|age_years=20-50" in printed
    assert "strata the real data lacks (8)" in printed
    assert (out / "set_strata.png").is_file()
    assert (out / "real_set.md").is_file()


def test_cli_report_needs_an_input(capsys):
    from medaug.cli import main

    assert main(["report"]) == 2
    assert "give SET_DIR, --real DIR, or both" in capsys.readouterr().err
