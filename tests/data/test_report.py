"""Tests for medaug.data.report and `medaug report`: set coverage, real comparisons, empty strata."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from medaug.core import Geometry, Image, LabelMap
from medaug.data.report import (
    compare_real,
    compare_real_collection,
    coverage_report,
    set_modality,
    summarise_factors,
    write_report,
)
from medaug.data.report_real import RealCollection, default_real_policies, scan_real_collection
from medaug.data.sampling import SamplingConfig, stratum_levels
from medaug.io import write_image

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


def _record(modality, **factors):
    return {"path": f"/scans/{modality or 'unknown'}.dcm", "modality": modality, **factors}


@pytest.fixture
def plain_set(tmp_path) -> Path:
    """A set without a `sampling` section: two NIfTI images, one label map, one fastMRI file."""
    h5py = pytest.importorskip("h5py")
    from medaug.data.writers.fastmri import ismrmrd_header

    (tmp_path / "imagesTr").mkdir()
    (tmp_path / "labelsTr").mkdir()
    (tmp_path / "multicoil_test").mkdir()
    values = np.zeros((1, 3, 8, 8), np.float32)
    values[:, :, 2:6, 2:6] = 2.0
    geometry = Geometry(spacing=(1.5, 0.5, 0.5))
    files = []
    for index in range(2):
        write_image(Image(values - index, geometry=geometry), tmp_path / f"imagesTr/case_{index}_0000.nii.gz")
        write_image(LabelMap((values > 1).astype(np.uint8), geometry=geometry), tmp_path / f"labelsTr/case_{index}.nii.gz")
        files.append([{"path": f"imagesTr/case_{index}_0000.nii.gz"}, {"path": f"labelsTr/case_{index}.nii.gz"}])
    with h5py.File(tmp_path / "multicoil_test/file000002.h5", "w") as handle:
        handle.create_dataset("reconstruction_rss", data=np.full((1, 4, 4), 5.0, np.float32))
        handle.create_dataset("ismrmrd_header", data=np.bytes_(ismrmrd_header((4, 4), (4, 4), [2.0, 2.0], 1)))
    files.append([{"path": "multicoil_test/file000002.h5"}])
    samples = [{"index": i, "files": f, "parameters": {"factors": None}} for i, f in enumerate(files)]
    config = {"source": {"type": "phantom"}, "simulation": [{"type": "mri"}]}
    (tmp_path / "manifest.json").write_text(json.dumps({"samples": samples, "config": config}))
    return tmp_path


def test_set_without_sampling_has_image_statistics(plain_set):
    report = coverage_report(plain_set)
    assert report.factors == {}
    assert report.strata == {}
    stats = report.image_statistics["all"]
    assert stats["images"] == 3  # the two NIfTI images and the HDF5 reconstruction, no label map
    assert stats["spacings_mm"] == {"0.5 x 0.5 x 1.5": 2, "2 x 2": 1}
    assert (stats["intensity_min"], stats["intensity_max"]) == (-1.0, 5.0)
    assert "no `sampling` section" in report.notes[0]


def test_set_without_sampling_markdown(plain_set):
    text = coverage_report(plain_set).to_markdown()
    assert "No factor is recorded for any sample." in text
    assert "| all samples | 3 |" in text
    assert "0.5 x 0.5 x 1.5 (2); 2 x 2 (1)" in text
    assert "its samples carry no sampled factors" in text


def test_max_images_note(plain_set):
    report = coverage_report(plain_set, max_images=1)
    assert report.image_statistics["all"]["images"] == 1
    assert "read the first 1 of 3 image files" in report.notes[-1]


def test_set_folder_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="set folder not found: .*absent"):
        coverage_report(tmp_path / "absent")


def test_set_modality_from_config():
    assert set_modality({"simulation": [{"type": "ct"}, {"type": "relabel"}]}) == "CT"
    assert set_modality({"sampling": {"factors": {"contrast": {"choices": ["t2"]}}}}) == "MR"
    assert set_modality({"simulation": [{"type": "mri"}, {"type": "ct"}]}) is None


def test_factor_counts_per_scan_not_per_value():
    records = [_record("CT", pixel_spacing_mm=[0.957, 0.957], slice_thickness_mm=1.5)]
    reports = compare_real_collection(RealCollection("ct/", records, {}))
    for report in reports.values():
        summary = report.factors["pixel_spacing_mm"]
        assert (summary["count"], summary["values"]) == (1, 2)
        assert "| pixel_spacing_mm | numeric | 1 scan (2 values), 0.957 .. 0.957" in report.to_markdown()


def test_markdown_grammar_singular():
    records = [_record("CT", kvp=120.0, slice_thickness_mm=20.0)]
    text = compare_real(records, default_real_policies()["CT"]).to_markdown()
    assert "1 scan falls outside every stratum." in text
    assert "1 values" not in text
    assert "1 samples" not in text
    assert "1 scans" not in text


def test_no_empty_stratum_label():
    report = compare_real([_record("CT", kvp=120.0)], SamplingConfig())
    assert report.strata == {}
    assert "## Strata" not in report.to_markdown()


def test_ct_only_compared_on_ct_strata():
    records = [_record("CT", kvp=120.0, slice_thickness_mm=5.0)]
    reports = compare_real_collection(RealCollection("ct/", records, {}), modality="MR")
    assert list(reports) == ["real", "CT"]
    assert reports["CT"].strata["kvp=120|slice_thickness_mm=3.5-10"] == 1
    assert any("Modality mismatch: the set is MR but the real data holds CT only" in n for n in reports["real"].notes)


def test_set_strata_modality_mismatch():
    records = [_record("CT", kvp=120.0, slice_thickness_mm=5.0)]
    policy = SamplingConfig.model_validate(SAMPLING)
    reports = compare_real_collection(RealCollection("ct/", records, {}), set_policy=policy, modality="MR")
    assert list(reports) == ["real", "CT"]
    assert any("the set's strata are not compared" in n for n in reports["real"].notes)


def test_set_strata_compared_with_same_modality():
    records = [_record("MR", field_strength_t=3.0, contrast="t2", age_years=30.0), _record("CT", kvp=80.0)]
    policy = SamplingConfig.model_validate(SAMPLING)
    reports = compare_real_collection(RealCollection("mixed/", records, {}), set_policy=policy, modality="MR")
    assert list(reports) == ["real", "set", "CT"]
    assert reports["set"].strata["field_strength_t=3|contrast=t2|age_years=20-50"] == 1
    assert len(reports["set"].empty_strata) == 7


def test_unknown_modality_not_compared():
    reports = compare_real_collection(RealCollection("brain/", [_record(None, slice_thickness_mm=1.0)], {}))
    assert list(reports) == ["real"]
    notes = " ".join(reports["real"].notes)
    assert "1 scan of unknown modality" in notes
    assert "No scan has a known modality" in notes


def test_missing_stratum_factor_noted():
    report = compare_real([_record("CT", slice_thickness_mm=1.5)], default_real_policies()["CT"])
    assert report.outside_strata == 1
    assert "1 scan has no `kvp` in the header" in " ".join(report.notes)


def test_real_collection_lacks_strata():
    ct, mr = _pydicom_file("CT_small.dcm"), _pydicom_file("MR_small.dcm")
    reports = compare_real_collection(scan_real_collection([ct, mr, ct]))
    assert list(reports) == ["real", "CT", "MR"]
    ct_report = reports["CT"]
    assert ct_report.strata["kvp=120|slice_thickness_mm=3.5-10"] == 1
    assert "kvp=80|slice_thickness_mm=0.1-1.5" in ct_report.empty_strata
    assert len(ct_report.empty_strata) == len(ct_report.strata) - 1
    # MR_small.dcm has no field strength in its header, so it falls in no MR stratum.
    assert reports["MR"].outside_strata == 1
    assert "MR_small.dcm" in " ".join(reports["real"].notes)  # named by the weighting rule


def test_cli_report_set_and_real(written_set, tmp_path, capsys):
    from medaug.cli import main

    out = tmp_path / "report"
    code = main(["report", str(written_set), "--real", str(_pydicom_file("MR_small.dcm")), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "field_strength_t=1.5|contrast=t2|age_years=20-50" in printed
    assert "Strata the real data lacks (8)" in printed
    assert (out / "set_strata.png").is_file()
    assert (out / "real_set.md").is_file()


def test_cli_report_plain_set_and_ct_folder(plain_set, tmp_path, capsys):
    from medaug.cli import main

    real = tmp_path / "real"
    real.mkdir()
    ct = np.random.default_rng(0).integers(-1024, 1500, size=(1, 3, 10, 10)).astype(np.int16)
    write_image(Image(ct), real / "ct_head.nii.gz")
    write_image(LabelMap((ct > 0).astype(np.uint8)), real / "ct_head_labels.nii.gz")
    out = tmp_path / "report"
    assert main(["report", str(plain_set), "--real", str(real), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Skipped 1 label map: ct_head_labels.nii.gz" in printed
    assert "(MR strata)" not in printed
    assert "(CT strata)" in printed
    assert "Modality mismatch: the set is MR" in printed
    assert sorted(p.name for p in out.glob("*.md")) == ["real.md", "real_ct.md", "set.md"]


def test_cli_report_missing_set(capsys):
    from medaug.cli import main

    assert main(["report", "/nonexistent"]) == 2
    assert "set folder not found: '/nonexistent'" in capsys.readouterr().err


def test_cli_report_missing_real(tmp_path, capsys):
    from medaug.cli import main

    assert main(["report", "--real", str(tmp_path / "absent"), "--out", str(tmp_path)]) == 2
    assert "real data folder or file not found" in capsys.readouterr().err


def test_cli_report_needs_an_input(capsys):
    from medaug.cli import main

    assert main(["report"]) == 2
    assert "give SET_DIR, --real DIR, or both" in capsys.readouterr().err
