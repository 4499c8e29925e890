import xml.etree.ElementTree as ElementTree

import h5py
import numpy as np
import pytest

from medaug.data.config import parse_config
from medaug.data.pipeline import Pipeline
from medaug.data.runner import generate_set
from medaug.data.writers.fastmri import ismrmrd_header
from tests.data.helpers import mri_config

NS = {"m": "http://www.ismrm.org/ISMRMRD"}


@pytest.fixture(scope="module")
def mri_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("mri")
    generate_set(parse_config(mri_config()), out, progress=False)
    return out


def test_layout(mri_set):
    files = sorted(p.name for p in (mri_set / "multicoil_train").iterdir())
    assert files == ["file000000.h5", "file000001.h5", "file000002.h5"]


def test_datasets_and_dtypes(mri_set):
    with h5py.File(mri_set / "multicoil_train" / "file000001.h5", "r") as handle:
        assert handle["kspace"].shape == (1, 3, 16, 12)
        assert handle["kspace"].dtype == np.complex64
        assert handle["reconstruction_rss"].shape == (1, 16, 12)
        assert handle["reconstruction_rss"].dtype == np.float32
        assert handle["mask"].shape == (12,)
        assert handle["mask"][:].tolist() == [True, False] * 6


def test_attributes_match_reference(mri_set):
    sample = Pipeline.from_config(parse_config(mri_config()))(1)
    target = sample["reconstruction"].numpy()[0]
    with h5py.File(mri_set / "multicoil_train" / "file000001.h5", "r") as handle:
        np.testing.assert_array_equal(handle["reconstruction_rss"][0], target)
        assert handle.attrs["max"] == pytest.approx(float(target.max()), rel=1e-6)
        assert handle.attrs["norm"] == pytest.approx(float(np.linalg.norm(target)), rel=1e-6)
        assert handle.attrs["acquisition"] == "AXT2"
        assert handle.attrs["patient_id"] == "test-mri-000001"


def test_header_sizes(mri_set):
    with h5py.File(mri_set / "multicoil_train" / "file000000.h5", "r") as handle:
        root = ElementTree.fromstring(handle["ismrmrd_header"][()])
    size = root.find(".//m:encoding//m:encodedSpace//m:matrixSize", NS)
    assert [size.find(f"m:{a}", NS).text for a in "xyz"] == ["16", "12", "1"]
    limits = root.find(".//m:encodingLimits//m:kspace_encoding_step_1", NS)
    assert limits.find("m:center", NS).text == "6"
    assert limits.find("m:maximum", NS).text == "11"
    fov = root.find(".//m:encodedSpace//m:fieldOfView_mm", NS)
    assert float(fov.find("m:x", NS).text) == pytest.approx(16 * 0.5)  # rows times row spacing
    assert float(fov.find("m:y", NS).text) == pytest.approx(12 * 0.7)


def test_rss_of_full_kspace_is_reference(tmp_path):
    # With every line kept, the unitary inverse FFT of each coil and a root sum of
    # squares return the reference image; float32 FFT rounding stays below 1e-5.
    config = parse_config(mri_config(simulation=[{"type": "test_fft", "coils": 4, "keep_every": 1}]))
    generate_set(config, tmp_path, count=1, progress=False)
    with h5py.File(tmp_path / "multicoil_train" / "file000000.h5", "r") as handle:
        kspace = handle["kspace"][0]
        target = handle["reconstruction_rss"][0]
    images = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(kspace, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))
    rss = np.sqrt((np.abs(images) ** 2).sum(axis=0))
    np.testing.assert_allclose(rss, target, atol=1e-5 * target.max())


def test_singlecoil_layout(tmp_path):
    config = parse_config(mri_config(simulation=[{"type": "test_fft", "coils": 1}],
                                     writer={"type": "fastmri", "challenge": "singlecoil", "split": "val"}))
    generate_set(config, tmp_path, count=1, progress=False)
    with h5py.File(tmp_path / "singlecoil_val" / "file000000.h5", "r") as handle:
        assert handle["kspace"].shape == (1, 16, 12)
        assert "reconstruction_esc" in handle


def test_singlecoil_rejects_coils():
    from medaug.data.errors import ConfigError

    with pytest.raises(ConfigError, match=r"`writer.challenge`: singlecoil needs 1 coil, the k-space has 3"):
        parse_config(mri_config(writer={"type": "fastmri", "challenge": "singlecoil"}))


def test_header_example_values():
    text = ismrmrd_header((20, 10), (20, 10), [1.0, 2.0], 3, coils=8)
    root = ElementTree.fromstring(text)
    assert root.find(".//m:receiverChannels", NS).text == "8"
    assert root.find(".//m:slice/m:maximum", NS).text == "2"


def test_fastmri_slice_dataset_reads_set(mri_set):
    mri_data = pytest.importorskip("fastmri.data.mri_data", reason="fastmri is not installed")
    dataset = mri_data.SliceDataset(root=mri_set / "multicoil_train", challenge="multicoil")
    assert len(dataset) == 3
    kspace, mask, target, attrs, name, slice_index = dataset[0]
    assert kspace.shape == (3, 16, 12)
    assert target.shape == (16, 12)
    assert attrs["encoding_size"] == (16, 12, 1)
    assert attrs["padding_left"] == 0
    assert attrs["padding_right"] == 12
    assert name == "file000000.h5"
