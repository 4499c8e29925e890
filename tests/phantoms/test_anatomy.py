"""Implicit anatomy functions: closed forms, finite differences and sign invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from medaug.phantoms.functional.anatomy import (
    MONOMIAL_COUNT,
    direction_polynomials,
    ellipsoid_depth,
    fibonacci_sphere,
    inside_ellipsoids,
    inside_tube,
    monomials,
    unit_directions,
    wave_field,
)


def test_ellipsoid_depth_exact_along_axes():
    axes = torch.tensor([60.0, 80.0, 70.0], dtype=torch.float64)
    points = torch.tensor([[50.0, 0.0, 0.0], [0.0, -75.0, 0.0], [0.0, 0.0, 90.0]], dtype=torch.float64)

    depth = ellipsoid_depth(points, axes, torch.ones(3, dtype=torch.float64))

    torch.testing.assert_close(depth, torch.tensor([10.0, 5.0, -20.0], dtype=torch.float64))


def test_ellipsoid_depth_of_sphere_is_radial():
    points = torch.as_tensor(np.random.default_rng(0).normal(size=(200, 3)) * 30.0)
    scale = torch.full((200,), 1.2, dtype=torch.float64)

    depth = ellipsoid_depth(points, torch.tensor([50.0, 50.0, 50.0], dtype=torch.float64), scale)

    torch.testing.assert_close(depth, 60.0 - torch.linalg.vector_norm(points, dim=-1))


@settings(max_examples=60, deadline=None)
@given(
    st.tuples(*[st.floats(-120.0, 120.0)] * 3),
    st.tuples(*[st.floats(20.0, 100.0)] * 3),
)
def test_ellipsoid_depth_sign_marks_inside(point, axes):
    points = torch.tensor([point], dtype=torch.float64)
    semi_axes = torch.tensor(axes, dtype=torch.float64)
    inside = float(((points / semi_axes) ** 2).sum()) < 1.0

    depth = float(ellipsoid_depth(points, semi_axes, torch.ones(1, dtype=torch.float64))[0])

    assert (depth > 0) == inside or abs(depth) < 1e-9


def test_wave_field_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    frequencies = torch.as_tensor(rng.normal(size=(12, 3)))
    phases = torch.as_tensor(rng.uniform(0, 2 * math.pi, 12))
    points = torch.as_tensor(rng.normal(size=(20, 3)))
    step = 1e-6

    _, gradient = wave_field(points, frequencies, phases)

    for axis in range(3):
        shift = torch.zeros(3, dtype=torch.float64)
        shift[axis] = step
        forward, _ = wave_field(points + shift, frequencies, phases)
        backward, _ = wave_field(points - shift, frequencies, phases)
        # Central differences in float64: error about step^2 * |f|^3 plus rounding.
        torch.testing.assert_close(gradient[:, axis], (forward - backward) / (2 * step), atol=1e-6, rtol=1e-6)


def test_wave_field_has_unit_variance():
    rng = np.random.default_rng(2)
    directions = rng.normal(size=(64, 3))
    frequencies = torch.as_tensor(directions / np.linalg.norm(directions, axis=1, keepdims=True) * 3.0)
    phases = torch.as_tensor(rng.uniform(0, 2 * math.pi, 64))
    points = torch.as_tensor(rng.uniform(-20, 20, size=(20000, 3)))

    value, _ = wave_field(points, frequencies, phases)

    # Each cosine has variance 1/2 and the sum is scaled by sqrt(2 / K). The
    # 20,000 points span many wavelengths, so the sample variance is within a few %.
    assert float(value.var()) == pytest.approx(1.0, rel=0.1)


def test_monomials_values_and_count():
    directions = torch.tensor([[2.0, 3.0, 5.0]], dtype=torch.float64)

    values = monomials(directions)[0].tolist()

    assert MONOMIAL_COUNT == 19
    assert values == [2, 3, 5, 4, 6, 10, 9, 15, 25, 8, 12, 20, 18, 30, 50, 27, 45, 75, 125]


def test_unit_directions_handle_origin():
    directions, norms = unit_directions(torch.tensor([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0]]))

    torch.testing.assert_close(directions, torch.tensor([[0.0, 0.0, 1.0], [0.6, 0.8, 0.0]]))
    torch.testing.assert_close(norms, torch.tensor([0.0, 5.0]))


def test_fibonacci_sphere_is_unit_and_balanced():
    points = fibonacci_sphere(500)

    np.testing.assert_allclose(np.linalg.norm(points, axis=1), 1.0, atol=1e-12)
    # An even spread has its centroid near the origin, within about 1 / count.
    assert np.linalg.norm(points.mean(axis=0)) < 0.01


def test_inside_tube_matches_cylinder_with_caps():
    grid = torch.stack(torch.meshgrid(*[torch.linspace(-20, 20, 41, dtype=torch.float64)] * 3, indexing="ij"), -1)
    points = grid.reshape(-1, 3)
    start = torch.tensor([[0.0, -10.0, 0.0]], dtype=torch.float64)
    end = torch.tensor([[0.0, 10.0, 0.0]], dtype=torch.float64)
    radii = torch.tensor([[4.0, 4.0, 4.0]], dtype=torch.float64)

    inside = inside_tube(points, start, end, radii, radii)

    # A capsule: within 4 mm of the segment from y = -10 to y = 10.
    along = points[:, 1].clamp(-10.0, 10.0)
    distance = torch.linalg.vector_norm(points - torch.stack([0 * along, along, 0 * along], -1), dim=-1)
    assert torch.equal(inside, distance < 4.0)


def test_inside_tube_tapers_between_radii():
    start = torch.tensor([[0.0, 0.0, 0.0]], dtype=torch.float64)
    end = torch.tensor([[0.0, 20.0, 0.0]], dtype=torch.float64)
    wide, narrow = torch.tensor([[6.0, 6.0, 6.0]], dtype=torch.float64), torch.tensor([[2.0, 2.0, 2.0]], dtype=torch.float64)
    points = torch.tensor([[3.2, 5.0, 0.0], [3.2, 15.0, 0.0]], dtype=torch.float64)

    inside = inside_tube(points, start, end, wide, narrow)

    # Radius 5 mm at y = 5 and 3 mm at y = 15 (linear taper, metric of mean radius 4 mm).
    assert inside.tolist() == [True, False]


def test_inside_ellipsoids_last_one_wins():
    centers = torch.tensor([[0.0, 0.0, 0.0], [5.0, 0.0, 0.0]], dtype=torch.float64)
    semi_axes = torch.tensor([[10.0, 10.0, 10.0], [2.0, 2.0, 2.0]], dtype=torch.float64)
    rotations = torch.eye(3, dtype=torch.float64).expand(2, 3, 3)
    points = torch.tensor([[0.0, 0.0, 0.0], [5.5, 0.0, 0.0], [20.0, 0.0, 0.0]], dtype=torch.float64)

    assert inside_ellipsoids(points, centers, semi_axes, rotations).tolist() == [0, 1, -1]


def _tube_reference(points: np.ndarray, start, end, start_radius, end_radius) -> np.ndarray:
    """Apply inside_tube's definition to one segment, point by point, in numpy float64."""
    metric = 0.5 * (start_radius + end_radius)
    a, b = start / metric, end / metric
    inside = []
    for point in points / metric:
        length2 = float(np.dot(b - a, b - a))
        t = min(max(float(np.dot(point - a, b - a)) / length2, 0.0), 1.0) if length2 > 0 else 0.0
        radius = ((1 - t) * start_radius.mean() + t * end_radius.mean()) / metric.mean()
        inside.append(np.linalg.norm(point - a - t * (b - a)) < radius)
    return np.array(inside)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_inside_tube_chain_matches_definition(seed):
    rng = np.random.default_rng(seed)
    starts = rng.uniform(-20.0, 20.0, (4, 3))
    ends = starts + rng.uniform(-15.0, 15.0, (4, 3))
    ends[0] = starts[0]  # a zero-length segment is a ball
    start_radii, end_radii = rng.uniform(1.0, 8.0, (4, 3)), rng.uniform(1.0, 8.0, (4, 3))
    points = rng.uniform(-35.0, 35.0, (400, 3))

    inside = inside_tube(*(torch.as_tensor(v) for v in (points, starts, ends, start_radii, end_radii)))

    expected = np.zeros(len(points), dtype=bool)
    for segment in zip(starts, ends, start_radii, end_radii):
        expected |= _tube_reference(points, *segment)
    np.testing.assert_array_equal(inside.numpy(), expected)


def test_direction_polynomials_on_axes():
    coefficients = torch.arange(2 * MONOMIAL_COUNT, dtype=torch.float64).reshape(MONOMIAL_COUNT, 2)
    offsets = torch.tensor([100.0, 200.0], dtype=torch.float64)
    axes = torch.eye(3, dtype=torch.float64)

    values = direction_polynomials(axes, coefficients, offsets)

    # Along +x only x, xx and xxx are 1 (rows 0, 3, 9), along +y rows 1, 6, 15, along +z rows 2, 8, 18.
    for axis, rows in enumerate(((0, 3, 9), (1, 6, 15), (2, 8, 18))):
        torch.testing.assert_close(values[axis], offsets + coefficients[list(rows)].sum(dim=0))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_direction_polynomials_match_monomials(seed):
    generator = torch.Generator().manual_seed(seed)
    directions = torch.randn(50, 3, dtype=torch.float64, generator=generator)
    coefficients = torch.randn(MONOMIAL_COUNT, 4, dtype=torch.float64, generator=generator)
    offsets = torch.randn(4, dtype=torch.float64, generator=generator)

    values = direction_polynomials(directions, coefficients, offsets)

    assert values.shape == (50, 4)
    torch.testing.assert_close(values, offsets + monomials(directions) @ coefficients)
