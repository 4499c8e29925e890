"""Reconstruction: FBP and FDK scale, filters, iterative baselines and bad input."""

import numpy as np
import pytest
import torch

from medaug.physics.ct import (
    ConeBeamGeometry,
    ConeBeamProjector,
    FanBeamGeometry,
    FanBeamProjector,
    ParallelBeamGeometry,
    ParallelBeamProjector,
    cg_normal_equations,
    fbp,
    fdk,
    sirt,
    uniform_angles,
)

# Linear attenuation coefficient of water at 60 keV in 1/cm (NIST XCOM,
# Hubbell and Seltzer, NISTIR 5632): the value the reconstruction must return.
MU_WATER_60KEV = 0.2059


def _disc(n, radius):
    axis = torch.arange(n, dtype=torch.float64) - (n - 1) / 2
    return (axis[:, None] ** 2 + axis[None, :] ** 2 <= radius**2).to(torch.float64)


GEOMETRIES = {
    "parallel": ParallelBeamGeometry(uniform_angles(180), 128),
    "fan-flat": FanBeamGeometry(uniform_angles(360, arc_deg=360), 260, 1.0, 400.0, 800.0),
    "fan-equiangular": FanBeamGeometry(
        uniform_angles(360, arc_deg=360), 260, 1.0, 400.0, 800.0, detector_type="equiangular"
    ),
}


@pytest.mark.parametrize("name", list(GEOMETRIES))
@pytest.mark.parametrize("kernel", ["ramp", "shepp-logan", "cosine", "hann"])
def test_fbp_water_disc_mean(name, kernel):
    geometry = GEOMETRIES[name]
    water = _disc(128, 50) * MU_WATER_60KEV
    projector = (ParallelBeamProjector if name == "parallel" else FanBeamProjector)(geometry, (128, 128))
    image = fbp(projector(water), geometry, (128, 128), filter=kernel)
    inside = _disc(128, 40).bool()
    # 0.5 %: FBP of a rasterised disc is unbiased away from its edge; the
    # edge ringing decays within about 5 pixels of the 50 px boundary.
    assert abs(float(image[inside].mean()) / MU_WATER_60KEV - 1) < 0.005


def test_fbp_outside_circle_is_zero():
    geometry = ParallelBeamGeometry(uniform_angles(30), 32)
    image = fbp(torch.ones(30, 32), geometry, (48, 48))
    assert float(image[0, 0]) == 0.0


def test_fbp_unknown_filter_raises():
    geometry = ParallelBeamGeometry(uniform_angles(8), 16)
    with pytest.raises(ValueError, match="`filter` must be one of"):
        fbp(torch.zeros(8, 16), geometry, (16, 16), filter="lanczos")


def test_fbp_bad_cutoff_raises():
    geometry = ParallelBeamGeometry(uniform_angles(8), 16)
    with pytest.raises(ValueError, match="`cutoff` must be in"):
        fbp(torch.zeros(8, 16), geometry, (16, 16), cutoff=0.0)


def test_fbp_non_finite_sinogram_raises():
    geometry = ParallelBeamGeometry(uniform_angles(8), 16)
    sinogram = torch.zeros(8, 16)
    sinogram[0, 0] = float("inf")
    with pytest.raises(ValueError, match="`sinogram` contains NaN or inf"):
        fbp(sinogram, geometry, (16, 16))


def test_fbp_numpy_batch():
    geometry = ParallelBeamGeometry(uniform_angles(20), 24)
    result = fbp(np.zeros((2, 20, 24), np.float32), geometry, (16, 16))
    assert isinstance(result, np.ndarray)
    assert result.shape == (2, 16, 16)
    assert result.dtype == np.float32


def test_fdk_cylinder_mid_plane():
    geometry = ConeBeamGeometry(uniform_angles(60, arc_deg=360), (24, 40), (2.0, 2.0), 120.0, 240.0)
    z, y, x = torch.meshgrid(*(torch.arange(20.0, dtype=torch.float64) - 9.5,) * 3, indexing="ij")
    volume = ((x**2 + y**2 <= 7.5**2) & (z.abs() <= 6)).to(torch.float64) * MU_WATER_60KEV
    projections = ConeBeamProjector(geometry, volume.shape)(volume)
    recon = fdk(projections, geometry, volume.shape)
    centre = recon[8:12, 7:13, 7:13]
    # 1 %: the mid-plane of FDK is exact up to discretisation; 60 views of a
    # 15 px cylinder leave a ringing of a few 0.1 % near its centre.
    assert abs(float(centre.mean()) / MU_WATER_60KEV - 1) < 0.01


def test_iterative_reduce_error():
    geometry = ParallelBeamGeometry(uniform_angles(20), 32)
    projector = ParallelBeamProjector(geometry, (32, 32))
    truth = _disc(32, 10) * 0.2
    sinogram = projector(truth)
    error_start = float(torch.linalg.vector_norm(truth))
    for method in (sirt, cg_normal_equations):
        few = method(sinogram, projector, iterations=2)
        many = method(sinogram, projector, iterations=30)
        error_few = float(torch.linalg.vector_norm(few - truth))
        error_many = float(torch.linalg.vector_norm(many - truth))
        assert error_many < error_few < error_start


def test_sirt_bad_relaxation_raises():
    projector = ParallelBeamProjector(ParallelBeamGeometry(uniform_angles(4), 8), (8, 8))
    with pytest.raises(ValueError, match="`relaxation` must be in"):
        sirt(torch.zeros(4, 8), projector, relaxation=2.5)
