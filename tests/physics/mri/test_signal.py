import math

import pytest
import torch

from medaug.physics.mri.signal import (
    inversion_recovery,
    off_resonance_phase,
    relaxation_decay,
    spin_echo,
    spoiled_gradient_echo,
)

PD = torch.tensor([1.0, 0.8, 0.0, 0.7], dtype=torch.float64)
T1 = torch.tensor([800.0, 1200.0, 0.0, 4000.0], dtype=torch.float64)
T2 = torch.tensor([80.0, 100.0, 0.0, 2000.0], dtype=torch.float64)


def test_spin_echo_closed_form():
    s = spin_echo(PD, T1, T2, tr_ms=2000.0, te_ms=90.0)
    for i in range(4):
        if T1[i] == 0:
            # Zero relaxation times mark background: no signal.
            assert s[i] == 0
            continue
        expected = PD[i] * (1 - math.exp(-2000.0 / T1[i])) * math.exp(-90.0 / T2[i])
        assert float(s[i]) == pytest.approx(float(expected), rel=1e-12)


def test_spoiled_gradient_echo_closed_form_and_ernst_angle():
    t1 = 1000.0
    tr = 10.0
    e1 = math.exp(-tr / t1)
    ernst = math.degrees(math.acos(e1))
    values = [
        float(spoiled_gradient_echo(1.0, t1, 40.0, tr_ms=tr, te_ms=0.0, flip_angle_deg=a))
        for a in (ernst - 1, ernst, ernst + 1)
    ]
    # The Ernst angle maximises the steady-state signal.
    assert values[1] > values[0]
    assert values[1] > values[2]
    alpha = math.radians(20.0)
    expected = 0.9 * math.sin(alpha) * (1 - e1) / (1 - math.cos(alpha) * e1) * math.exp(-4 / 40.0)
    got = spoiled_gradient_echo(0.9, t1, 40.0, tr_ms=tr, te_ms=4.0, flip_angle_deg=20.0)
    assert float(got) == pytest.approx(expected, rel=1e-6)


def test_inversion_recovery_nulls_at_t1_ln2():
    t1 = torch.tensor([300.0, 1000.0], dtype=torch.float64)
    s = inversion_recovery(1.0, t1, 100.0, tr_ms=1e6, te_ms=0.0, ti_ms=1000.0 * math.log(2))
    # TR = 1e6 ms makes exp(-TR/T1) vanish, so the second tissue is exactly nulled.
    assert abs(float(s[1])) < 1e-12
    assert float(s[0]) == pytest.approx(1 - 2 * math.exp(-1000 * math.log(2) / 300), rel=1e-12)


def test_inversion_recovery_magnitude_and_sign():
    signed = inversion_recovery(1.0, 1000.0, 100.0, tr_ms=5000.0, te_ms=10.0, ti_ms=100.0)
    assert float(signed) < 0
    magnitude = inversion_recovery(
        1.0, 1000.0, 100.0, tr_ms=5000.0, te_ms=10.0, ti_ms=100.0, magnitude=True
    )
    assert float(magnitude) == pytest.approx(-float(signed))


def test_relaxation_decay_edge_cases():
    assert torch.equal(relaxation_decay(0.0, torch.tensor([0.0, 5.0])), torch.ones(2))
    assert float(relaxation_decay(5.0, torch.tensor(0.0))) == 0.0


def test_off_resonance_phase_closed_form():
    s = off_resonance_phase(torch.tensor([2.0], dtype=torch.float64), 100.0, te_ms=1.25)
    expected = 2.0 * complex(math.cos(-2 * math.pi * 0.125), math.sin(-2 * math.pi * 0.125))
    assert complex(s[0]) == pytest.approx(expected, abs=1e-7)
    zero = off_resonance_phase(torch.ones(3, dtype=torch.complex64), 0.0, te_ms=5.0)
    assert torch.equal(zero, torch.ones(3, dtype=torch.complex64))


def test_signal_rejects_te_above_tr():
    with pytest.raises(ValueError, match="`te_ms` must be <= `tr_ms`"):
        spin_echo(PD, T1, T2, tr_ms=10.0, te_ms=20.0)
    with pytest.raises(ValueError, match="`te_ms` must be <= `tr_ms`"):
        spoiled_gradient_echo(PD, T1, T2, tr_ms=10.0, te_ms=20.0, flip_angle_deg=10)


def test_signal_rejects_bad_values():
    with pytest.raises(ValueError, match="`ti_ms` must be < `tr_ms`"):
        inversion_recovery(PD, T1, T2, tr_ms=100.0, te_ms=10.0, ti_ms=200.0)
    with pytest.raises(ValueError, match="`flip_angle_deg` must be in"):
        spoiled_gradient_echo(PD, T1, T2, tr_ms=10.0, te_ms=2.0, flip_angle_deg=0)
    with pytest.raises(ValueError, match="`tr_ms` must be finite and > 0"):
        spin_echo(PD, T1, T2, tr_ms=0.0, te_ms=0.0)
    with pytest.raises(ValueError, match="`constant_ms` must be >= 0"):
        spin_echo(PD, -T1, T2, tr_ms=10.0, te_ms=1.0)
    with pytest.raises(ValueError, match="`proton_density` must be >= 0"):
        spin_echo(-PD, T1, T2, tr_ms=10.0, te_ms=1.0)
    with pytest.raises(TypeError, match="`constant_ms` must be real"):
        relaxation_decay(1.0, torch.ones(2, dtype=torch.complex64))
    with pytest.raises(TypeError, match="`signal` must be a torch tensor"):
        off_resonance_phase(1.0, 1.0, te_ms=1.0)


def test_signal_is_differentiable_in_t2():
    t2 = torch.tensor([50.0], dtype=torch.float64, requires_grad=True)
    s = spin_echo(1.0, 1000.0, t2, tr_ms=1000.0, te_ms=20.0)
    s.sum().backward()
    expected = (1 - math.exp(-1.0)) * math.exp(-20 / 50) * 20 / 50**2
    assert float(t2.grad) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("equation", ["spin_echo", "spoiled_gradient_echo", "inversion_recovery"])
def test_in_place_path_matches_autograd_path(equation):
    grid = torch.linspace(0.0, 1.0, 50, dtype=torch.float64)
    pd = grid
    t1 = torch.where(grid > 0.1, 300.0 + 3000.0 * grid, torch.zeros_like(grid))
    t2 = torch.where(grid > 0.1, 20.0 + 200.0 * grid, torch.zeros_like(grid))
    options = {
        "spin_echo": {"tr_ms": 500.0, "te_ms": 15.0},
        "spoiled_gradient_echo": {"tr_ms": 20.0, "te_ms": 5.0, "flip_angle_deg": 25.0},
        "inversion_recovery": {"tr_ms": 5000.0, "te_ms": 10.0, "ti_ms": 400.0},
    }[equation]
    function = {"spin_echo": spin_echo, "spoiled_gradient_echo": spoiled_gradient_echo,
                "inversion_recovery": inversion_recovery}[equation]
    in_place = function(pd, t1, t2, **options)
    tracked = function(pd, t1.clone().requires_grad_(True), t2, **options)
    # The two paths order the same float64 operations differently.
    assert torch.allclose(in_place, tracked.detach(), rtol=1e-12, atol=1e-15)
    assert not bool(in_place[grid <= 0.1].any())


def test_signal_keeps_map_dtype_and_leaves_inputs_alone():
    pd = torch.full((4,), 0.5)
    t1 = torch.full((4,), 900.0)
    t2s = torch.full((4,), 40.0)
    copies = [pd.clone(), t1.clone(), t2s.clone()]
    signal = spoiled_gradient_echo(pd, t1, t2s, tr_ms=20.0, te_ms=5.0, flip_angle_deg=15.0)
    assert signal.dtype == torch.float32
    for original, copy in zip((pd, t1, t2s), copies):
        assert torch.equal(original, copy)
    # A float64 map promotes the float32 ones instead of being cast down.
    promoted = spoiled_gradient_echo(pd.double(), t1, t2s, tr_ms=20.0, te_ms=5.0, flip_angle_deg=15.0)
    assert promoted.dtype == torch.float64


def test_signal_rejects_nan_and_infinite_maps():
    with pytest.raises(ValueError, match="`proton_density` must be finite"):
        spin_echo(torch.tensor([1.0, math.nan]), T1[:2], T2[:2], tr_ms=10.0, te_ms=1.0)
    with pytest.raises(ValueError, match="`constant_ms` must be finite"):
        spin_echo(PD, T1.clone().fill_(math.inf), T2, tr_ms=10.0, te_ms=1.0)
