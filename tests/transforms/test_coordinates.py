"""Coordinate maps: chaining, forward and backward consistency, fixed-point inversion."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from medaug.core import Geometry
from medaug.transforms.functional.affine import affine_matrix
from medaug.transforms.functional.coordinates import (
    AffineMap,
    Grid,
    SpatialPlan,
    chain_plans,
    map_points_backward,
    map_points_forward,
)
from medaug.transforms.functional.elastic import control_grid_shape, dense_displacement

angles = st.tuples(*[st.floats(-45, 45)] * 3)


def _affine(rotation, scale, translation):
    return AffineMap(
        np.linalg.inv(
            affine_matrix(
                rotation_deg=rotation, scale=[scale] * 3, shear=[0.0] * 3,
                translation_mm=translation, center_mm=[1.0, -2.0, 3.0],
            )
        )
    )


@settings(max_examples=40, deadline=None)
@given(first=angles, second=angles, scale=st.floats(0.5, 2.0), shift=st.floats(-10, 10))
def test_chained_affines_equal_matrix_product(first, second, scale, shift):
    grid = Grid((4, 4, 4), Geometry(spacing=(1.0, 1.0, 1.0)))
    a = SpatialPlan(grid, (_affine(first, scale, [shift, 0.0, 0.0]),))
    b = SpatialPlan(grid, (_affine(second, 1.0, [0.0, shift, 0.0]),))
    chained = chain_plans([a, b])
    assert len(chained.maps) == 1
    points = torch.as_tensor(np.random.default_rng(0).normal(size=(6, 3)) * 20)
    expected = a.maps[0].apply(b.maps[0].apply(points))
    torch.testing.assert_close(chained.maps[0].apply(points), expected, atol=1e-9, rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(rotation=angles, scale=st.floats(0.5, 2.0))
def test_forward_inverts_backward(rotation, scale):
    maps = (_affine(rotation, scale, [1.0, 2.0, -3.0]),)
    points = torch.as_tensor(np.random.default_rng(1).normal(size=(5, 3)) * 10)
    torch.testing.assert_close(map_points_forward(maps, map_points_backward(maps, points)), points)


def test_displacement_fixed_point_inverse():
    grid = Grid((16, 16, 16), Geometry(spacing=(1.0, 1.0, 2.0)))
    spacing = (8.0, 8.0, 8.0)
    control = np.random.default_rng(2).normal(size=(3, *control_grid_shape(grid, spacing))) * 1.0
    displacement = dense_displacement(torch.as_tensor(control, dtype=torch.float32), grid, spacing)
    points = torch.as_tensor(np.random.default_rng(3).uniform(3, 12, size=(50, 3)), dtype=torch.float32)
    recovered = displacement.apply(displacement.apply_inverse(points))
    # A smooth 1 mm field is a contraction with a small Lipschitz constant:
    # 20 fixed-point iterations reach float32 round-off.
    torch.testing.assert_close(recovered, points, atol=1e-4, rtol=0)
