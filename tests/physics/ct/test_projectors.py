"""CT projectors: adjoint identity, closed-form projections, bad input, shapes and gradients."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from medaug.phantoms import Phantom, ellipse
from medaug.physics.ct import (
    ConeBeamGeometry,
    ConeBeamProjector,
    FanBeamGeometry,
    FanBeamProjector,
    ParallelBeamGeometry,
    ParallelBeamProjector,
    uniform_angles,
)
from medaug.physics.operators import adjoint_mismatch

# float64 adjoint tests: a true transpose leaves only summation rounding,
# about 1e-16 relative; 1e-12 leaves room for long sums.
ADJOINT_TOLERANCE = 1e-12


def _disc(shape, radius, spacing=(1.0, 1.0), dtype=torch.float64):
    y = (torch.arange(shape[0], dtype=dtype) - (shape[0] - 1) / 2) * spacing[0]
    x = (torch.arange(shape[1], dtype=dtype) - (shape[1] - 1) / 2) * spacing[1]
    return ((y[:, None] ** 2 + x[None, :] ** 2) <= radius**2).to(dtype)


def _projectors_2d():
    shape = (24, 20)
    spacing = (1.0, 1.25)
    parallel = ParallelBeamGeometry(uniform_angles(17), 37, detector_spacing_mm=0.9, detector_offset_mm=0.3)
    flat = FanBeamGeometry(uniform_angles(19, arc_deg=360), 41, 1.2, 60.0, 110.0)
    arc = FanBeamGeometry(uniform_angles(19, arc_deg=360), 41, 1.2, 60.0, 110.0, detector_type="equiangular")
    return [
        ParallelBeamProjector(parallel, shape, spacing_mm=spacing, check_field_of_view=False),
        FanBeamProjector(flat, shape, spacing_mm=spacing, check_field_of_view=False),
        FanBeamProjector(arc, shape, spacing_mm=spacing, check_field_of_view=False),
    ]


@pytest.mark.parametrize("index", range(3), ids=["parallel", "fan-flat", "fan-equiangular"])
def test_adjoint_identity_2d(index):
    projector = _projectors_2d()[index]
    generator = torch.Generator().manual_seed(index)
    x = torch.randn(3, *projector.image_shape, dtype=torch.float64, generator=generator)
    y = torch.randn(3, *projector.sinogram_shape, dtype=torch.float64, generator=generator)
    assert adjoint_mismatch(projector, x, y) < ADJOINT_TOLERANCE


def test_adjoint_identity_within_field_of_view():
    geometry = ParallelBeamGeometry(uniform_angles(23), 30)
    projector = ParallelBeamProjector(geometry, (30, 30))
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(30, 30, dtype=torch.float64, generator=generator) * _disc((30, 30), 14.5)
    y = torch.randn(23, 30, dtype=torch.float64, generator=generator)
    assert adjoint_mismatch(projector, x, y) < ADJOINT_TOLERANCE


def test_adjoint_identity_cone():
    geometry = ConeBeamGeometry(uniform_angles(7, arc_deg=360), (9, 11), (1.5, 1.5), 40.0, 70.0)
    projector = ConeBeamProjector(geometry, (6, 8, 7), spacing_mm=(1.0, 1.1, 0.9), check_field_of_view=False)
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(2, 6, 8, 7, dtype=torch.float64, generator=generator)
    y = torch.randn(2, 7, 9, 11, dtype=torch.float64, generator=generator)
    assert adjoint_mismatch(projector, x, y) < ADJOINT_TOLERANCE


def test_ellipse_matches_analytic_sinogram():
    shape = (256, 256)
    centre, semi_axes, angle = (12.0, -20.0), (90.0, 55.0), 30.0
    geometry = ParallelBeamGeometry(uniform_angles(360), 256)
    # Phantom grids put index n // 2 at 0 mm and CT grids put (n - 1) / 2
    # there, so on an even grid a phantom raster sits half a pixel towards
    # +x and +y in CT coordinates. Rasterising the ellipse moved back by
    # half a pixel puts it at `centre` on the CT grid.
    moved = Phantom([ellipse((centre[0] - 0.5, centre[1] - 0.5), semi_axes, angle)])
    image = moved.rasterize(shape, 256.0, supersample=8, dtype=torch.float64).data[0]

    projected = ParallelBeamProjector(geometry, shape)(image).numpy()
    expected = Phantom([ellipse(centre, semi_axes, angle)]).sinogram(
        np.asarray(geometry.angles_deg), geometry.detector_positions_mm()
    )

    relative = np.linalg.norm(projected - expected) / np.linalg.norm(expected)
    # A rasterised ellipse differs from the continuous one only in edge
    # pixels, about 0.4 % here. A half-pixel disagreement between the grid
    # conventions gives 1.3 %, and a wrong angle sense or axis order far
    # more, so 0.75 % separates them.
    assert relative < 0.0075


def test_projection_conserves_mass():
    geometry = ParallelBeamGeometry(uniform_angles(12), 64, detector_spacing_mm=0.75)
    image = _disc((40, 40), 18.0, spacing=(1.2, 0.8)) * 0.3
    sinogram = ParallelBeamProjector(geometry, (40, 40), spacing_mm=(1.2, 0.8))(image)
    mass = float(image.sum()) * 1.2 * 0.8
    # Every view integrates the whole image. Summing the detector samples is
    # a Riemann sum of the profile p(t), off by well under 0.1 % for a disc;
    # a wrong path-length weight would be off by up to 40 %.
    totals = sinogram.sum(-1) * 0.75
    assert torch.allclose(totals, torch.full((12,), mass, dtype=torch.float64), rtol=1e-3)


def test_cone_central_ray_matches_chord():
    geometry = ConeBeamGeometry((0.0,), (5, 5), (1.0, 1.0), 60.0, 100.0)
    volume = torch.zeros(21, 21, 21, dtype=torch.float64)
    z, y, x = torch.meshgrid(*(torch.arange(21.0, dtype=torch.float64) - 10,) * 3, indexing="ij")
    volume[(x**2 + y**2 <= 8.0**2) & (z.abs() <= 6)] = 0.5
    projection = ConeBeamProjector(geometry, volume.shape, step_mm=0.25, check_field_of_view=False)
    projection = projection(volume)
    # The central ray runs along y through x = z = 0 and crosses 17 voxels
    # of value 0.5: a trilinear profile integrates to 17 * 0.5 mm.
    assert math.isclose(float(projection[0, 2, 2]), 8.5, rel_tol=1e-6)


def test_fan_flat_equals_parallel_for_distant_source():
    shape = (32, 32)
    image = _disc(shape, 12.0)
    parallel = ParallelBeamProjector(ParallelBeamGeometry((0.0,), 40), shape)(image)
    # Magnification 2 maps the 2 mm detector pitch to 1 mm at the isocentre,
    # and a source 1 km away makes the rays parallel to within 2e-5 rad.
    fan = FanBeamGeometry((0.0,), 40, 2.0, 1e6, 2e6)
    fan_sinogram = FanBeamProjector(fan, shape)(image)
    assert torch.allclose(fan_sinogram, parallel, atol=1e-3)


def test_detector_too_small_raises():
    geometry = ParallelBeamGeometry(uniform_angles(8), 20)
    with pytest.raises(ValueError, match="the detector is too small for the object"):
        ParallelBeamProjector(geometry, (32, 32))(_disc((32, 32), 14.0))


def test_truncation_allowed_when_check_off():
    geometry = ParallelBeamGeometry(uniform_angles(8), 20)
    projector = ParallelBeamProjector(geometry, (32, 32), check_field_of_view=False)
    assert projector(_disc((32, 32), 14.0)).shape == (8, 20)


def test_source_inside_image_raises():
    geometry = FanBeamGeometry(uniform_angles(8, arc_deg=360), 20, 1.0, 10.0, 30.0)
    with pytest.raises(ValueError, match="`source_to_isocenter_mm` must exceed the image half-diagonal"):
        FanBeamProjector(geometry, (32, 32))


def test_non_finite_image_raises():
    projector = ParallelBeamProjector(ParallelBeamGeometry(uniform_angles(4), 16), (8, 8))
    image = torch.zeros(8, 8)
    image[2, 3] = float("nan")
    with pytest.raises(ValueError, match="`image` contains NaN or inf"):
        projector(image)


def test_wrong_shape_raises():
    projector = ParallelBeamProjector(ParallelBeamGeometry(uniform_angles(4), 16), (8, 8))
    with pytest.raises(ValueError, match=r"`image` must be shaped \(\.\.\., 8, 8\)"):
        projector(torch.zeros(8, 9))


def test_wrong_geometry_type_raises():
    with pytest.raises(TypeError, match="`geometry` must be a ParallelBeamGeometry"):
        ParallelBeamProjector(FanBeamGeometry((0.0,), 8, 1.0, 50.0, 90.0), (8, 8))


def test_complex_image_raises():
    projector = ParallelBeamProjector(ParallelBeamGeometry(uniform_angles(4), 16), (8, 8))
    with pytest.raises(TypeError, match="`image` must be real"):
        projector(torch.zeros(8, 8, dtype=torch.complex64))


def test_batch_shapes_and_numpy_round_trip():
    projector = ParallelBeamProjector(ParallelBeamGeometry(uniform_angles(6), 16), (10, 10))
    image = np.zeros((2, 3, 10, 10), dtype=np.float32)
    image[..., 4:6, 4:6] = 1
    sinogram = projector(image)
    assert isinstance(sinogram, np.ndarray)
    assert sinogram.shape == (2, 3, 6, 16)
    assert sinogram.dtype == np.float32
    assert projector.adjoint(sinogram).shape == (2, 3, 10, 10)


def test_integer_image_promoted():
    projector = ParallelBeamProjector(ParallelBeamGeometry(uniform_angles(6), 16), (10, 10))
    image = torch.zeros(10, 10, dtype=torch.int16)
    image[5, 5] = 30000
    sinogram = projector(image)
    assert sinogram.dtype == torch.float32
    assert math.isclose(float(sinogram.sum(-1)[0]), 30000.0, rel_tol=1e-6)


def test_gradient_is_adjoint():
    projector = _projectors_2d()[1]
    x = torch.randn(*projector.image_shape, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(*projector.sinogram_shape, dtype=torch.float64)
    (projector(x) * weight).sum().backward()
    assert torch.allclose(x.grad, projector.adjoint(weight), atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(a=st.floats(-3, 3), b=st.floats(-3, 3))
def test_projection_is_linear(a, b):
    projector = _projectors_2d()[0]
    generator = torch.Generator().manual_seed(11)
    x = torch.randn(*projector.image_shape, dtype=torch.float64, generator=generator)
    z = torch.randn(*projector.image_shape, dtype=torch.float64, generator=generator)
    combined = projector(a * x + b * z)
    assert torch.allclose(combined, a * projector(x) + b * projector(z), atol=1e-10)
