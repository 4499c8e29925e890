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

from medaug.data.config import load_config, parse_config
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


def test_smaller_count_rejected(reference_set, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(reference_set, copy)
    before = (copy / "manifest.json").read_bytes()
    with pytest.raises(ValueError, match=r"already contains 4 finished samples \(indices up to 3\), but `count` "
                                         r"\(-n/--count\) is 2; .*Pass -n 4 to keep the set"):
        generate_set(parse_config(seg_config()), copy, count=2, progress=False)
    assert (copy / "manifest.json").read_bytes() == before
    assert verify_set(copy).ok


def test_verify_flags_unlisted_and_missing(reference_set, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(reference_set, copy)
    (copy / "labelsTr" / "case_000009.nii.gz").write_bytes(b"left by a larger run")
    (copy / "imagesTr" / "case_000002_0000.nii.gz").unlink()
    (copy / "notes.txt").write_text("top-level files are not part of the set's folders")
    report = verify_set(copy)
    assert report.unlisted == ["labelsTr/case_000009.nii.gz"]
    assert report.missing == ["imagesTr/case_000002_0000.nii.gz"]
    assert any("1 file(s) in the set's folders are not listed in the manifest: labelsTr/case_000009.nii.gz"
               in p for p in report.problems)
    assert not report.ok


def test_unlisted_files_inside_listed_folder(tmp_path):
    from medaug.data.manifest import unlisted_files

    for relative in ["samples/a.zarr/x/0", "samples/a.zarr/.zattrs", "samples/b.zarr/0", "top.json"]:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x")
    # A listed Zarr folder covers its files; b.zarr is listed by no sample.
    assert unlisted_files(tmp_path, ["samples/a.zarr", "top.json"]) == ["samples/b.zarr/0"]


def test_unfinished_set_skips_unlisted_check(tmp_path):
    generate_set(parse_config(seg_config()), tmp_path, count=2, progress=False)
    (tmp_path / "manifest.json").unlink()
    (tmp_path / "imagesTr" / "case_000005_0000.nii.gz").write_bytes(b"uncommitted sample")
    report = verify_set(tmp_path)
    assert report.ok, report.problems
    assert report.unlisted == []


def test_first_sample_failure_writes_nothing(tmp_path):
    out = tmp_path / "set"
    config = parse_config(seg_config(simulation=[{"type": "test_fail", "at": 0}]))
    with pytest.raises(GenerationError, match=r"sample 0 failed in `simulation\[0\]` \(test_fail\): "
                                              r"ValueError: sample 0 is at or past 0") as info:
        generate_set(config, out, progress=False)
    assert info.value.retry is False
    assert info.value.finished == 0
    assert not out.exists()


def test_step_error_names_yaml_key(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(seg_config(simulation=[{"type": "test_fail", "at": 2, "error": "spec"}]),
                                   sort_keys=False))
    line = path.read_text().splitlines().index("  at: 2") + 1
    with pytest.raises(GenerationError, match=rf"sample 2 failed in {path}:{line}: `simulation\[0\].at` "
                                              r"\(test_fail\): sample 2 is at or past 2") as info:
        generate_set(load_config(path), tmp_path / "set", progress=False)
    assert info.value.retry is False
    assert info.value.finished == 2


def test_worker_error_names_yaml_key(tmp_path):
    import numpy as np
    import SimpleITK as sitk

    pytest.importorskip("zarr")
    sitk.WriteImage(sitk.GetImageFromArray(np.ones((8, 8), np.float32)), str(tmp_path / "good.nii.gz"))
    (tmp_path / "broken.nii.gz").write_bytes(b"not a NIfTI file")
    path = tmp_path / "config.yaml"
    items = [{"image": "good.nii.gz"}, {"image": "broken.nii.gz"}]
    path.write_text(yaml.safe_dump({"seed": 1, "size": 2, "source": {"type": "images", "items": items},
                                    "writer": {"type": "zarr"}}, sort_keys=False))
    line = path.read_text().splitlines().index("  - image: broken.nii.gz") + 1
    # Sample 0 is made in this process; sample 1 fails in a worker process, which rebuilds the
    # config from plain data and gets the YAML lines with it.
    with pytest.raises(GenerationError, match=rf"sample 1 failed in {path}:{line}: `source.items\[1\].image` "
                                              r"\(images\): failed to read image") as info:
        generate_set(load_config(path), tmp_path / "set", workers=2, progress=False)
    assert info.value.retry is False


def test_disk_error_in_step_may_be_retried(tmp_path):
    config = parse_config(seg_config(simulation=[{"type": "test_fail", "at": 1, "error": "disk"}]))
    with pytest.raises(GenerationError, match=r"sample 1 failed in `simulation\[0\]` \(test_fail\): OSError") as info:
        generate_set(config, tmp_path, progress=False)
    assert info.value.retry is True
    assert info.value.finished == 1


def test_folder_without_finished_sample_takes_other_config(reference_set, tmp_path):
    # Labels 1 and 2 of the source are missing from the writer's `labels`, so the writer fails on
    # sample 0, after the folder (which exists already) took this config's hash.
    failing = parse_config(seg_config(writer={"type": "nnunet", "labels": {"background": 0}}))
    with pytest.raises(GenerationError, match=r"sample 0 failed in `writer` \(nnunet\): ValueError") as info:
        generate_set(failing, tmp_path, progress=False)
    assert info.value.finished == 0
    assert (tmp_path / STATE_FOLDER / "config.json").is_file()

    generate_set(parse_config(seg_config()), tmp_path, progress=False)
    assert checksums(tmp_path) == checksums(reference_set)


def test_resume_logs_counts(reference_set, tmp_path, caplog):
    import logging

    config = parse_config(seg_config())
    with caplog.at_level(logging.INFO, logger="medaug.data.runner"):
        generate_set(config, tmp_path, count=3, progress=False)
        generate_set(config, tmp_path, count=4, progress=False)
        generate_set(config, tmp_path, count=4, progress=False)
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0] == f"writing 3 samples to {tmp_path}"
    assert messages[2] == f"writing 1 new sample to {tmp_path} (3 of 4 already present)"
    assert messages[3].startswith("wrote 1 new sample, 3 already present; manifest ")
    assert messages[4] == f"all 4 samples are already written in {tmp_path}; rewriting the manifest"
    assert messages[5] == f"rewrote the manifest {tmp_path / 'manifest.json'}"


def test_pooled_set_identical_for_workers_and_dask(tmp_path):
    pytest.importorskip("medaug.phantoms.generators.head")
    source = {"type": "phantom", "generator": "procedural_head", "shape": [24, 24], "fov_mm": 240,
              "anatomies": 3, "contrast": {"type": "spin_echo"}}
    config = parse_config(seg_config(size=6, source=source,
                                     writer={"type": "nnunet", "labels": {"background": 0, **{f"tissue{i}": i for i in range(1, 9)}}}))
    generate_set(config, tmp_path / "one", progress=False)
    generate_set(config, tmp_path / "two", workers=2, progress=False)
    assert checksums(tmp_path / "two") == checksums(tmp_path / "one")
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None,
                                  protocol="tcp://", host="127.0.0.1") as cluster:
        generate_set(config, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
    assert checksums(tmp_path / "dask") == checksums(tmp_path / "one")
    # The manifest records which pool anatomy each sample used.
    picked = [record["parameters"]["source"]["anatomy"] for record in read_records(tmp_path / "one").values()]
    assert len(picked) == 6
    assert set(picked) <= {0, 1, 2}
