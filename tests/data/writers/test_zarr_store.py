import numpy as np
import pytest

from medaug.data.config import parse_config
from medaug.data.errors import ConfigError
from medaug.data.pipeline import Pipeline
from medaug.data.runner import generate_set
from medaug.data.storage import checksum
from tests.data.helpers import mri_config


def config_data():
    return mri_config(writer={"type": "zarr", "chunk_shape": [8, 8]})


def test_arrays_round_trip(tmp_path):
    zarr = pytest.importorskip("zarr")
    generate_set(parse_config(config_data()), tmp_path, count=2, progress=False)
    sample = Pipeline.from_config(parse_config(config_data()))(1)
    group = zarr.open_group(str(tmp_path / "samples" / "sample_000001.zarr"), mode="r")
    assert sorted(group.array_keys()) == ["image", "kspace", "kspace_mask", "label", "reconstruction"]
    for name in ("image", "label", "kspace", "reconstruction"):
        np.testing.assert_array_equal(group[name][...], sample[name].numpy())
    assert group["kspace"].dtype == np.complex64
    assert group["image"].chunks == (1, 8, 8)
    assert group["image"].attrs["spacing_mm"] == [0.5, 0.7]
    assert group["kspace"].attrs["kind"] == "KSpace"
    assert group.attrs["medaug_index"] == 1


def test_store_checksum_covers_every_file(tmp_path):
    generate_set(parse_config(config_data()), tmp_path, count=1, progress=False)
    store = tmp_path / "samples" / "sample_000000.zarr"
    before = checksum(store)
    chunk = next(p for p in store.rglob("*") if p.is_file() and p.name != "zarr.json")
    chunk.write_bytes(chunk.read_bytes() + b"\0")
    assert checksum(store) != before


def test_bad_chunk_shape():
    with pytest.raises(ConfigError, match=r"`writer.chunk_shape`: .*>= 1, got \[0, 8\]"):
        parse_config(mri_config(writer={"type": "zarr", "chunk_shape": [0, 8]}))
