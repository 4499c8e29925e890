"""Elastic deformation: zero mean, diffeomorphic Jacobian, inverse, exact spline path."""

import numpy as np
import pytest
import torch

from medaug.core import Geometry, Image, Sample
from medaug.transforms import (
    Compose,
    ElasticDeformation,
    NotInvertibleError,
    RandomAffine,
    RandomElasticDeformation,
    invert,
)
from medaug.transforms.functional.coordinates import Grid
from medaug.transforms.functional.elastic import control_grid_shape, dense_displacement
from tests.transforms.helpers import blob_sample


def _field(transform, sample, rng):
    parameters = transform.sample_parameters(rng, sample)
    twin = transform.deterministic(parameters)
    plan = twin.plan(parameters, Grid.of(sample.reference))
    return plan.maps[0].displacement


def test_displacement_has_zero_mean():
    sample = blob_sample(shape=(8, 8, 8))
    transform = RandomElasticDeformation(4.0, 2.0)
    generator = np.random.default_rng(0)
    fields = torch.stack([_field(transform, sample, generator) for _ in range(400)])
    mean = fields.mean(dim=0)
    spread = fields.std(dim=0)
    # The mean of 400 draws has standard error std / 20; 5 standard errors
    # bound every voxel and component with overwhelming probability.
    assert float((mean.abs() / (spread / 20.0)).max()) < 5.0


def _jacobian_determinants(displacement, spacing):
    gradients = []
    for component in range(3):
        gradients.append(torch.gradient(displacement[component], spacing=spacing))
    # Displacement components are physical x, y, z; array axes are z, y, x.
    jacobian = torch.zeros(displacement.shape[1:] + (3, 3), dtype=displacement.dtype)
    for component in range(3):
        for axis in range(3):
            jacobian[..., component, 2 - axis] = gradients[component][axis]
    jacobian = jacobian + torch.eye(3, dtype=displacement.dtype)
    return torch.linalg.det(jacobian)


def test_diffeomorphic_jacobian_is_positive():
    sample = blob_sample(shape=(16, 16, 16))
    strong = RandomElasticDeformation(6.0, 6.0)
    folding = _field(strong, sample, np.random.default_rng(2))
    smooth = _field(RandomElasticDeformation(6.0, 6.0, diffeomorphic=True), sample, np.random.default_rng(2))
    dense_spacing = (1.5, 1.5, 1.5)
    # The same strong field folds without integration, which shows the check can fail.
    assert float(_jacobian_determinants(folding.double(), dense_spacing).min()) < 0
    assert float(_jacobian_determinants(smooth.double(), dense_spacing).min()) > 0


def test_diffeomorphic_inverse_undoes_map():
    sample = blob_sample(shape=(20, 20, 20))
    grid = Grid.of(sample.reference)
    random = RandomElasticDeformation(8.0, 1.5, diffeomorphic=True)
    parameters = random.sample_parameters(np.random.default_rng(4), sample)
    forward = random.deterministic(parameters)
    backward = forward.inverse()
    forward_map = forward.plan(parameters, grid).maps[0]
    backward_map = backward.plan(backward.sample_parameters(None, sample), grid).maps[0]
    points = torch.as_tensor(np.random.default_rng(0).uniform(4, 16, size=(500, 3)), dtype=torch.float32)
    round_trip = forward_map.apply(backward_map.apply(points))
    largest = float(forward_map.evaluate(points).abs().max())
    # exp(v) and exp(-v) are exact inverses; scaling and squaring on a dense
    # grid with linear interpolation leaves an error of a few percent of the
    # displacement, far from the displacement itself.
    assert float((round_trip - points).abs().max()) < 0.1 * largest
    assert largest > 0.5


def test_plain_elastic_has_no_inverse():
    sample = blob_sample(shape=(8, 8, 8))
    out = RandomElasticDeformation(4.0, 1.0).transform(sample, rng=np.random.default_rng(0))
    with pytest.raises(NotInvertibleError, match="only with diffeomorphic=True"):
        invert(out)


def test_exact_spline_matches_interpolated_field():
    grid = Grid((10, 12, 14), Geometry(spacing=(2.0, 1.0, 1.5)))
    spacing = (8.0, 8.0, 8.0)
    control = torch.as_tensor(np.random.default_rng(3).normal(size=(3, *control_grid_shape(grid, spacing))))
    displacement_map = dense_displacement(control.float(), grid, spacing)
    exact = displacement_map.exact(grid.geometry.affine, grid.shape)
    interpolated = displacement_map.evaluate_on_grid(
        np.eye(4) @ grid.geometry.affine + 0.0, grid.shape, dtype=torch.float32, device="cpu"
    )
    through_dense = displacement_map.sample(
        torch.movedim(
            torch.as_tensor(np.stack(np.meshgrid(*[np.linspace(-1, 1, n) for n in grid.shape], indexing="ij"))).float(),
            0,
            -1,
        )
    )
    assert torch.equal(exact, interpolated)
    # The dense field samples the spline every quarter control spacing; the
    # linear interpolation error bound h^2/8 |u''| gives about 1.6 % of the
    # control amplitude per axis, so 5 % covers three axes.
    assert float((exact - through_dense).abs().max()) < 0.05 * float(control.abs().max())


def test_control_grid_mismatch_raises():
    with pytest.raises(ValueError, match="`control_displacements_mm` must have shape"):
        ElasticDeformation(np.zeros((3, 2, 2, 2)), 8.0)(np.zeros((1, 16, 16, 16), np.float32))


def test_bad_elastic_arguments():
    with pytest.raises(ValueError, match="`control_spacing_mm` must be > 0"):
        RandomElasticDeformation(-4.0)
    with pytest.raises(ValueError, match=r"`displacement_std_mm` must be \(low, high\)"):
        RandomElasticDeformation(8.0, (3.0, 1.0))


def test_elastic_zero_strength_is_identity():
    sample = blob_sample()
    out = RandomElasticDeformation(8.0, 0.0).transform(sample, rng=np.random.default_rng(0))
    np.testing.assert_allclose(out["image"].numpy(), sample["image"].numpy(), atol=1e-6)
    assert torch.equal(out["label"].data, sample["label"].data)


def test_elastic_twin_reproduces(rng):
    sample = blob_sample()
    transform = RandomElasticDeformation(6.0, 2.0)
    parameters = transform.sample_parameters(np.random.default_rng(9), sample)
    twin = transform.deterministic(parameters).transform(sample)
    drawn = transform.transform(sample, rng=np.random.default_rng(9))
    assert torch.equal(twin["image"].data, drawn["image"].data)


def test_elastic_in_2d():
    image = Image(np.random.default_rng(0).random((1, 32, 32)).astype(np.float32))
    out = Compose([RandomAffine(10), RandomElasticDeformation(8.0, 2.0)]).transform(
        Sample({"image": image}), rng=np.random.default_rng(0)
    )
    assert out["image"].data.shape == (1, 32, 32)
