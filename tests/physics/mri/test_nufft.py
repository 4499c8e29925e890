import math

import numpy as np
import pytest
import torch

from medaug.physics.mri.coils import birdcage_sensitivities
from medaug.physics.mri.fft import fftnc
from medaug.physics.mri.nufft import NUFFT, NonCartesianMRI
from medaug.physics.mri.reconstruction import cg_sense
from medaug.physics.mri.trajectories import radial_trajectory, spiral_trajectory
from medaug.physics.operators import adjoint_mismatch


def _random(shape, seed, dtype=torch.complex128):
    return torch.randn(shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def _cartesian_grid(shape):
    axes = [(torch.arange(n, dtype=torch.float64) - n // 2) / n for n in shape]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1)


@pytest.mark.parametrize("shape", [(6, 9), (7, 8), (4, 5, 6)])
def test_nufft_on_cartesian_grid_equals_fft(shape):
    operator = NUFFT(_cartesian_grid(shape), shape, eps=1e-12)
    x = _random(shape, 0)
    axes = tuple(range(-len(shape), 0))
    # finufft meets eps = 1e-12 relative to the l2 norm of the output.
    assert torch.allclose(operator(x), fftnc(x, axes), atol=1e-10)


def test_nufft_matches_direct_sum():
    trajectory = torch.rand(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) - 0.5
    shape = (8, 11)
    x = _random(shape, 2)
    index = [torch.arange(n, dtype=torch.float64) - n // 2 for n in shape]
    grid_h, grid_w = torch.meshgrid(*index, indexing="ij")
    phase = -2 * math.pi * (trajectory[:, 0, None, None] * grid_h + trajectory[:, 1, None, None] * grid_w)
    expected = (x * torch.exp(1j * phase)).sum(dim=(-2, -1)) / math.sqrt(88)
    assert torch.allclose(NUFFT(trajectory, shape, eps=1e-12)(x), expected, atol=1e-10)


@pytest.mark.parametrize("eps", [1e-4, 1e-8])
def test_nufft_adjoint_identity_to_tolerance(eps):
    trajectory = radial_trajectory(20, 32)
    operator = NUFFT(trajectory, (32, 32), eps=eps)
    x = _random((32, 32), 3)
    y = _random((20, 32), 4)
    # Forward and adjoint are each accurate to eps, so the identity holds to a few eps.
    assert adjoint_mismatch(operator, x, y) < 10 * eps


def test_multicoil_noncartesian_adjoint_identity_batched():
    maps = birdcage_sensitivities((24, 24), 4, dtype=torch.complex128)
    operator = NonCartesianMRI(spiral_trajectory(4, 100, num_turns=3.0), maps, eps=1e-9)
    x = _random((2, 24, 24), 5)
    y = _random((2, 4, 4, 100), 6)
    assert operator.forward(x).shape == (2, 4, 4, 100)
    assert adjoint_mismatch(operator, x, y) < 1e-8


def test_noncartesian_3d_adjoint_identity():
    trajectory = torch.rand(200, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(7)) - 0.5
    operator = NonCartesianMRI(trajectory, image_shape=(6, 7, 8), eps=1e-9)
    assert adjoint_mismatch(operator, _random((6, 7, 8), 8), _random((1, 200), 9)) < 1e-8


def test_nufft_complex64_keeps_dtype_and_tolerance():
    operator = NUFFT(radial_trajectory(16, 32), (32, 32), eps=1e-5)
    x = _random((32, 32), 10, torch.complex64)
    y = operator(x)
    assert y.dtype == torch.complex64
    assert adjoint_mismatch(operator, x, _random((16, 32), 11, torch.complex64)) < 1e-4


def test_nufft_gradient_is_adjoint():
    operator = NUFFT(radial_trajectory(8, 16), (16, 16), eps=1e-10)
    x = _random((16, 16), 12).requires_grad_(True)
    weights = _random((8, 16), 13)
    loss = torch.real(torch.sum(torch.conj(weights) * operator(x)))
    loss.backward()
    # d Re<w, A x> / d conj(x) gives A^H w under torch's convention.
    assert torch.allclose(x.grad, operator.adjoint(weights), atol=1e-9)
    small = NUFFT(radial_trajectory(3, 6), (6, 6), eps=1e-12)
    assert torch.autograd.gradcheck(
        lambda v: small(v), (_random((6, 6), 14).requires_grad_(True),), eps=1e-6, atol=1e-6
    )


def test_cg_sense_on_radial_data():
    maps = birdcage_sensitivities((32, 32), 4, dtype=torch.complex128)
    operator = NonCartesianMRI(radial_trajectory(40, 64), maps, eps=1e-9)
    y_, x_ = torch.meshgrid(torch.arange(32) - 16, torch.arange(32) - 16, indexing="ij")
    truth = torch.exp(-(y_**2 + x_**2) / 50.0).to(torch.complex128)
    recon = cg_sense(operator.forward(truth), operator, iterations=50, tolerance=1e-10)
    # Noise-free 4-coil radial data with 2x readout oversampling are well conditioned.
    assert float((recon - truth).norm() / truth.norm()) < 1e-2


def test_nufft_rejects_bad_input():
    with pytest.raises(ValueError, match="must lie in \\[-0.5, 0.5\\]"):
        NUFFT(torch.full((4, 2), 0.7, dtype=torch.float64), (8, 8))
    with pytest.raises(ValueError, match="must be shaped \\(..., 2\\)"):
        NUFFT(torch.zeros(4, 3, dtype=torch.float64), (8, 8))
    with pytest.raises(TypeError, match="real floating-point"):
        NUFFT(torch.zeros(4, 2, dtype=torch.int64), (8, 8))
    operator = NUFFT(torch.zeros(4, 2, dtype=torch.float64), (8, 8))
    with pytest.raises(TypeError, match="`x` must be a complex tensor"):
        operator(torch.ones(8, 8))
    with pytest.raises(ValueError, match="`x` must end with shape \\(8, 8\\)"):
        operator(torch.ones(4, 4, dtype=torch.complex64))
    with pytest.raises(ValueError, match="`eps` must be in"):
        NUFFT(torch.zeros(4, 2, dtype=torch.float64), (8, 8), eps=0.0)
    with pytest.raises(ValueError, match="`image_shape` is required"):
        NonCartesianMRI(torch.zeros(4, 2, dtype=torch.float64))


def test_nufft_numpy_free_inputs_do_not_change():
    trajectory = radial_trajectory(4, 8)
    before = trajectory.clone()
    NUFFT(trajectory, (8, 8))(torch.ones(8, 8, dtype=torch.complex128))
    assert torch.equal(trajectory, before)
    assert np.isfinite(trajectory.numpy()).all()
