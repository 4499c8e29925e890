"""Grid helpers of the phantom functional layer: sub-sample points of a centred grid."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medaug.phantoms.functional.common import sub_sample_points


def test_sub_sample_points_average_to_voxel_centres():
    # Shape (H, W) = (3, 4) with spacing 2 mm along y and 1 mm along x.
    offsets = list(sub_sample_points((3, 4), (2.0, 1.0), 2, dtype=torch.float64))

    assert len(offsets) == 4
    assert all(points.shape == (12, 2) for points in offsets)
    centres = torch.stack(offsets).mean(dim=0).numpy()
    # Index n // 2 sits at 0 mm, voxels in C order of (H, W), coordinates in (x, y) order.
    y, x = np.meshgrid((np.arange(3) - 1) * 2.0, np.arange(4) - 2.0, indexing="ij")
    np.testing.assert_allclose(centres, np.stack([x.ravel(), y.ravel()], axis=1), atol=1e-12)


def test_sub_sample_points_spread_evenly():
    offsets = torch.stack(list(sub_sample_points((1, 1, 1), (3.0, 3.0, 3.0), 3, dtype=torch.float64)))

    # 27 midpoints of a 3 mm voxel: each coordinate takes -1, 0 and 1 mm nine times.
    assert offsets.shape == (27, 1, 3)
    for axis in range(3):
        values, counts = np.unique(offsets[:, 0, axis].numpy().round(12), return_counts=True)
        np.testing.assert_allclose(values, [-1.0, 0.0, 1.0])
        assert counts.tolist() == [9, 9, 9]


def test_sub_sample_points_reject_bad_supersample():
    with pytest.raises(ValueError, match="supersample"):
        next(sub_sample_points((2, 2), (1.0, 1.0), 0))
