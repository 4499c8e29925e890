"""Reconstruction filters: windows, frequency responses and bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from medaug.physics.ct import RECONSTRUCTION_FILTERS, filter_frequency_response, filter_window


def test_ramp_response_is_abs_frequency():
    frequencies, response = filter_frequency_response("ramp", 128, 0.5)
    band = frequencies > 0.05 / 0.5
    # The discrete Ram-Lak kernel's DFT differs from |f| by its aliased tail,
    # under 2 % of the Nyquist value away from f = 0.
    assert np.allclose(response[band], frequencies[band], atol=0.02 * frequencies.max())


def test_ramp_response_dc_is_small():
    _, response = filter_frequency_response("ramp", 128, 1.0)
    # The spatial kernel's DC value 1 / (4 L) for padded length L = 256.
    assert abs(response[0] - 1 / (4 * 256)) < 1e-12 + 0.3 / 256


def test_window_closed_forms():
    x = np.array([0.0, 0.5, 1.0])
    assert np.allclose(filter_window("ramp", x), [1, 1, 1])
    assert np.allclose(filter_window("shepp-logan", x), [1, np.sinc(0.25), np.sinc(0.5)])
    assert np.allclose(filter_window("cosine", x), [1, np.cos(np.pi / 4), 0])
    assert np.allclose(filter_window("hann", x), [1, 0.5, 0])


def test_window_zero_above_cutoff():
    assert filter_window("ramp", np.array([0.6]), cutoff=0.5)[0] == 0.0


def test_unknown_filter_raises():
    with pytest.raises(ValueError, match=r"`filter` must be one of \['ramp'"):
        filter_window("butterworth", np.array([0.1]))


@given(st.sampled_from(RECONSTRUCTION_FILTERS), st.floats(0.05, 1.0), st.floats(0, 2))
def test_window_bounded(name, cutoff, x):
    value = filter_window(name, np.array([x]), cutoff=cutoff)[0]
    assert 0.0 <= value <= 1.0
