"""Fan-beam short scans: Parker weights and the short-scan FBP of a water disc."""

import math

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from medaug.physics.ct import FanBeamGeometry, FanBeamProjector, fbp, uniform_angles
from medaug.physics.ct.shortscan import parker_weights, scan_arc, short_scan_weights

# Linear attenuation coefficient of water at 60 keV in 1/cm (NIST XCOM,
# Hubbell and Seltzer, NISTIR 5632): the value the reconstruction must return.
MU_WATER_60KEV = 0.2059


def _disc(n, radius, centre=(0.0, 0.0)):
    axis = torch.arange(n, dtype=torch.float64) - (n - 1) / 2
    inside = (axis[None, :] - centre[0]) ** 2 + (axis[:, None] - centre[1]) ** 2 <= radius**2
    return inside.to(torch.float64)


def _short_scan(detector_type):
    # The fan reaches 9.2 degrees on each side, so 200 views 1 degree apart
    # (199 degrees from the first to the last) cover 180 + 2 * 9.2 degrees.
    angles = uniform_angles(200, arc_deg=200.0, start_deg=30.0)
    return FanBeamGeometry(angles, 260, 1.0, 400.0, 800.0, detector_type=detector_type)


@pytest.mark.parametrize("detector_type", ["flat", "equiangular"])
def test_short_scan_water_disc(detector_type):
    geometry = _short_scan(detector_type)
    water = _disc(128, 50) * MU_WATER_60KEV

    image = fbp(FanBeamProjector(geometry, (128, 128))(water), geometry, (128, 128))

    inside = _disc(128, 40).bool()
    # 0.5 %: FBP of a rasterised disc is unbiased away from its edge. Without
    # Parker weights the mean is 11 % too high.
    assert abs(float(image[inside].mean()) / MU_WATER_60KEV - 1) < 0.005
    # Parker weights with the conjugate ray on the wrong side keep the mean
    # but tilt the image by about 12 % between opposite sides; 1 % per side
    # catches that and leaves room for FBP ripple (about 0.1 % here).
    for centre in [(25.0, 0.0), (-25.0, 0.0), (0.0, 25.0), (0.0, -25.0)]:
        patch = _disc(128, 8, centre).bool()
        assert abs(float(image[patch].mean()) / MU_WATER_60KEV - 1) < 0.01


def test_full_scan_has_no_weights():
    geometry = FanBeamGeometry(uniform_angles(90, arc_deg=360), 64, 1.0, 300.0, 600.0)
    short, step = scan_arc(geometry)
    assert not short
    assert math.isclose(step, math.radians(4.0))


@settings(max_examples=80, deadline=None)
@given(
    delta=st.floats(0.05, 0.6),
    gamma_fraction=st.floats(-1.0, 1.0),
    beta_fraction=st.floats(0.0, 1.0),
)
@example(delta=0.5, gamma_fraction=-1.0, beta_fraction=0.0)  # the fan's edge at the arc's start
@example(delta=0.5, gamma_fraction=1.0, beta_fraction=1.0)  # and at its end
@example(delta=0.5999999999999999, gamma_fraction=1.0, beta_fraction=1.0)  # a conjugate rounded below 0
def test_parker_line_weights_sum_to_one(delta, gamma_fraction, beta_fraction):
    gamma = gamma_fraction * delta
    arc = math.pi + 2 * delta
    beta = beta_fraction * arc
    # The rays (beta + pi - 2 gamma, -gamma) and (beta - pi - 2 gamma, -gamma)
    # run along the same line, and at most one of them lies in the arc. At the
    # arc's ends, rounding may put a conjugate that is exactly 0 or the arc
    # length 1e-16 outside it, so the ends are widened by 1e-12 and clipped.
    conjugates = [min(max(c, 0.0), arc) for c in (beta + math.pi - 2 * gamma, beta - math.pi - 2 * gamma)
                  if -1e-12 <= c <= arc + 1e-12]

    weight = parker_weights(np.array([beta]), np.array([gamma]), delta)[0, 0]
    conjugate_weight = sum(parker_weights(np.array([c]), np.array([-gamma]), delta)[0, 0] for c in conjugates)

    assert 0.0 <= weight <= 1.0
    # Every line measured in the arc counts once in total; sines of float64
    # angles leave rounding near 1e-15.
    assert abs(weight + conjugate_weight - 1.0) < 1e-9


def test_parker_weights_fade_at_arc_ends():
    geometry = _short_scan("flat")
    weights = short_scan_weights(geometry)
    assert weights.shape == (200, 260)
    assert np.all(weights[0] < 0.1)
    assert np.all(weights[-1] < 0.1)
    # Mid-scan every ray is measured once, so its weight is 1.
    assert np.all(weights[100] == 1.0)


def test_short_scan_too_short_raises():
    geometry = FanBeamGeometry(uniform_angles(190, arc_deg=190.0), 260, 1.0, 400.0, 800.0)
    with pytest.raises(ValueError, match="scan at least 198.390 degrees"):
        fbp(torch.zeros(190, 260), geometry, (64, 64))


def test_short_scan_unequal_steps_raises():
    angles = tuple(uniform_angles(199, arc_deg=199.0)) + (205.0,)
    geometry = FanBeamGeometry(angles, 260, 1.0, 400.0, 800.0)
    with pytest.raises(ValueError, match="equally spaced, increasing view angles"):
        fbp(torch.zeros(200, 260), geometry, (64, 64))


def test_scan_over_360_degrees_raises():
    geometry = FanBeamGeometry(uniform_angles(100, arc_deg=500.0), 64, 1.0, 300.0, 600.0)
    with pytest.raises(ValueError, match="must span at most 360 degrees, got 500.000 degrees"):
        fbp(torch.zeros(100, 64), geometry, (32, 32))
