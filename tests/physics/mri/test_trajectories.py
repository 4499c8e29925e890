import math

import pytest
import torch

from medaug.physics.mri.nufft import NUFFT
from medaug.physics.mri.trajectories import (
    GOLDEN_ANGLE_DEG,
    pipe_density_compensation,
    radial_density_compensation,
    radial_trajectory,
    spiral_trajectory,
)


def test_radial_golden_angle_increment():
    trajectory = radial_trajectory(5, 8)
    assert trajectory.shape == (5, 8, 2)
    angles = torch.rad2deg(torch.atan2(trajectory[:, 0, 0], trajectory[:, 0, 1]))
    step = (angles[1] - angles[0]) % 180
    assert float(step) == pytest.approx(GOLDEN_ANGLE_DEG % 180, abs=1e-9)
    assert GOLDEN_ANGLE_DEG == pytest.approx(111.24611797, abs=1e-8)
    # Every spoke passes through the centre at sample n // 2.
    assert torch.count_nonzero(trajectory[:, 4]) == 0


def test_radial_uniform_spokes_cover_half_circle():
    trajectory = radial_trajectory(4, 8, golden_angle=False)
    angles = torch.rad2deg(torch.atan2(trajectory[:, -1, 0], trajectory[:, -1, 1]))
    assert torch.allclose(angles, torch.tensor([0.0, 45.0, 90.0, 135.0], dtype=torch.float64))


def test_spiral_reaches_edge_and_rotates_interleaves():
    trajectory = spiral_trajectory(3, 200, num_turns=4.0)
    radius = torch.linalg.vector_norm(trajectory, dim=-1)
    assert float(radius.max()) < 0.5
    assert float(radius[:, -1].min()) == pytest.approx(0.5 * 199 / 200)
    start = torch.atan2(trajectory[:, 1, 0], trajectory[:, 1, 1])
    assert float((start[1] - start[0]) % (2 * math.pi)) == pytest.approx(2 * math.pi / 3, abs=0.2)


def test_pipe_weights_are_one_on_cartesian_grid():
    axes = [(torch.arange(n, dtype=torch.float64) - n // 2) / n for n in (8, 8)]
    grid = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1)
    weights = pipe_density_compensation(NUFFT(grid, (8, 8), eps=1e-12), (8, 8), iterations=3)
    # A A^H = I on a full grid, so w = 1 is the fixed point.
    assert torch.allclose(weights, torch.ones(8, 8, dtype=torch.float64), atol=1e-9)


def test_density_compensation_gridding_recovers_smooth_object():
    trajectory = radial_trajectory(101, 64)
    operator = NUFFT(trajectory, (64, 64), eps=1e-9)
    y, x = torch.meshgrid(torch.arange(64) - 32, torch.arange(64) - 32, indexing="ij")
    truth = torch.exp(-(y**2 + x**2) / 100.0).to(torch.complex128)
    kspace = operator(truth)
    # Gridding is approximate: a smooth object at the Nyquist spoke count is
    # recovered to a few percent. The ramp's area model is coarsest within a
    # few samples of the centre, where it overweights the mean by about 1 %.
    cases = (
        (radial_density_compensation(trajectory, (64, 64)), 0.08),
        (pipe_density_compensation(operator, trajectory.shape[:-1], iterations=10), 0.05),
    )
    for weights, tolerance in cases:
        recon = operator.adjoint(kspace * weights)
        assert float((recon - truth).norm() / truth.norm()) < tolerance
    # Without weights the centre dominates and the error exceeds 90 %.
    assert float((operator.adjoint(kspace) - truth).norm() / truth.norm()) > 0.9


def test_radial_weights_follow_the_ramp():
    trajectory = radial_trajectory(50, 64)
    weights = radial_density_compensation(trajectory, (64, 64))
    radius = torch.linalg.vector_norm(trajectory, dim=-1)
    outer = radius > 0.1
    ratio = weights[outer] / radius[outer]
    assert torch.allclose(ratio, torch.full_like(ratio, math.pi * 64 * 64 / (50 * 64)))


def test_trajectories_reject_bad_input():
    with pytest.raises(ValueError, match="`num_spokes` must be >= 1"):
        radial_trajectory(0, 8)
    with pytest.raises(TypeError, match="`num_readout` must be an int"):
        radial_trajectory(4, 8.0)
    with pytest.raises(ValueError, match="`num_turns` must be > 0"):
        spiral_trajectory(2, 8, num_turns=0)
    with pytest.raises(ValueError, match="must be shaped \\(spokes, readout, 2\\)"):
        radial_density_compensation(torch.zeros(4, 2), (8, 8))
