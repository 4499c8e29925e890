import hashlib
import json

import pytest

from medaug.data.storage import checksum, publish, to_jsonable, write_json_atomic


def test_file_checksum_is_sha256(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"medaug")
    assert checksum(path) == (hashlib.sha256(b"medaug").hexdigest(), 6)


def test_folder_checksum_depends_on_names(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x").write_bytes(b"1")
    first = checksum(tmp_path / "a")
    (tmp_path / "a" / "x").rename(tmp_path / "a" / "y")
    assert checksum(tmp_path / "a") != first
    assert checksum(tmp_path / "a")[1] == 1


def test_checksum_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        checksum(tmp_path / "absent")


def test_publish_replaces_folder(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "stale").write_text("x")
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "fresh").write_text("y")
    publish(tmp_path / "new", tmp_path / "old")
    assert [p.name for p in (tmp_path / "old").iterdir()] == ["fresh"]
    assert not (tmp_path / "new").exists()


def test_write_json_atomic_leaves_no_temporary(tmp_path):
    write_json_atomic({"b": 1, "a": (1, 2)}, tmp_path / "x.json")
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": [1, 2], "b": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_write_json_rejects_nan(tmp_path):
    with pytest.raises(ValueError):
        write_json_atomic({"a": float("nan")}, tmp_path / "x.json")
    assert not list(tmp_path.iterdir())


def test_to_jsonable_numpy_and_torch():
    import numpy as np
    import torch

    assert to_jsonable({"a": np.float32(1.5), "b": np.arange(2), "c": torch.tensor([1, 2])}) == {
        "a": 1.5, "b": [0, 1], "c": [1, 2]}
