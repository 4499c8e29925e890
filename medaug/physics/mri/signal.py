"""MR signal equations: tissue maps (PD, T1, T2, T2*) to complex image contrast.

All times are in ms, flip angles in degrees and off-resonance in Hz. Maps
are torch tensors of any shape that broadcast together; scalars are
accepted. Tissue with ``T1``, ``T2`` or ``T2*`` equal to 0 (air, background)
gives zero signal for a non-zero echo time.

References
----------
Haacke E. M., Brown R. W., Thompson M. R., Venkatesan R., "Magnetic
Resonance Imaging: Physical Principles and Sequence Design", Wiley, 1999.
DOI: 10.1002/9781118633953

Bernstein M. A., King K. F., Zhou X. J., "Handbook of MRI Pulse
Sequences", Elsevier Academic Press, 2004. DOI: 10.1016/B978-0-12-092861-3.X5000-6
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "relaxation_decay",
    "spin_echo",
    "spoiled_gradient_echo",
    "inversion_recovery",
    "off_resonance_phase",
]


def _as_tensor(value: torch.Tensor | float, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        if value.is_complex():
            raise TypeError(f"`{name}` must be real, got {value.dtype}")
        return value if value.is_floating_point() else value.to(torch.get_default_dtype())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a tensor or a number, got {type(value).__name__}")
    # float64 0-d tensors take the dtype of any map they meet (type promotion).
    return torch.tensor(float(value), dtype=torch.float64)


def _check_time(value: float, name: str, *, positive: bool = False) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"`{name}` must be finite and {bound} ms, got {value}")
    return value


def _check_map(value: torch.Tensor, name: str) -> None:
    # One reduction pass: NaN propagates into both extremes and fails both tests.
    low, high = (float(v) for v in torch.aminmax(value.detach())) if value.numel() else (0.0, 0.0)
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"`{name}` must be finite")
    if low < 0:
        raise ValueError(f"`{name}` must be >= 0, got minimum {low}")


def relaxation_decay(time_ms: float, constant_ms: torch.Tensor | float) -> torch.Tensor:
    """Return ``exp(-time / constant)``, with 0 where the constant is 0 and time > 0.

    Parameters
    ----------
    time_ms : float
        Elapsed time in ms (>= 0).
    constant_ms : tensor or float
        Relaxation time constant (T1, T2 or T2*) in ms, >= 0.

    Examples
    --------
    >>> relaxation_decay(10.0, torch.tensor([10.0, 0.0]))
    tensor([0.3679, 0.0000])
    """
    time_ms = _check_time(time_ms, "time_ms")
    constant = _as_tensor(constant_ms, "constant_ms")
    _check_map(constant, "constant_ms")
    if time_ms == 0.0:
        return torch.ones_like(constant)
    if not (torch.is_grad_enabled() and constant.requires_grad):
        # -time / 0 is -inf and exp(-inf) is exactly 0, so no masking is needed.
        return torch.div(-time_ms, constant).exp_()
    # Masked twice so that the gradient at a zero constant is 0, not NaN.
    safe = torch.where(constant > 0, constant, torch.ones_like(constant))
    return torch.where(constant > 0, torch.exp(-time_ms / safe), torch.zeros_like(constant))


def _check_echo(te_ms: float, tr_ms: float) -> tuple[float, float]:
    tr_ms = _check_time(tr_ms, "tr_ms", positive=True)
    te_ms = _check_time(te_ms, "te_ms")
    if te_ms > tr_ms:
        raise ValueError(f"`te_ms` must be <= `tr_ms`, got te_ms={te_ms} > tr_ms={tr_ms}")
    return te_ms, tr_ms


def _proton_density(value: torch.Tensor | float) -> torch.Tensor:
    pd = _as_tensor(value, "proton_density")
    _check_map(pd, "proton_density")
    return pd


def _records_graph(*tensors: torch.Tensor) -> bool:
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def _multiply(fresh: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Return ``fresh * factor``, in place when ``fresh`` is a temporary that keeps its shape and dtype.

    Reusing the temporary saves one map-sized allocation per factor; autograd
    and broadcasting to a larger shape or dtype take the out-of-place path.
    """
    in_place = (
        not _records_graph(fresh, factor)
        and torch.broadcast_shapes(fresh.shape, factor.shape) == fresh.shape
        and torch.result_type(fresh, factor) == fresh.dtype
    )
    return fresh.mul_(factor) if in_place else fresh * factor


def _flash_fraction(e1: torch.Tensor, alpha: float) -> torch.Tensor:
    """Return ``sin(a) (1 - E1) / (1 - cos(a) E1)``, reusing the temporary ``e1``."""
    if _records_graph(e1):
        return math.sin(alpha) * (1.0 - e1) / (1.0 - math.cos(alpha) * e1)
    denominator = torch.mul(e1, -math.cos(alpha)).add_(1.0)
    return e1.mul_(-math.sin(alpha)).add_(math.sin(alpha)).div_(denominator)


def spin_echo(
    proton_density: torch.Tensor | float,
    t1: torch.Tensor | float,
    t2: torch.Tensor | float,
    *,
    tr_ms: float,
    te_ms: float,
) -> torch.Tensor:
    """Compute the spin-echo signal ``PD (1 - exp(-TR/T1)) exp(-TE/T2)``.

    Parameters
    ----------
    proton_density : tensor or float
        Proton density (arbitrary units, >= 0).
    t1, t2 : tensor or float
        Relaxation times in ms (>= 0).
    tr_ms, te_ms : float
        Repetition and echo time in ms, ``0 <= te_ms <= tr_ms``.

    Returns
    -------
    tensor
        Real signal, broadcast shape of the maps.

    Notes
    -----
    This is the short-TE form, valid for ``TE << TR``. The exact expression
    replaces ``exp(-TR/T1)`` by ``2 exp(-(TR - TE/2)/T1) - exp(-TR/T1)``,
    which differs only when TE is a sizeable fraction of TR.

    References
    ----------
    Haacke E. M. et al., "Magnetic Resonance Imaging: Physical Principles and
    Sequence Design", Wiley, 1999. DOI: 10.1002/9781118633953

    Examples
    --------
    >>> spin_echo(1.0, 1000.0, 100.0, tr_ms=1000.0, te_ms=100.0)
    tensor(0.2325, dtype=torch.float64)
    """
    te_ms, tr_ms = _check_echo(te_ms, tr_ms)
    pd = _proton_density(proton_density)
    recovery = 1.0 - relaxation_decay(tr_ms, t1)
    return _multiply(_multiply(recovery, pd), relaxation_decay(te_ms, t2))


def spoiled_gradient_echo(
    proton_density: torch.Tensor | float,
    t1: torch.Tensor | float,
    t2_star: torch.Tensor | float,
    *,
    tr_ms: float,
    te_ms: float,
    flip_angle_deg: float,
) -> torch.Tensor:
    """Compute the steady-state spoiled gradient-echo (FLASH) signal.

    ``S = PD sin(a) (1 - E1) / (1 - cos(a) E1) exp(-TE/T2*)`` with
    ``E1 = exp(-TR/T1)``.

    Parameters
    ----------
    proton_density, t1, t2_star : tensor or float
        Proton density (a.u.) and relaxation times in ms.
    tr_ms, te_ms : float
        Repetition and echo time in ms, ``0 <= te_ms <= tr_ms``.
    flip_angle_deg : float
        Excitation flip angle in degrees, in (0, 180].

    References
    ----------
    Bernstein M. A., King K. F., Zhou X. J., "Handbook of MRI Pulse
    Sequences", Elsevier, 2004.
    DOI: 10.1016/B978-0-12-092861-3.X5000-6

    Examples
    --------
    >>> spoiled_gradient_echo(1.0, 1000.0, 50.0, tr_ms=20.0, te_ms=5.0, flip_angle_deg=90.0)
    tensor(0.0179, dtype=torch.float64)
    """
    te_ms, tr_ms = _check_echo(te_ms, tr_ms)
    flip = float(flip_angle_deg)
    if not (math.isfinite(flip) and 0.0 < flip <= 180.0):
        raise ValueError(f"`flip_angle_deg` must be in (0, 180] degrees, got {flip_angle_deg}")
    pd = _proton_density(proton_density)
    steady = _flash_fraction(relaxation_decay(tr_ms, t1), math.radians(flip))
    return _multiply(_multiply(steady, pd), relaxation_decay(te_ms, t2_star))


def inversion_recovery(
    proton_density: torch.Tensor | float,
    t1: torch.Tensor | float,
    t2: torch.Tensor | float,
    *,
    tr_ms: float,
    te_ms: float,
    ti_ms: float,
    magnitude: bool = False,
) -> torch.Tensor:
    """Compute the inversion-recovery spin-echo signal.

    ``S = PD (1 - 2 exp(-TI/T1) + exp(-TR/T1)) exp(-TE/T2)``; the sign is
    kept (phase-sensitive) unless ``magnitude=True``. Tissue with
    ``TI = T1 ln 2`` (for ``TR >> T1``) is nulled.

    Parameters
    ----------
    proton_density, t1, t2 : tensor or float
        Proton density (a.u.) and relaxation times in ms.
    tr_ms, te_ms, ti_ms : float
        Repetition, echo and inversion time in ms with
        ``0 <= te_ms <= tr_ms`` and ``0 <= ti_ms < tr_ms``.
    magnitude : bool, default False
        Return ``|S|`` instead of the signed signal.

    References
    ----------
    Bydder G. M., Young I. R., "MR imaging: clinical use of the inversion
    recovery sequence", J. Comput. Assist. Tomogr. 9(4), 659-675, 1985.
    DOI: 10.1097/00004728-198507010-00002

    Examples
    --------
    >>> inversion_recovery(1.0, 1000.0, 100.0, tr_ms=10000.0, te_ms=0.0, ti_ms=100.0)
    tensor(-0.8096, dtype=torch.float64)
    """
    te_ms, tr_ms = _check_echo(te_ms, tr_ms)
    ti_ms = _check_time(ti_ms, "ti_ms")
    if ti_ms >= tr_ms:
        raise ValueError(f"`ti_ms` must be < `tr_ms`, got ti_ms={ti_ms} >= tr_ms={tr_ms}")
    pd = _proton_density(proton_density)
    longitudinal = 1.0 - 2.0 * relaxation_decay(ti_ms, t1) + relaxation_decay(tr_ms, t1)
    signal = _multiply(_multiply(longitudinal, pd), relaxation_decay(te_ms, t2))
    return signal.abs() if magnitude else signal


def off_resonance_phase(
    signal: torch.Tensor, off_resonance_hz: torch.Tensor | float, *, te_ms: float
) -> torch.Tensor:
    """Multiply a signal by the phase ``exp(-2 pi i df TE)`` accumulated at the echo.

    Parameters
    ----------
    signal : tensor
        Real or complex signal; a real signal is promoted to complex.
    off_resonance_hz : tensor or float
        Off-resonance frequency ``df`` in Hz (for example
        ``gamma_bar * B0 * chemical_shift_ppm * 1e-6``, 42.58 MHz/T for water
        protons), broadcastable to ``signal``.
    te_ms : float
        Echo time in ms (>= 0).

    Returns
    -------
    complex tensor

    Notes
    -----
    T2* decay is modelled by :func:`spoiled_gradient_echo` or
    :func:`relaxation_decay`; this function only adds the precession phase.

    References
    ----------
    Haacke E. M. et al., "Magnetic Resonance Imaging: Physical Principles and
    Sequence Design", Wiley, 1999.
    DOI: 10.1002/9781118633953

    Examples
    --------
    >>> off_resonance_phase(torch.tensor(1.0), 250.0, te_ms=2.0)
    tensor(-1.+8.7423e-08j)
    """
    te_ms = _check_time(te_ms, "te_ms")
    if not isinstance(signal, torch.Tensor):
        raise TypeError(f"`signal` must be a torch tensor, got {type(signal).__name__}")
    frequency = _as_tensor(off_resonance_hz, "off_resonance_hz").to(signal.device)
    if not bool(torch.isfinite(frequency).all()):
        raise ValueError("`off_resonance_hz` must be finite")
    complex_signal = signal if signal.is_complex() else signal.to(torch.complex64)
    real_dtype = complex_signal.real.dtype
    phase = (-2.0 * math.pi * te_ms * 1e-3) * frequency.to(real_dtype)
    return complex_signal * torch.polar(torch.ones_like(phase), phase)
