"""Geometry: index/physical mapping, SimpleITK order, orientation codes, validation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medaug.core.geometry import Geometry


def _rotation(angles):
    a, b, c = angles
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rz @ ry @ rx


def test_identity_maps_array_axes_to_zyx():
    geometry = Geometry(spacing=(3.0, 2.0, 1.0), origin=(10.0, 20.0, 30.0))
    points = geometry.index_to_physical([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    np.testing.assert_allclose(points, [[10, 20, 33], [10, 22, 30], [11, 20, 30]])


@settings(max_examples=50, deadline=None)
@given(
    spacing=st.tuples(*[st.floats(0.1, 5.0)] * 3),
    origin=st.tuples(*[st.floats(-500, 500)] * 3),
    angles=st.tuples(*[st.floats(-3.1, 3.1)] * 3),
)
def test_index_physical_round_trip(spacing, origin, angles):
    geometry = Geometry(spacing=spacing, origin=origin, direction=_rotation(angles))
    indices = np.array([[0.0, 0.0, 0.0], [3.5, -2.0, 7.25], [100.0, 50.0, 1.0]])
    back = geometry.physical_to_index(geometry.index_to_physical(indices))
    np.testing.assert_allclose(back, indices, atol=1e-9)


def test_affine_round_trip():
    geometry = Geometry(spacing=(1.5, 0.9, 0.8), origin=(1, 2, 3), direction=_rotation((0.1, 0.2, 0.3)))
    rebuilt = Geometry.from_affine(geometry.affine)
    assert rebuilt.isclose(geometry)


def test_sitk_parameters_reverse_axis_order():
    geometry = Geometry.from_sitk_parameters((0.5, 0.6, 2.0), (1, 2, 3), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    assert geometry.spacing == (2.0, 0.6, 0.5)
    spacing, origin, direction = geometry.to_sitk_parameters()
    assert spacing == (0.5, 0.6, 2.0)
    assert origin == (1.0, 2.0, 3.0)
    assert direction == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


@pytest.mark.parametrize(
    ("itk_direction", "expected"),
    [
        (np.eye(3), "LPS"),
        (np.diag([-1.0, -1.0, 1.0]), "RAS"),
        (np.diag([1.0, -1.0, 1.0]), "LAS"),
        (np.array([[0, 0, 1], [1, 0, 0], [0, -1, 0]], float), "PIL"),
    ],
)
def test_orientation_codes(itk_direction, expected):
    geometry = Geometry.from_sitk_parameters((1, 1, 1), (0, 0, 0), itk_direction.reshape(-1))
    assert geometry.orientation == expected
    assert geometry.axis_codes == tuple(reversed(expected))


def test_two_dimensional_geometry():
    geometry = Geometry(spacing=(0.5, 0.25))
    np.testing.assert_allclose(geometry.index_to_physical([[2, 4]]), [[1.0, 1.0]])
    assert geometry.orientation == "LP"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"spacing": (1.0, -1.0, 1.0)}, r"`spacing` must be > 0 mm"),
        ({"spacing": (1.0, 0.0)}, r"`spacing` must be > 0 mm"),
        ({"spacing": (1.0, float("nan"), 1.0)}, r"`spacing` must be finite"),
        ({"spacing": (1.0, float("inf"))}, r"`spacing` must be finite"),
        ({"spacing": (1.0,)}, r"`spacing` must have 2 or 3 values"),
        ({"spacing": (1.0, 1.0), "origin": (0.0, 0.0, 0.0)}, r"`origin` must have 2 values"),
        ({"spacing": (1.0, 1.0), "direction": [[1.0, 0.5], [0.0, 1.0]]}, r"`direction` must be orthonormal"),
        ({"spacing": (1.0, 1.0), "direction": [[2.0, 0.0], [0.0, 2.0]]}, r"`direction` must be orthonormal"),
        ({"spacing": (1.0, 1.0), "direction": [[1.0, 0.0, 0.0]]}, r"`direction` must be a 2x2"),
    ],
)
def test_invalid_geometry_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Geometry(**kwargs)


def test_spacing_of_wrong_type_rejected():
    with pytest.raises(TypeError, match="`spacing` must be a sequence of numbers"):
        Geometry(spacing=("a", "b"))
