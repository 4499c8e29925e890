import math

import numpy as np
import pytest
import torch

from medaug.physics.mri.masks import (
    AccelerationError,
    calibration_slice,
    equispaced_line_mask,
    gaussian_line_mask,
    line_mask_to_grid,
    random_line_mask,
    random_mask_2d,
)
from medaug.physics.mri.poisson import poisson_disc_mask

LINE_MASKS = [random_line_mask, equispaced_line_mask, gaussian_line_mask]
GRID_MASKS = [random_mask_2d, poisson_disc_mask]
ACCELERATIONS = [2, 3, 4, 6, 8]


def _reachable(total, acceleration, tolerance=0.02):
    """True when some integer count gives an acceleration within the tolerance."""
    counts = np.arange(1, total + 1)
    return bool(np.min(np.abs(total / counts - acceleration) / acceleration) <= tolerance)


@pytest.mark.parametrize("builder", LINE_MASKS)
def test_line_masks_reach_acceleration_over_widths(builder):
    rng = np.random.default_rng(0)
    widths = list(range(64, 641, 23)) + [64, 65, 255, 256, 320, 639, 640]
    for width in widths:
        for acceleration in ACCELERATIONS:
            if not _reachable(width, acceleration):
                with pytest.raises(AccelerationError, match="cannot be reached|no constant gap"):
                    builder(width, acceleration, rng=rng)
                continue
            mask = builder(width, acceleration, rng=rng)
            assert mask.mask.shape == (width,)
            assert abs(mask.relative_error) <= 0.02, (width, acceleration, mask)


@pytest.mark.parametrize("builder", LINE_MASKS)
def test_line_masks_sample_the_calibration_region(builder):
    mask = builder(201, 4, rng=np.random.default_rng(1), center_fraction=0.08)
    size = mask.calibration_shape[0]
    assert size > 0
    assert bool(mask.mask[calibration_slice(201, size)].all())


def test_line_mask_exact_small_width():
    mask = random_line_mask(16, 4, rng=np.random.default_rng(0), center_fraction=0.125)
    assert mask.num_sampled == 4
    assert mask.acceleration == 4.0
    with pytest.raises(AccelerationError, match="nearest reachable accelerations are 2.667, 3.2, 4"):
        random_line_mask(16, 3.5, rng=np.random.default_rng(0))


def test_equispaced_gap_is_constant_outside_calibration():
    for width in (64, 97, 256, 371, 640):
        for acceleration in (3, 4, 8):
            if not _reachable(width, acceleration):
                continue
            mask = equispaced_line_mask(width, acceleration, rng=np.random.default_rng(width))
            region = calibration_slice(width, mask.calibration_shape[0])
            lines = np.flatnonzero(mask.mask.numpy())
            for side in (lines[lines < region.start], lines[lines >= region.stop]):
                gaps = np.diff(side)
                assert gaps.size == 0 or set(gaps.tolist()) == {mask.gap}, (width, acceleration)


def test_gaussian_mask_prefers_the_centre():
    counts = np.zeros(256)
    for seed in range(20):
        counts += gaussian_line_mask(256, 6, rng=np.random.default_rng(seed)).mask.numpy()
    centre = counts[128 - 40 : 128 - 10].mean()
    edge = np.concatenate([counts[:30], counts[-30:]]).mean()
    # Density at k = 25 lines (sigma = 64) is about 8x that at the edges.
    assert centre > 3 * edge


@pytest.mark.parametrize("builder", LINE_MASKS)
def test_line_masks_reproducible_from_seed(builder):
    a = builder(300, 4, rng=np.random.default_rng(7)).mask
    b = builder(300, 4, rng=np.random.default_rng(7)).mask
    c = builder(300, 4, rng=np.random.default_rng(8)).mask
    assert torch.equal(a, b)
    if builder is not equispaced_line_mask:
        assert not torch.equal(a, c)


@pytest.mark.parametrize("builder", GRID_MASKS)
@pytest.mark.parametrize("shape", [(64, 64), (65, 97), (128, 200)])
@pytest.mark.parametrize("acceleration", [2, 4, 8])
def test_grid_masks_reach_acceleration(builder, shape, acceleration):
    mask = builder(shape, acceleration, rng=np.random.default_rng(3))
    assert mask.mask.shape == shape
    assert mask.mask.dtype == torch.bool
    assert mask.num_sampled == round(shape[0] * shape[1] / acceleration)
    assert abs(mask.relative_error) <= 0.02
    box = mask.calibration_shape
    assert bool(mask.mask[calibration_slice(shape[0], box[0]), calibration_slice(shape[1], box[1])].all())


@pytest.mark.parametrize("builder", GRID_MASKS)
def test_grid_masks_reproducible_from_seed(builder):
    a = builder((70, 80), 4, rng=np.random.default_rng(11)).mask
    b = builder((70, 80), 4, rng=np.random.default_rng(11)).mask
    c = builder((70, 80), 4, rng=np.random.default_rng(12)).mask
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_poisson_disc_keeps_minimum_distance_at_the_edge():
    mask = poisson_disc_mask((96, 96), 6, rng=np.random.default_rng(5), density_slope=0.0)
    points = np.argwhere(mask.mask.numpy())
    box = mask.calibration_shape
    outside = points[(np.abs(points[:, 0] - 48) > box[0]) | (np.abs(points[:, 1] - 48) > box[1])]
    difference = outside[:, None, :] - outside[None, :, :]
    distance = np.hypot(difference[..., 0], difference[..., 1])
    np.fill_diagonal(distance, np.inf)
    # A uniform random mask at R = 6 puts about 1/6 of points next to another (distance 1);
    # the Poisson disc keeps every point at least sqrt(2) from its neighbours.
    assert distance.min() >= math.sqrt(2) - 1e-9


def test_poisson_density_falls_with_radius():
    mask = poisson_disc_mask((128, 128), 5, rng=np.random.default_rng(2)).mask.numpy()
    y, x = np.mgrid[:128, :128]
    radius = np.hypot(y - 64, x - 64)
    inner = mask[(radius > 15) & (radius < 30)].mean()
    outer = mask[(radius > 50) & (radius < 64)].mean()
    assert inner > 1.5 * outer


@pytest.mark.parametrize("builder", LINE_MASKS)
def test_line_masks_reject_bad_input(builder):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="`acceleration` must be > 1, got 1.0"):
        builder(64, 1, rng=rng)
    with pytest.raises(ValueError, match="`acceleration` must be > 1, got 0.5"):
        builder(64, 0.5, rng=rng)
    with pytest.raises(ValueError, match="`center_fraction` must be in"):
        builder(64, 4, rng=rng, center_fraction=1.5)
    with pytest.raises(TypeError, match="`width` must be an int"):
        builder(64.0, 4, rng=rng)


@pytest.mark.parametrize("builder", GRID_MASKS)
def test_grid_masks_reject_bad_input(builder):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="`acceleration` must be > 1"):
        builder((32, 32), 1.0, rng=rng)
    with pytest.raises(ValueError, match="calibration box"):
        builder((32, 32), 8, rng=rng, center_fraction=0.5)
    with pytest.raises(ValueError, match="`shape` must be"):
        builder((32,), 4, rng=rng)


def test_calibration_larger_than_budget_raises():
    with pytest.raises(ValueError, match="asks for 32 calibration lines"):
        random_line_mask(64, 4, rng=np.random.default_rng(0), center_fraction=0.5)


def test_line_mask_to_grid_broadcasts():
    mask = random_line_mask(10, 2, rng=np.random.default_rng(0), center_fraction=0.2).mask
    grid = line_mask_to_grid(mask, 3, axis=1)
    assert grid.shape == (1, 10, 1)
    kspace = torch.ones(4, 10, 6) * grid
    assert torch.equal(kspace[0, :, 0].bool(), mask)
    with pytest.raises(ValueError, match="must be 1-D"):
        line_mask_to_grid(torch.ones(2, 2, dtype=torch.bool), 3)
