"""Blur and sharpen with FWHM in mm."""

import numpy as np
import pytest
import torch

from medaug.core import Geometry, Image, Sample
from medaug.transforms import Blur, RandomBlur, RandomSharpen, Sharpen
from tests.transforms.helpers import blob_sample


def _fwhm_voxels(profile):
    half = profile.max() / 2
    above = np.flatnonzero(profile >= half)
    left, right = above[0], above[-1]
    # Linear interpolation of the half-maximum crossings on each side.
    left_cross = left - (profile[left] - half) / (profile[left] - profile[left - 1])
    right_cross = right + (profile[right] - half) / (profile[right] - profile[right + 1])
    return right_cross - left_cross


def test_blur_fwhm_in_mm_on_anisotropic_grid():
    volume = np.zeros((1, 41, 41), np.float32)
    volume[0, 20, 20] = 1.0
    sample = Sample({"image": Image(volume, geometry=Geometry(spacing=(2.0, 0.5)))})
    out = Blur(fwhm_mm=6.0).transform(sample)["image"].numpy()[0]
    # 6 mm is 3 voxels along the 2 mm axis and 12 along the 0.5 mm axis; the
    # sampled Gaussian's measured FWHM is within 0.3 voxel of that.
    assert abs(_fwhm_voxels(out[:, 20]) - 3.0) < 0.3
    assert abs(_fwhm_voxels(out[20, :]) - 12.0) < 0.3
    # Mirrored edges fold the kernel tail beyond the border back in, which
    # changes nothing here beyond 1e-4 (the tail past 4 sigma).
    assert float(out.sum()) == pytest.approx(1.0, abs=1e-4)


def test_sharpen_increases_edge_contrast():
    step = np.zeros((1, 16, 16), np.float32)
    step[:, :, 8:] = 1.0
    out = Sharpen(fwhm_mm=2.0, amount=1.0)(step)
    # Unsharp masking overshoots on both sides of the edge.
    assert out.max() > 1.05 and out.min() < -0.05


def test_zero_width_or_amount_is_identity():
    sample = blob_sample()
    for transform in [Blur(0.0), Sharpen(2.0, amount=0.0), RandomBlur((0.0, 0.0))]:
        out = transform.transform(sample, rng=np.random.default_rng(0))
        assert torch.equal(out["image"].data, sample["image"].data)
        assert torch.equal(out["label"].data, sample["label"].data)


def test_random_blur_twin(rng):
    sample = blob_sample()
    for transform in [RandomBlur(), RandomSharpen()]:
        parameters = transform.sample_parameters(np.random.default_rng(2), sample)
        a = transform.deterministic(parameters).transform(sample)
        b = transform.transform(sample, rng=np.random.default_rng(2))
        assert torch.equal(a["image"].data, b["image"].data)


def test_negative_fwhm_raises():
    with pytest.raises(ValueError, match="`fwhm_mm` must be >= 0, got -1.0"):
        Blur(-1.0)
    with pytest.raises(ValueError, match="`fwhm_range_mm` must lie within"):
        RandomBlur((-1.0, 2.0))
    with pytest.raises(ValueError, match="`fwhm_mm` must have 3 values"):
        Blur([1.0, 2.0])(np.zeros((1, 4, 4, 4), np.float32))
