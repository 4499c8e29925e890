"""Normalisation: z-score, percentiles, CT windows, clipping."""

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given, settings

from medaug.transforms import Clip, CTWindow, RescalePercentiles, ZScoreNormalize


def test_z_score_statistics():
    data = np.random.default_rng(0).normal(5.0, 3.0, size=(2, 32, 32)).astype(np.float32)
    out = ZScoreNormalize()(data)
    np.testing.assert_allclose(out.reshape(2, -1).mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.reshape(2, -1).std(axis=1), 1.0, atol=1e-5)


def test_z_score_nonzero_keeps_background():
    data = np.zeros((1, 4, 4), np.float32)
    data[0, 1:3, 1:3] = [[1.0, 3.0], [1.0, 3.0]]
    out = ZScoreNormalize(nonzero=True)(data)
    assert out[0, 0, 0] == 0.0
    np.testing.assert_allclose(out[0, 1:3, 1:3], [[-1.0, 1.0], [-1.0, 1.0]], atol=1e-6)


def test_percentiles_match_numpy_and_keep_outliers():
    data = np.random.default_rng(1).normal(size=(1, 1000)).astype(np.float32)
    out = RescalePercentiles((5.0, 95.0), (0.0, 1.0))(data)
    low, high = np.percentile(data, [5.0, 95.0])
    np.testing.assert_allclose(out, (data - low) / (high - low), atol=1e-5)
    assert out.min() < 0 and out.max() > 1


def test_ct_window_closed_form():
    hu = np.array([[-1000.0, -160.0, 40.0, 240.0, 3000.0]], np.float32)
    out = CTWindow(center_hu=40.0, width_hu=400.0, output_range=(-1.0, 1.0))(hu)
    np.testing.assert_allclose(out, [[-1.0, -1.0, 0.0, 1.0, 1.0]], atol=1e-6)


def test_clip_bounds():
    out = Clip(minimum=-1.0)(np.array([[-5.0, 0.0, 5.0]], np.float32))
    np.testing.assert_array_equal(out, [[-1.0, 0.0, 5.0]])


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: CTWindow(width_hu=0.0), "`width_hu` must be > 0"),
        (lambda: RescalePercentiles((99.0, 1.0)), r"`percentiles` must be \(low, high\)"),
        (lambda: RescalePercentiles((1.0, 101.0)), "`percentiles` must lie within"),
        (lambda: Clip(2.0, 1.0), "must be \\(low, high\\) with low <= high"),
    ],
)
def test_bad_normalisation_arguments(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


@settings(max_examples=60, deadline=None)
@given(
    values=hnp.arrays(np.float32, hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=9),
                      elements=st.floats(-1e3, 1e3, width=32)),
    low=st.floats(0.0, 50.0),
    high=st.floats(50.0, 100.0),
    nonzero=st.booleans(),
)
def test_channel_percentiles_equal_numpy_linear_percentiles(values, low, high, nonzero):
    from medaug.transforms.functional.intensity import channel_percentiles

    data = torch.from_numpy(values)
    result = channel_percentiles(data, [low, high], nonzero=nonzero).numpy()
    for channel, row in zip(values, result):
        chosen = channel[channel != 0] if nonzero and (channel != 0).any() else channel.reshape(-1)
        expected = np.percentile(chosen.astype(np.float64), [low, high])
        np.testing.assert_allclose(row, expected.astype(np.float32), rtol=1e-6, atol=1e-4)


def test_channel_percentiles_keep_gradient_of_bounds():
    from medaug.transforms.functional.intensity import channel_percentiles

    data = torch.linspace(0.0, 1.0, 11, dtype=torch.float64).reshape(1, 1, 11).requires_grad_(True)
    bounds = channel_percentiles(data, [10.0, 90.0])
    bounds.sum().backward()
    # The 10th and 90th percentiles of 11 evenly spaced values are the 2nd and 10th values exactly.
    expected = torch.zeros(11, dtype=torch.float64)
    expected[[1, 9]] = 1.0
    assert torch.equal(data.grad.reshape(-1), expected)
