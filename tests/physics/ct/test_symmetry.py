"""Parallel-beam view symmetries: the reduced operators equal the full ones and stay exact transposes."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from medaug.physics.ct import ParallelBeamGeometry, ParallelBeamProjector, fbp, uniform_angles
from medaug.physics.ct.backprojection import pixel_driven_backprojector
from medaug.physics.ct.filters import filter_projections
from medaug.physics.ct.joseph import JosephSystem, build_joseph_system
from medaug.physics.ct.symmetry import SymmetricSystem, _reduce_angle, view_symmetry
from medaug.physics.operators import adjoint_mismatch

# float64: the symmetric and the full matrices hold the same weights up to
# rounding of their computation, about 1e-16 relative; 1e-12 leaves room
# for the long sums of a projection.
TOLERANCE = 1e-12

# Uniform views starting half a step after 0 degrees: 45 degrees is not a
# view, so no view sits where Joseph's method may drive along either axis.
HALF_SCAN = ParallelBeamGeometry(uniform_angles(24, start_deg=3.75), 46)
FULL_SCAN = ParallelBeamGeometry(uniform_angles(48, arc_deg=360.0, start_deg=3.75), 46)


def _image(size, generator, dtype=torch.float64):
    return torch.randn(size, size, dtype=dtype, generator=generator)


def _full_system(geometry, size):
    origins, directions = geometry.rays(torch.float64, torch.device("cpu"))
    return build_joseph_system(origins, directions, (size, size), (1.0, 1.0), torch.float64)


@pytest.mark.parametrize("geometry", [HALF_SCAN, FULL_SCAN], ids=["180-degrees", "360-degrees"])
def test_symmetric_projection_equals_full(geometry):
    projector = ParallelBeamProjector(geometry, (32, 32), check_field_of_view=False)
    image = _image(32, torch.Generator().manual_seed(1))

    reduced = projector(image)
    full = _full_system(geometry, 32).project(image[None]).reshape(geometry.sinogram_shape)

    assert isinstance(projector.system(torch.float64), SymmetricSystem)
    assert torch.allclose(reduced, full, rtol=0, atol=TOLERANCE * float(full.abs().max()))


@pytest.mark.parametrize("geometry", [HALF_SCAN, FULL_SCAN], ids=["180-degrees", "360-degrees"])
def test_symmetric_adjoint_identity(geometry):
    projector = ParallelBeamProjector(geometry, (32, 32), check_field_of_view=False)
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(3, 32, 32, dtype=torch.float64, generator=generator)
    y = torch.randn(3, *geometry.sinogram_shape, dtype=torch.float64, generator=generator)
    assert adjoint_mismatch(projector, x, y) < TOLERANCE


def test_symmetric_gradient_is_adjoint():
    projector = ParallelBeamProjector(HALF_SCAN, (32, 32), check_field_of_view=False)
    generator = torch.Generator().manual_seed(3)
    x = _image(32, generator).requires_grad_()
    weight = torch.randn(*HALF_SCAN.sinogram_shape, dtype=torch.float64, generator=generator)
    (projector(x) * weight).sum().backward()
    assert torch.allclose(x.grad, projector.adjoint(weight), rtol=0, atol=TOLERANCE)


def test_symmetric_batch_matches_single_images():
    projector = ParallelBeamProjector(HALF_SCAN, (32, 32), check_field_of_view=False)
    images = torch.randn(2, 3, 32, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    batch = projector(images)
    for index in range(3):
        assert torch.allclose(batch[1, index], projector(images[1, index]), rtol=0, atol=TOLERANCE)


def test_symmetric_fbp_equals_full_backprojection():
    sinogram = torch.randn(*HALF_SCAN.sinogram_shape, dtype=torch.float64, generator=torch.Generator().manual_seed(5))

    image = fbp(sinogram, HALF_SCAN, (32, 32), circle=False)

    filtered = filter_projections(sinogram, HALF_SCAN.detector_spacing_mm)
    matrix = pixel_driven_backprojector(
        HALF_SCAN, (32, 32), (1.0, 1.0), math.inf, torch.float64, torch.device("cpu")
    )
    full = matrix.multiply(filtered.reshape(1, -1)).reshape(32, 32) * (math.pi / 24)
    assert torch.allclose(image, full, rtol=0, atol=TOLERANCE * float(full.abs().max()))


def test_uniform_scan_has_eighth_of_views():
    symmetry = view_symmetry(ParallelBeamGeometry(uniform_angles(180), 64), (64, 64), (1.0, 1.0))
    # 0, 1, ..., 45 degrees, each read by up to four image transforms.
    assert symmetry.base_angles_deg == tuple(float(a) for a in range(46))
    assert len(symmetry.transforms) == 4


@pytest.mark.parametrize(
    ("geometry", "shape", "spacing"),
    [
        (ParallelBeamGeometry(uniform_angles(180), 64), (64, 48), (1.0, 1.0)),
        (ParallelBeamGeometry(uniform_angles(180), 64), (64, 64), (1.0, 0.8)),
        (ParallelBeamGeometry(uniform_angles(180), 64, detector_offset_mm=0.25), (64, 64), (1.0, 1.0)),
        (ParallelBeamGeometry(tuple(range(0, 40, 3)), 64), (64, 64), (1.0, 1.0)),
    ],
    ids=["non-square-image", "non-square-pixels", "detector-offset", "no-shared-views"],
)
def test_symmetry_not_used(geometry, shape, spacing):
    assert view_symmetry(geometry, shape, spacing) is None
    projector = ParallelBeamProjector(geometry, shape, spacing_mm=spacing, check_field_of_view=False)
    assert isinstance(projector.system(), JosephSystem)


@settings(max_examples=60, deadline=None)
@given(
    angle=st.floats(-720.0, 720.0),
    x=st.floats(-100.0, 100.0),
    y=st.floats(-100.0, 100.0),
)
def test_reduced_view_sees_transformed_point(angle, x, y):
    base, reverse, flip, transpose = _reduce_angle(angle)
    # The image transform moves a point by the mirror x -> -x, then the swap
    # of x and y. The view at `angle` projects the point to the detector
    # position where the base view projects the moved point, negated when
    # `reverse` is set.
    moved_x, moved_y = (-x if flip else x), y
    if transpose:
        moved_x, moved_y = moved_y, moved_x
    theta, beta = math.radians(angle), math.radians(base)
    sign = -1.0 if reverse else 1.0
    seen = x * math.cos(theta) + y * math.sin(theta)
    seen_by_base = sign * (moved_x * math.cos(beta) + moved_y * math.sin(beta))

    assert 0.0 <= base <= 45.0
    # Rounding of the angle arithmetic and of the base angle (1e-9 degrees)
    # moves a point 100 mm out by far less than 1e-6 mm.
    assert abs(seen - seen_by_base) < 1e-6
