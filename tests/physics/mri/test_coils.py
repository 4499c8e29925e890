import math

import pytest
import torch

from medaug.physics.mri.coils import (
    birdcage_sensitivities,
    normalize_sensitivities,
    surface_coil_sensitivities,
)

BUILDERS = [birdcage_sensitivities, surface_coil_sensitivities]


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("num_coils", [1, 3, 8])
def test_coils_rss_is_one_2d(builder, num_coils):
    maps = builder((24, 31), num_coils)
    assert maps.shape == (num_coils, 24, 31)
    assert maps.dtype == torch.complex64
    rss = maps.abs().pow(2).sum(0).sqrt()
    # complex64 rounding of a normalised sum of squares.
    assert torch.allclose(rss, torch.ones_like(rss), atol=1e-6)


@pytest.mark.parametrize("builder", BUILDERS)
def test_coils_3d_rings_and_support(builder):
    support = torch.zeros(6, 10, 12, dtype=torch.bool)
    support[1:5, 2:8, 3:9] = True
    maps = builder((6, 10, 12), 8, num_rings=2, support=support)
    assert maps.shape == (8, 6, 10, 12)
    rss = maps.abs().pow(2).sum(0).sqrt()
    assert torch.allclose(rss[support], torch.ones(int(support.sum())), atol=1e-6)
    assert torch.count_nonzero(rss[~support]) == 0


def test_birdcage_follows_biot_savart_in_2d():
    maps = birdcage_sensitivities((33, 33), 4, radius=1.5, dtype=torch.complex128)
    # Coil 0 sits at normalised (x, y) = (1.5, 0); the raw field is -i / (z - z0).
    # Ratios of one coil at two voxels cancel the RSS only where the RSS is equal,
    # so compare ratios between coils at one voxel instead.
    scale = 33 / 2
    y, x = (20 - 16) / scale, (10 - 16) / scale
    raw = [-1j / complex(x - 1.5 * math.cos(a), y - 1.5 * math.sin(a)) for a in
           (0, math.pi / 2, math.pi, 3 * math.pi / 2)]
    expected = complex(raw[1] / raw[0])
    got = complex(maps[1, 20, 10] / maps[0, 20, 10])
    assert got == pytest.approx(expected, rel=1e-10)


def test_surface_coil_magnitude_is_gaussian():
    maps = surface_coil_sensitivities((16, 16), 2, radius=1.0, width=0.5, dtype=torch.complex128)
    # Two coils at (1, 0) and (-1, 0): magnitude ratio is the Gaussian ratio.
    scale = 8
    x0 = (12 - 8) / scale
    y0 = 0.0
    d0 = (x0 - 1) ** 2 + y0**2
    d1 = (x0 + 1) ** 2 + y0**2
    expected = math.exp(-(d0 - d1) / (2 * 0.25))
    got = float(maps[0, 8, 12].abs() / maps[1, 8, 12].abs())
    assert got == pytest.approx(expected, rel=1e-10)


def test_coils_on_device(device):
    maps = birdcage_sensitivities((8, 8), 2, device=device)
    assert maps.device.type == device


def test_coils_reject_bad_input():
    with pytest.raises(ValueError, match="`num_coils` must be >= 1"):
        birdcage_sensitivities((8, 8), 0)
    with pytest.raises(TypeError, match="`num_coils` must be an int"):
        birdcage_sensitivities((8, 8), 2.0)
    with pytest.raises(ValueError, match="`shape` must have 2 or 3"):
        birdcage_sensitivities((8,), 2)
    with pytest.raises(ValueError, match="`num_rings` must be >= 1 and divide"):
        birdcage_sensitivities((4, 8, 8), 6, num_rings=4)
    with pytest.raises(ValueError, match="`num_rings` must be 1 for 2-D"):
        surface_coil_sensitivities((8, 8), 4, num_rings=2)
    with pytest.raises(ValueError, match="`width` must be > 0"):
        surface_coil_sensitivities((8, 8), 4, width=0)
    with pytest.raises(ValueError, match="`support` must have the grid shape"):
        birdcage_sensitivities((8, 8), 2, support=torch.ones(4, 4, dtype=torch.bool))


def test_normalize_rejects_zero_rss_inside_support():
    maps = torch.zeros(2, 3, 3, dtype=torch.complex64)
    with pytest.raises(ValueError, match="zero root-sum-of-squares"):
        normalize_sensitivities(maps)
