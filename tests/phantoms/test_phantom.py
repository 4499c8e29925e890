"""Phantom composition, rasterisation, labels, maps, coils and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from medaug.phantoms import (
    CoilSensitivities,
    Phantom,
    Primitive,
    attenuation_map,
    box,
    cylinder,
    ellipse,
    ellipsoid,
    gaussian_blob,
    hounsfield_map,
    linear_attenuation,
    mr_parameter_maps,
)


def _nested_head():
    return Phantom(
        [
            ellipse((0.0, 0.0), (40.0, 50.0), 10.0, tissue="skin", value=0.7),
            ellipse((0.0, 0.0), (35.0, 45.0), 10.0, tissue="csf", value=1.0),
            ellipse((2.0, 3.0), (25.0, 30.0), 5.0, tissue="white_matter", value=0.7),
            ellipse((-5.0, 0.0), (4.0, 6.0), tissue="lesion", value=0.9),
            ellipse((8.0, 5.0), (3.0, 3.0), tissue="csf", value=1.0),
        ],
        mode="paint",
    )


def test_paint_additive_form_matches_painted_raster():
    phantom = _nested_head()
    primitives, weights = phantom.additive_weights()
    additive = Phantom([p.replace(value=w) for p, w in zip(primitives, weights)], mode="add")

    painted = phantom.rasterize((64, 64), 128.0, supersample=2).numpy()
    summed = additive.rasterize((64, 64), 128.0, supersample=2).numpy()
    # Float32 sums of a few values: about 1e-7 per term.
    np.testing.assert_allclose(summed, painted, atol=1e-6)


def test_crossing_paint_phantom_has_no_transform():
    crossing = Phantom(
        [ellipse((0.0, 0.0), (10.0, 10.0)), ellipse((9.0, 0.0), (5.0, 5.0))], mode="paint"
    )
    with pytest.raises(ValueError, match="cross"):
        crossing.kspace(np.zeros((1, 2)))


@settings(max_examples=25, deadline=None)
@given(
    st.floats(-3.0, 3.0), st.floats(-3.0, 3.0), st.floats(3.0, 8.0), st.floats(3.0, 8.0),
    st.floats(0.0, 180.0),
)
def test_raster_area_converges(cx, cy, a, b, angle):
    # Property: with 8x8 sub-samples of 0.5 mm pixels, the pixel sum times
    # the pixel area approaches pi a b. The midpoint rule on a 1/16 mm
    # lattice errs by under 1 % for semi-axes of 3 mm or more.
    phantom = Phantom([ellipse((cx, cy), (a, b), angle)])
    image = phantom.rasterize((64, 64), 32.0, supersample=8, dtype=torch.float64)
    assert float(image.data.sum()) * 0.25 == pytest.approx(math.pi * a * b, rel=0.01)


def test_raster_box_volume_exact_when_aligned():
    phantom = Phantom([box((0.0, 0.0, 0.0), (2.0, 3.0, 4.0), value=2.0)])
    volume = phantom.rasterize((16, 16, 16), 16.0, supersample=2)

    # Faces at +-2, +-3, +-4 mm fall on pixel edges, so the sum is exact.
    assert float(volume.data.sum()) == pytest.approx(2.0 * 4 * 6 * 8)
    assert volume.data.dtype == torch.float32
    assert volume.data.shape == (1, 16, 16, 16)


def test_raster_geometry_is_centred():
    image = Phantom([ellipse((0.0, 0.0), (1.0, 1.0))]).rasterize((10, 20), (50.0, 100.0))
    geometry = image.geometry

    assert geometry.spacing == (5.0, 5.0)
    np.testing.assert_allclose(geometry.index_to_physical([[5, 10]]), [[0.0, 0.0]])


def test_rasterize_values_by_tissue_and_channels():
    phantom = _nested_head()
    values = {"skin": (1.0, 10.0), "csf": (2.0, 20.0), "white_matter": (3.0, 30.0), "lesion": (4.0, 40.0)}
    image = phantom.rasterize((32, 32), 128.0, values=values)

    assert image.data.shape == (2, 32, 32)
    np.testing.assert_allclose(image.numpy()[1], 10.0 * image.numpy()[0], rtol=1e-6)
    assert float(image.data[0, 16, 16]) == pytest.approx(3.0)


def test_unknown_tissue_in_values_raises():
    with pytest.raises(ValueError, match="unknown tissue 'lesion' in `values`"):
        _nested_head().rasterize((8, 8), 128.0, values={"skin": 1, "csf": 1, "white_matter": 1})


def test_tissue_fractions_sum_to_one_and_labels():
    phantom = _nested_head()
    fractions = phantom.tissue_fractions((48, 48), 128.0, supersample=3)
    labels = phantom.label_map((48, 48), 128.0, supersample=3)

    torch.testing.assert_close(fractions.data.sum(0), torch.ones(48, 48))
    assert labels.labels == [0, 1, 2, 3, 4]
    assert labels.data.dtype == torch.uint8


def test_mr_maps_and_hounsfield():
    phantom = _nested_head()
    maps = mr_parameter_maps(phantom, (32, 32), 128.0, field_strength_t=3.0)
    hounsfield = hounsfield_map(phantom, (32, 32), 128.0, 70.0)
    mu = attenuation_map(phantom, (32, 32), 128.0, 70.0)

    assert float(maps["t1_ms"].data[0, 16, 16]) == 838.0  # white matter, 3 T
    assert float(maps["t1_ms"].data[0, 0, 0]) == 0.0  # background
    assert float(hounsfield.data[0, 0, 0]) == pytest.approx(-1000.0)
    assert float(mu.data[0, 16, 16]) == pytest.approx(linear_attenuation("brain", 70.0), rel=1e-6)


def test_mr_maps_unavailable_field_raises():
    with pytest.raises(ValueError, match="not tabulated at 2 T"):
        mr_parameter_maps(_nested_head(), (8, 8), 128.0, field_strength_t=2.0)


def test_coil_fit_recovers_exponential_sum():
    coils = CoilSensitivities.synthetic(3, 200.0, order=2)
    refit = CoilSensitivities.from_maps(coils.maps((40, 40), 200.0), 200.0, order=2)

    # The modes are orthogonal on the grid, so the fit is exact up to round-off.
    torch.testing.assert_close(refit.coefficients, coils.coefficients, rtol=0, atol=1e-12)


def test_coil_kspace_matches_fft_of_weighted_raster():
    phantom = Phantom([ellipse((5.0, -3.0), (40.0, 30.0), 15.0)])
    coils = CoilSensitivities.synthetic(2, 128.0, order=2)
    n, fov = 64, 128.0
    spacing = fov / n
    frequencies = (np.arange(n) - n // 2) / fov
    ky, kx = np.meshgrid(frequencies, frequencies, indexing="ij")
    analytic = phantom.kspace(np.stack([kx, ky], -1), coil_sensitivities=coils)

    image = phantom.rasterize((n, n), fov, supersample=8, dtype=torch.float64).numpy()[0]
    weighted = coils.maps((n, n), fov).numpy() * image
    dft = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(weighted, axes=(-2, -1))), axes=(-2, -1))
    dft = dft * spacing**2
    central = (np.abs(kx) < 0.1) & (np.abs(ky) < 0.1)
    error = np.linalg.norm((dft - analytic)[:, central]) / np.linalg.norm(analytic[:, central])

    # Low frequencies of a finely sub-sampled raster agree within a few percent
    # (the rest is pixel averaging and aliasing of the edge).
    assert analytic.shape == (2, n, n)
    assert error < 0.05


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ellipse((0.0, 0.0), (-1.0, 2.0)), "`semi_axes` must be > 0 mm"),
        (lambda: ellipsoid((0.0, 0.0, 0.0), (1.0, 0.0, 2.0)), "`semi_axes` must be > 0 mm"),
        (lambda: ellipse((0.0, np.nan), (1.0, 2.0)), "`center` must be finite"),
        (lambda: cylinder((0.0, 0.0), (1.0, 1.0), 2.0), "a cylinder needs a centre with 3"),
        (lambda: Primitive("sphere", (0.0, 0.0), (1.0, 1.0)), "`kind` must be one of"),
        (lambda: gaussian_blob((0.0, 0.0), (1.0, 1.0)).replace(tissue="csf"), "gaussian blob has no boundary"),
        (lambda: Phantom([]), "`primitives` must not be empty"),
        (lambda: Phantom([ellipse((0.0, 0.0), (1.0, 1.0))], mode="mix"), "`mode` must be 'add' or 'paint'"),
        (lambda: Phantom([gaussian_blob((0.0, 0.0), (1.0, 1.0))], mode="paint"), "cannot be painted"),
        (lambda: Phantom([ellipse((0.0, 0.0), (1.0, 1.0))]).rasterize((8, 8), 10.0, supersample=0),
         "`supersample` must be >= 1"),
        (lambda: Phantom([ellipse((0.0, 0.0), (1.0, 1.0))]).rasterize((8, 8), -1.0), "`fov_mm` must be finite and > 0"),
        (lambda: Phantom([ellipse((0.0, 0.0), (1.0, 1.0), tissue="csf")]).label_of("bone"), "unknown tissue 'bone'"),
        (lambda: Phantom([ellipse((0.0, 0.0), (1.0, 1.0), tissue="csf")], labels=("csf",)),
         "`labels` must start with 'background'"),
    ],
)
def test_bad_input_raises_named_error(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_bad_types_raise_type_error():
    with pytest.raises(TypeError, match="`supersample` must be an int"):
        Phantom([ellipse((0.0, 0.0), (1.0, 1.0))]).rasterize((8, 8), 10.0, supersample=1.5)
    with pytest.raises(TypeError, match="`primitives\\[0\\]` must be a Primitive"):
        Phantom(["ellipse"])  # type: ignore[list-item]
