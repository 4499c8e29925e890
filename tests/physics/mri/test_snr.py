import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from medaug.physics.mri.snr import AcquisitionProtocol, relative_snr, snr_scale


def test_relative_snr_scaling_laws():
    reference = AcquisitionProtocol(1.5, 1.0, 100.0)
    assert relative_snr(AcquisitionProtocol(3.0, 1.0, 100.0), reference) == pytest.approx(2.0)
    assert relative_snr(AcquisitionProtocol(1.5, 8.0, 100.0), reference) == pytest.approx(8.0)
    assert relative_snr(AcquisitionProtocol(1.5, 1.0, 400.0), reference) == pytest.approx(2.0)
    accelerated = AcquisitionProtocol(1.5, 1.0, 100.0, acceleration=4.0, g_factor=1.2)
    assert relative_snr(accelerated, reference) == pytest.approx(1 / (1.2 * 2.0))
    assert relative_snr(AcquisitionProtocol(3.0, 1.0, 100.0), reference, field_exponent=1.65) == pytest.approx(2**1.65)
    with pytest.raises(ValueError, match="`acceleration` must be >= 1"):
        AcquisitionProtocol(1.5, 1.0, 100.0, acceleration=0.5)


def test_snr_scale_closed_form_on_arrays():
    field = np.array([0.55, 1.5, 3.0, 7.0])
    scale = snr_scale(field, 2.0, g_factor=1.25, voxel_volume_mm3=0.5, acquisition_time_s=16.0)
    # B0 * V * sqrt(T) / (g sqrt(R)) written out for each field strength.
    expected = field * 0.5 * 4.0 / (1.25 * math.sqrt(2.0))
    assert isinstance(scale, np.ndarray)
    np.testing.assert_allclose(scale, expected, rtol=1e-15)
    assert isinstance(snr_scale(3.0), float)


@given(
    field=st.floats(0.1, 11.7),
    rate=st.floats(1.0, 8.0),
    g=st.floats(1.0, 3.0),
    exponent=st.floats(0.0, 2.0),
)
def test_snr_scale_is_a_product_of_powers(field, rate, g, exponent):
    # Doubling B0 multiplies SNR by 2^e; quadrupling R divides it by 2.
    base = snr_scale(field, rate, g_factor=g, field_exponent=exponent)
    assert snr_scale(2 * field, rate, g_factor=g, field_exponent=exponent) == pytest.approx(base * 2**exponent)
    assert snr_scale(field, 4 * rate, g_factor=g, field_exponent=exponent) == pytest.approx(base / 2)
    assert snr_scale(field, rate, g_factor=2 * g, field_exponent=exponent) == pytest.approx(base / 2)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"field_strength_t": 0.0}, ValueError, "`field_strength_t` must be > 0 T, got 0.0"),
        ({"field_strength_t": math.nan}, ValueError, "`field_strength_t` must be finite, got nan"),
        ({"field_strength_t": 3.0, "acceleration": 0.5}, ValueError, "`acceleration` must be >= 1, got 0.5"),
        ({"field_strength_t": 3.0, "g_factor": 0.9}, ValueError, "`g_factor` must be >= 1, got 0.9"),
        ({"field_strength_t": 3.0, "voxel_volume_mm3": -1.0}, ValueError, "`voxel_volume_mm3` must be > 0 mm\\^3"),
        ({"field_strength_t": 3.0, "acquisition_time_s": 0.0}, ValueError, "`acquisition_time_s` must be > 0 s"),
        ({"field_strength_t": 3.0, "field_exponent": -1.0}, ValueError, "`field_exponent` must be >= 0, got -1.0"),
    ],
)
def test_snr_scale_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        snr_scale(**kwargs)


def test_protocol_rejects_bad_input():
    with pytest.raises(ValueError, match="`voxel_volume_mm3` must be > 0 mm\\^3, got 0.0"):
        AcquisitionProtocol(1.5, 0.0, 100.0)
    with pytest.raises(ValueError, match="`acquisition_time_s` must be finite, got inf"):
        AcquisitionProtocol(1.5, 1.0, math.inf)
    with pytest.raises(TypeError, match="`reference` must be an AcquisitionProtocol, got float"):
        relative_snr(AcquisitionProtocol(1.5, 1.0, 100.0), 1.5)
