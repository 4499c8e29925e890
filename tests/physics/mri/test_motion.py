import math

import pytest
import torch

from medaug.physics.mri.coils import birdcage_sensitivities
from medaug.physics.mri.fft import fftnc, ifftnc
from medaug.physics.mri.motion import fourier_rotate, rigid_motion_kspace, shot_schedule


def _gaussian(shape, centre, width):
    grids = torch.meshgrid(*[torch.arange(n, dtype=torch.float64) - n // 2 for n in shape], indexing="ij")
    squared = sum((g - c) ** 2 for g, c in zip(grids, centre))
    return torch.exp(-squared / (2 * width**2)).to(torch.complex128)


def test_fourier_rotation_matches_rotated_gaussian():
    image = _gaussian((64, 64), (0.0, 10.0), 3.0)
    rotated = fourier_rotate(image, 30.0)
    # Content on the W axis at +10 turns towards H: it ends at (10 sin 30, 10 cos 30).
    expected = _gaussian((64, 64), (10 * math.sin(math.radians(30)), 10 * math.cos(math.radians(30))), 3.0)
    # A Gaussian of width 3 px is band-limited to about 1e-8 on this grid.
    assert torch.allclose(rotated, expected, atol=1e-6)


def test_zero_motion_is_exact_identity():
    image = _gaussian((16, 12), (1.0, -2.0), 2.0)
    maps = birdcage_sensitivities((16, 12), 3, dtype=torch.complex128)
    shots = shot_schedule(12, 4)
    kspace = rigid_motion_kspace(image, torch.zeros(4), torch.zeros(4, 2), shots, coil_sensitivities=maps)
    assert torch.equal(kspace, fftnc(image.unsqueeze(0) * maps))


def test_single_shot_translation_shifts_image():
    image = _gaussian((32, 32), (0.0, 0.0), 2.0)
    kspace = rigid_motion_kspace(
        image, torch.zeros(1), torch.tensor([[3.0, -4.0]]), torch.zeros(32, dtype=torch.long),
        spacing_mm=(1.5, 2.0),
    )
    # 3 mm at 1.5 mm spacing is 2 px along H; -4 mm at 2 mm is -2 px along W.
    expected = _gaussian((32, 32), (2.0, -2.0), 2.0)
    assert torch.allclose(ifftnc(kspace), expected, atol=1e-8)


def test_motion_takes_each_line_from_its_shot():
    image = _gaussian((16, 16), (2.0, 1.0), 2.0)
    shots = shot_schedule(16, 2, interleaved=True)
    rotations = torch.tensor([0.0, 10.0])
    translations = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    kspace = rigid_motion_kspace(image, rotations, translations, shots, axis=-1)
    still = fftnc(image)
    moved = rigid_motion_kspace(image, rotations[1:], translations[1:], torch.zeros(16, dtype=torch.long))
    assert torch.equal(kspace[:, 0::2], still[:, 0::2])
    assert torch.equal(kspace[:, 1::2], moved[:, 1::2])


def test_motion_3d_rotation_about_first_axis():
    image = _gaussian((4, 64, 64), (0.0, 0.0, 10.0), 3.0)
    kspace = rigid_motion_kspace(
        image, torch.tensor([[30.0, 0.0, 0.0]]), torch.zeros(1, 3), torch.zeros(64, dtype=torch.long)
    )
    rotated = ifftnc(kspace, (-3, -2, -1))
    angle = math.radians(30.0)
    expected = _gaussian((4, 64, 64), (0.0, 10 * math.sin(angle), 10 * math.cos(angle)), 3.0)
    # The first angle turns the (H, W) plane. The shears widen the spectrum, and a
    # width-3 Gaussian far from the periodic border stays band-limited through them.
    assert torch.allclose(rotated, expected, atol=1e-5)


def test_motion_is_differentiable():
    image = _gaussian((8, 8), (0.0, 0.0), 1.5).requires_grad_(True)
    kspace = rigid_motion_kspace(image, torch.tensor([5.0]), torch.tensor([[0.5, 0.0]]), torch.zeros(8, dtype=torch.long))
    kspace.abs().pow(2).sum().backward()
    # Rotation and translation are unitary here, so the gradient of |k|^2 is 2 x.
    assert torch.allclose(image.grad, 2 * image.detach(), atol=1e-10)


def test_motion_rejects_bad_input():
    image = torch.zeros(8, 8, dtype=torch.complex64)
    shots = torch.zeros(8, dtype=torch.long)
    with pytest.raises(ValueError, match="`translations_mm` must be shaped \\(1, 2\\)"):
        rigid_motion_kspace(image, torch.zeros(1), torch.zeros(2, 2), shots)
    with pytest.raises(ValueError, match="`shot_of_line` values must be in \\[0, 0\\]"):
        rigid_motion_kspace(image, torch.zeros(1), torch.zeros(1, 2), shots + 1)
    with pytest.raises(ValueError, match="`shot_of_line` must be an int tensor shaped \\(8,\\)"):
        rigid_motion_kspace(image, torch.zeros(1), torch.zeros(1, 2), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="`angle_deg` must be in \\(-90, 90\\)"):
        fourier_rotate(image, 120.0)
    with pytest.raises(TypeError, match="`image` must be a complex tensor"):
        rigid_motion_kspace(image.real, torch.zeros(1), torch.zeros(1, 2), shots)
    with pytest.raises(ValueError, match="need 1 <= `num_shots` <= `num_lines`"):
        shot_schedule(4, 5)
