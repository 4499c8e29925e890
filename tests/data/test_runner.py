import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from medaug.data.config import parse_config
from medaug.data.errors import GenerationError
from medaug.data.manifest import STATE_FOLDER, read_manifest, read_records, verify_set
from medaug.data.runner import generate_set
from medaug.data.writers.nnunet import NnUNetWriter
from tests.data.helpers import mri_config, seg_config

REPO = Path(__file__).resolve().parents[2]


def checksums(out):
    manifest = read_manifest(out)
    return [(f["path"], f["sha256"]) for s in manifest["samples"] for f in s["files"]]


def all_files(out):
    return sorted(p.relative_to(out).as_posix() for p in Path(out).rglob("*") if p.is_file()
                  and STATE_FOLDER not in p.parts)


@pytest.fixture(scope="module")
def reference_set(tmp_path_factory):
    """The segmentation set written in this process: the reference for every backend."""
    out = tmp_path_factory.mktemp("reference")
    generate_set(parse_config(seg_config()), out, progress=False)
    return out


def test_set_verifies(reference_set):
    report = verify_set(reference_set)
    assert report.ok, report.problems
    assert report.checked == 4 * 2 + 1  # image and label per case, plus dataset.json


def test_manifest_records_seed_and_parameters(reference_set):
    manifest = read_manifest(reference_set)
    assert manifest["count"] == 4
    assert manifest["config_hash"] == parse_config(seg_config()).config_hash()
    assert [s["index"] for s in manifest["samples"]] == [0, 1, 2, 3]
    assert manifest["samples"][2]["spawn_key"] == [2]
    assert manifest["samples"][2]["parameters"]["source"]["type"] == "shapes"


def test_rerun_changes_nothing(reference_set):
    before = {p: p.stat().st_mtime_ns for p in Path(reference_set).rglob("*.nii.gz")}
    generate_set(parse_config(seg_config()), reference_set, progress=False)
    after = {p: p.stat().st_mtime_ns for p in Path(reference_set).rglob("*.nii.gz")}
    assert before == after


def test_two_workers_identical(reference_set, tmp_path):
    generate_set(parse_config(seg_config()), tmp_path, workers=2, progress=False)
    assert checksums(tmp_path) == checksums(reference_set)
    assert (tmp_path / "manifest.json").read_bytes() == (reference_set / "manifest.json").read_bytes()


def test_dask_identical(reference_set, tmp_path):
    distributed = pytest.importorskip("distributed")
    # Threads in this process, talking TCP over loopback: the address path of --scheduler.
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None,
                                  protocol="tcp://", host="127.0.0.1") as cluster:
        generate_set(parse_config(seg_config()), tmp_path, scheduler=cluster.scheduler_address, progress=False)
    assert checksums(tmp_path) == checksums(reference_set)


def test_extend_set_keeps_done_samples(reference_set, tmp_path):
    config = parse_config(seg_config())
    generate_set(config, tmp_path, count=2, progress=False)
    generate_set(config, tmp_path, count=4, progress=False)
    assert checksums(tmp_path) == checksums(reference_set)
    assert json.loads((tmp_path / "dataset.json").read_text())["numTraining"] == 4


def test_other_config_rejected(tmp_path):
    generate_set(parse_config(seg_config()), tmp_path, count=1, progress=False)
    with pytest.raises(ValueError, match="contains a set written from another config"):
        generate_set(parse_config(seg_config(seed=99)), tmp_path, count=1, progress=False)


def test_verify_detects_corruption(reference_set, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(reference_set, copy)
    label = copy / "labelsTr" / "case_000001.nii.gz"
    label.write_bytes(label.read_bytes()[:-10])
    (copy / "imagesTr" / "case_000003_0000.nii.gz").unlink()
    problems = verify_set(copy).problems
    assert any("case_000001.nii.gz: checksum mismatch" in p for p in problems)
    assert any("case_000003_0000.nii.gz: file not found" in p for p in problems)


def test_disk_full_keeps_finished_samples(reference_set, tmp_path, monkeypatch):
    original = NnUNetWriter.write

    def failing(self, sample, index, staging):
        if index == 2:
            (staging / "imagesTr").mkdir(parents=True, exist_ok=True)
            (staging / "imagesTr" / "partial").write_bytes(b"x")
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, sample, index, staging)

    monkeypatch.setattr(NnUNetWriter, "write", failing)
    with pytest.raises(GenerationError, match=r"sample 2 failed: OSError: .*No space left on device"):
        generate_set(parse_config(seg_config()), tmp_path, progress=False)
    assert sorted(read_records(tmp_path)) == [0, 1]
    assert verify_set(tmp_path).ok
    assert not list((tmp_path / STATE_FOLDER / "staging").iterdir())
    assert not (tmp_path / "manifest.json").exists()

    monkeypatch.setattr(NnUNetWriter, "write", original)
    generate_set(parse_config(seg_config()), tmp_path, progress=False)
    assert checksums(tmp_path) == checksums(reference_set)


def test_output_path_is_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ValueError, match="exists and is not a folder"):
        generate_set(parse_config(seg_config()), target, progress=False)


def test_unwritable_parent(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    with pytest.raises(OSError):
        generate_set(parse_config(seg_config()), blocker / "set", progress=False)


def test_bad_count_and_workers(tmp_path):
    config = parse_config(seg_config())
    with pytest.raises(ValueError, match="`count` must be an int >= 1, got 0"):
        generate_set(config, tmp_path, count=0)
    with pytest.raises(ValueError, match="`workers` must be an int >= 1, got 0"):
        generate_set(config, tmp_path, workers=0)


def test_config_without_writer(tmp_path):
    with pytest.raises(ValueError, match="no `writer` section"):
        generate_set(parse_config(seg_config(writer=None)), tmp_path)


def test_fastmri_set_identical_across_runs(tmp_path):
    config = parse_config(mri_config())
    generate_set(config, tmp_path / "a", progress=False)
    generate_set(config, tmp_path / "b", progress=False)
    assert checksums(tmp_path / "a") == checksums(tmp_path / "b")


def test_kill_and_resume(tmp_path):
    count = 10
    data = seg_config(size=count, simulation=[{"type": "test_sleep", "seconds": 0.1}])
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(data))
    out = tmp_path / "set"
    code = ("import sys, tests.data.helpers; from medaug.cli import main; "
            f"sys.exit(main(['generate', {str(config_path)!r}, '--out', {str(out)!r}, '--no-progress']))")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    records = out / STATE_FOLDER / "records"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(records.glob("*.json")) if records.is_dir() else []) < 3:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done = len(read_records(out))
    assert 3 <= done < count, "the run was not interrupted midway"
    assert not (out / "manifest.json").exists()

    generate_set(parse_config(data, base_dir=tmp_path), out, progress=False)
    report = verify_set(out)
    assert report.ok, report.problems
    files = all_files(out)
    assert len([f for f in files if f.startswith("imagesTr/")]) == count
    assert len([f for f in files if f.startswith("labelsTr/")]) == count
    assert not [f for f in files if Path(f).name.startswith(".")]

    clean = tmp_path / "clean"
    generate_set(parse_config(data, base_dir=tmp_path), clean, progress=False)
    assert checksums(out) == checksums(clean)


def test_stratified_count_must_match(tmp_path):
    sampling = {"mode": "stratified", "factors": {"contrast": {"choices": ["t1_se", "t2"]}},
                "strata": ["contrast"], "counts": 2, "derive": False}
    config = parse_config(seg_config(sampling=sampling))
    with pytest.raises(ValueError, match="`count` must equal the stratified sampling total 4"):
        generate_set(config, tmp_path, count=3, progress=False)
    generate_set(config, tmp_path, count=4, progress=False)
    factors = [s["parameters"]["factors"]["contrast"] for s in read_manifest(tmp_path)["samples"]]
    assert sorted(factors) == ["t1_se", "t1_se", "t2", "t2"]
