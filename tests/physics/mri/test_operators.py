import numpy as np
import pytest
import torch

from medaug.physics.mri import operators as operators_module
from medaug.physics.mri.coils import birdcage_sensitivities
from medaug.physics.mri.fft import fftnc
from medaug.physics.mri.masks import line_mask_to_grid, random_line_mask
from medaug.physics.mri.operators import MRIAcquisition
from medaug.physics.mri.poisson import poisson_disc_mask
from medaug.physics.mri.reconstruction import (
    cg_sense,
    coil_combine,
    root_sum_of_squares,
    zero_filled,
)
from medaug.physics.operators import adjoint_mismatch


def _random(shape, seed, dtype=torch.complex128):
    return torch.randn(shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def _operators():
    maps2 = birdcage_sensitivities((12, 15), 4, dtype=torch.complex128)
    maps3 = birdcage_sensitivities((6, 8, 10), 4, num_rings=2, dtype=torch.complex128)
    line = random_line_mask(15, 3, rng=np.random.default_rng(0), center_fraction=0.2).mask
    plane = poisson_disc_mask((8, 10), 2, rng=np.random.default_rng(0)).mask
    return [
        ("single_coil_full", MRIAcquisition(), (12, 15)),
        ("single_coil_lines", MRIAcquisition(mask=line), (12, 15)),
        ("multi_coil_lines", MRIAcquisition(maps2, line), (12, 15)),
        ("multi_coil_batched", MRIAcquisition(maps2, line), (3, 12, 15)),
        ("multi_coil_3d_poisson", MRIAcquisition(maps3, plane, spatial_ndim=3), (6, 8, 10)),
    ]


@pytest.mark.parametrize("name, operator, shape", _operators(), ids=[o[0] for o in _operators()])
def test_acquisition_adjoint_identity(name, operator, shape):
    x = _random(shape, 1)
    y = _random(operator.forward(x).shape, 2)
    # float64 FFTs: the normalised mismatch stays at rounding level.
    assert adjoint_mismatch(operator, x, y) < 1e-13


def test_acquisition_adjoint_identity_complex64():
    maps = birdcage_sensitivities((16, 16), 8)
    operator = MRIAcquisition(maps, line_mask_to_grid(random_line_mask(16, 2, rng=np.random.default_rng(1)).mask, 2))
    x = _random((16, 16), 3, torch.complex64)
    y = _random((8, 16, 16), 4, torch.complex64)
    # complex64 rounding over a few hundred terms.
    assert adjoint_mismatch(operator, x, y) < 1e-5


def test_full_sampling_is_exact_identity():
    maps = birdcage_sensitivities((10, 11), 3)
    x = _random((10, 11), 5, torch.complex64)
    full = torch.ones(11, dtype=torch.bool)
    unmasked = MRIAcquisition(maps).forward(x)
    assert torch.equal(MRIAcquisition(maps, full).forward(x), unmasked)
    # Broadcast order changes complex64 rounding of S x by about 1e-7.
    assert torch.allclose(unmasked, fftnc(maps * x), atol=1e-6)


def test_full_sampling_is_exact_identity_even_grid():
    maps = birdcage_sensitivities((16, 12), 4)
    x = _random((2, 16, 12), 15, torch.complex64)
    unmasked = MRIAcquisition(maps).forward(x)
    full = MRIAcquisition(maps, torch.ones(16, 12, dtype=torch.bool)).forward(x)
    assert torch.equal(full, unmasked)
    # The sign-modulated FFT equals the shifted one up to complex64 rounding.
    assert torch.allclose(unmasked, fftnc(x.unsqueeze(1) * maps), atol=1e-5)
    adjoint = MRIAcquisition(maps).adjoint(unmasked)
    assert torch.allclose(adjoint, x, atol=1e-5)


def test_single_coil_zero_filled_recovers_image():
    x = _random((9, 8), 6)
    k = MRIAcquisition().forward(x)
    assert k.shape == (1, 9, 8)
    # One forward and one inverse FFT in float64.
    assert torch.allclose(zero_filled(k)[0], x, atol=1e-12)


def test_rss_and_coil_combine_recover_magnitude():
    maps = birdcage_sensitivities((16, 16), 6, dtype=torch.complex128)
    x = _random((16, 16), 7)
    coil_images = zero_filled(MRIAcquisition(maps).forward(x))
    # Maps have RSS 1, so the RSS of coil images is |x|.
    assert torch.allclose(root_sum_of_squares(coil_images, coil_axis=0), x.abs(), atol=1e-12)
    assert torch.allclose(coil_combine(coil_images, maps, coil_axis=0), x, atol=1e-12)


def test_cg_sense_reconstructs_undersampled_data():
    maps = birdcage_sensitivities((32, 32), 8, dtype=torch.complex128)
    mask = random_line_mask(32, 2, rng=np.random.default_rng(2), center_fraction=0.25).mask
    operator = MRIAcquisition(maps, mask)
    y_, x_ = torch.meshgrid(torch.arange(32) - 16, torch.arange(32) - 16, indexing="ij")
    truth = torch.exp(-(y_**2 + x_**2) / 60.0).to(torch.complex128)
    kspace = operator.forward(truth)
    recon = cg_sense(kspace, operator, iterations=60, tolerance=1e-10)
    zero = operator.adjoint(kspace)
    error = float((recon - truth).norm() / truth.norm())
    # Noise-free, 8 coils at R = 2: CG converges close to the truth; the
    # zero-filled adjoint stays far from it.
    assert error < 1e-3
    assert float((zero - truth).norm() / truth.norm()) > 10 * error


def test_cg_sense_batched_matches_unbatched():
    maps = birdcage_sensitivities((16, 16), 4, dtype=torch.complex128)
    mask = random_line_mask(16, 2, rng=np.random.default_rng(3), center_fraction=0.25).mask
    operator = MRIAcquisition(maps, mask)
    truth = _random((2, 16, 16), 8)
    kspace = operator.forward(truth)
    batched = cg_sense(kspace, operator, iterations=200, tolerance=1e-12, regularization=1e-3)
    single = cg_sense(kspace[1], operator, iterations=200, tolerance=1e-12, regularization=1e-3)
    # Both solve the same regularised normal equations to 1e-12 residual.
    assert torch.allclose(batched[1], single, atol=1e-8)


def test_acquisition_is_differentiable():
    maps = birdcage_sensitivities((8, 8), 2, dtype=torch.complex128)
    operator = MRIAcquisition(maps, torch.ones(8, dtype=torch.bool))
    x = _random((8, 8), 9).requires_grad_(True)
    operator.forward(x).abs().pow(2).sum().backward()
    # Full sampling and RSS-1 maps make |A x|^2 = |x|^2, whose gradient is 2 x.
    assert torch.allclose(x.grad, 2 * x.detach(), atol=1e-10)


def test_acquisition_on_device(device):
    maps = birdcage_sensitivities((8, 8), 2, device=device)
    operator = MRIAcquisition(maps)
    y = operator.forward(torch.ones(8, 8, dtype=torch.complex64, device=device))
    assert y.device.type == device
    assert y.dtype == torch.complex64


def test_acquisition_rejects_bad_input():
    maps = birdcage_sensitivities((8, 8), 2)
    with pytest.raises(TypeError, match="`x` must be a complex tensor"):
        MRIAcquisition(maps).forward(torch.ones(8, 8))
    with pytest.raises(TypeError, match="`coil_sensitivities` must be a complex tensor"):
        MRIAcquisition(maps.abs())
    with pytest.raises(ValueError, match="`mask` shape \\(5,\\) does not broadcast"):
        MRIAcquisition(maps, torch.ones(5, dtype=torch.bool))
    with pytest.raises(ValueError, match="`mask` shape \\(3,\\) does not broadcast"):
        MRIAcquisition(mask=torch.ones(3, dtype=torch.bool)).forward(torch.ones(8, 8, dtype=torch.complex64))
    with pytest.raises(TypeError, match="`mask` must be a bool tensor"):
        MRIAcquisition(maps, torch.ones(8))
    with pytest.raises(ValueError, match="spatial shape \\(4, 4\\) does not match"):
        MRIAcquisition(maps).forward(torch.ones(4, 4, dtype=torch.complex64))
    with pytest.raises(ValueError, match="`spatial_ndim` must be 2 or 3"):
        MRIAcquisition(spatial_ndim=4)
    with pytest.raises(ValueError, match="`regularization` must be >= 0"):
        cg_sense(torch.ones(2, 8, 8, dtype=torch.complex64), MRIAcquisition(maps), regularization=-1)


@pytest.fixture
def per_coil(monkeypatch):
    """Send every CPU call without autograd through the per-coil path, whatever its size."""
    monkeypatch.setattr(operators_module, "_PER_COIL_BYTES", 0)


@pytest.mark.parametrize("name, operator, shape", _operators(), ids=[o[0] for o in _operators()])
def test_per_coil_path_matches_batched_path(name, operator, shape, per_coil):
    x = _random(shape, 10)
    y = _random(operator.forward(x).shape, 11)
    # Inputs that require grad take the batched autograd path; plain ones the per-coil path.
    forward = operator.forward(x.clone().requires_grad_(True)).detach()
    adjoint = operator.adjoint(y.clone().requires_grad_(True)).detach()
    # Same float64 FFTs, batched or one at a time: rounding-level differences only.
    assert torch.allclose(operator.forward(x), forward, atol=1e-13)
    assert torch.allclose(operator.adjoint(y), adjoint, atol=1e-13)


def test_per_coil_path_broadcasts_batched_maps_and_masks(per_coil):
    maps = birdcage_sensitivities((8, 10), 3, dtype=torch.complex128)
    batched_maps = torch.stack([maps, maps.conj()])
    masks = torch.stack([torch.arange(10) % 2 == 0, torch.arange(10) % 3 == 0])[:, None, None, :]
    operator = MRIAcquisition(batched_maps, masks)
    x = _random((2, 8, 10), 12)
    kspace = operator.forward(x)
    assert kspace.shape == (2, 3, 8, 10)
    for b in range(2):
        single = MRIAcquisition(batched_maps[b], masks[b, 0, 0]).forward(x[b])
        # One float64 FFT per coil either way.
        assert torch.allclose(kspace[b], single, atol=1e-13)
    y = _random(kspace.shape, 13)
    # float64 FFTs: the normalised mismatch stays at rounding level.
    assert adjoint_mismatch(operator, x, y) < 1e-13


def test_root_sum_of_squares_complex_and_real():
    generator = torch.Generator().manual_seed(4)
    coils = torch.randn(6, 5, 7, dtype=torch.complex64, generator=generator)
    expected = torch.sqrt((coils.abs().to(torch.float64) ** 2).sum(dim=0))
    assert torch.allclose(root_sum_of_squares(coils, coil_axis=0).to(torch.float64), expected, rtol=1e-6)
    real = coils.real
    assert torch.allclose(root_sum_of_squares(real, coil_axis=-3), real.abs().square().sum(0).sqrt())
