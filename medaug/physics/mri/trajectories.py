"""Non-Cartesian k-space trajectories and sampling-density compensation.

Trajectories are returned in cycles/pixel, shaped ``(shots, samples, 2)``
with the last axis in array-axis order ``(k_H, k_W)``; divide by the pixel
spacing in mm to get cycles/mm.
"""

from __future__ import annotations

import math

import torch

from medaug.physics.operators import LinearOperator

__all__ = [
    "GOLDEN_ANGLE_DEG",
    "radial_trajectory",
    "spiral_trajectory",
    "radial_density_compensation",
    "pipe_density_compensation",
]

#: Golden-angle increment of radial spokes, 180 / phi degrees (about 111.246 degrees).
GOLDEN_ANGLE_DEG = 180.0 / ((1.0 + math.sqrt(5.0)) / 2.0)


def _check_count(value: int, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"`{name}` must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {value}")
    return value


def radial_trajectory(
    num_spokes: int,
    num_readout: int,
    *,
    golden_angle: bool = True,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """Return a 2-D radial trajectory of full-diameter spokes.

    Spoke ``s`` has angle ``s * 111.246`` degrees (golden angle) or
    ``s * 180 / num_spokes`` degrees (uniform); readout sample ``i`` sits at
    radius ``(i - num_readout // 2) / num_readout`` cycles/pixel, so every
    spoke passes through the k-space centre.

    Parameters
    ----------
    num_spokes : int
    num_readout : int
        Samples per spoke; equal to the image width for Nyquist sampling
        along the spoke.
    golden_angle : bool, default True
    dtype : floating torch dtype, default float64

    Returns
    -------
    tensor, (num_spokes, num_readout, 2)

    References
    ----------
    Winkelmann S., Schaeffter T., Koehler T., Eggers H., Doessel O., "An
    optimal radial profile order based on the golden ratio for time-resolved
    MRI", IEEE Trans. Med. Imaging 26(1), 68-76, 2007.
    DOI: 10.1109/TMI.2006.885337

    Examples
    --------
    >>> radial_trajectory(3, 4)[1, 0]
    tensor([-0.4660,  0.1812], dtype=torch.float64)
    """
    num_spokes = _check_count(num_spokes, "num_spokes")
    num_readout = _check_count(num_readout, "num_readout", 2)
    step = GOLDEN_ANGLE_DEG if golden_angle else 180.0 / num_spokes
    angles = torch.deg2rad(torch.arange(num_spokes, dtype=torch.float64) * step)
    radius = (torch.arange(num_readout, dtype=torch.float64) - num_readout // 2) / num_readout
    k_h = radius[None, :] * torch.sin(angles)[:, None]
    k_w = radius[None, :] * torch.cos(angles)[:, None]
    return torch.stack([k_h, k_w], dim=-1).to(dtype)


def spiral_trajectory(
    num_interleaves: int,
    num_samples: int,
    *,
    num_turns: float,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """Return an Archimedean spiral trajectory with rotated interleaves.

    Interleave ``l`` follows ``k(t) = 0.5 t exp(i (2 pi turns t + 2 pi l / L))``
    for ``t`` in ``[0, 1)``, reaching 0.5 cycles/pixel at the edge. The
    radial gap between neighbouring arms is ``0.5 / (turns L)``, so
    ``num_turns >= N / (2 L)`` samples an ``N``-pixel field of view at the
    Nyquist rate.

    Parameters
    ----------
    num_interleaves : int
    num_samples : int
        Samples per interleave.
    num_turns : float
        Turns of each interleave (> 0).
    dtype : floating torch dtype, default float64

    Returns
    -------
    tensor, (num_interleaves, num_samples, 2)

    References
    ----------
    Ahn C. B., Kim J. H., Cho Z. H., "High-speed spiral-scan echo planar NMR
    imaging - I", IEEE Trans. Med. Imaging 5(1), 2-7, 1986.
    DOI: 10.1109/TMI.1986.4307732

    Examples
    --------
    >>> spiral_trajectory(2, 4, num_turns=1.0)[0, 2]
    tensor([ 3.0616e-17, -2.5000e-01], dtype=torch.float64)
    """
    num_interleaves = _check_count(num_interleaves, "num_interleaves")
    num_samples = _check_count(num_samples, "num_samples", 2)
    num_turns = float(num_turns)
    if not (math.isfinite(num_turns) and num_turns > 0):
        raise ValueError(f"`num_turns` must be > 0, got {num_turns}")
    t = torch.arange(num_samples, dtype=torch.float64) / num_samples
    rotation = 2.0 * math.pi * torch.arange(num_interleaves, dtype=torch.float64) / num_interleaves
    angle = 2.0 * math.pi * num_turns * t[None, :] + rotation[:, None]
    radius = 0.5 * t[None, :]
    return torch.stack([radius * torch.sin(angle), radius * torch.cos(angle)], dim=-1).to(dtype)


def radial_density_compensation(
    trajectory: torch.Tensor, image_shape: tuple[int, int]
) -> torch.Tensor:
    """Return analytic (ramp) density compensation weights for a radial trajectory.

    Each sample is weighted by the k-space area it represents, in units
    where a Cartesian grid sample weighs 1: ``w = pi |k| H W / (S n)`` for
    ``S`` spokes of ``n`` samples, and ``w = pi H W / (4 S n^2)`` at the
    centre, whose disc of radius ``1 / (2 n)`` is shared by all spokes.

    Parameters
    ----------
    trajectory : tensor, (num_spokes, num_readout, 2)
        From :func:`radial_trajectory`.
    image_shape : (int, int)

    Returns
    -------
    tensor, (num_spokes, num_readout)

    References
    ----------
    Pipe J. G., Menon P., "Sampling density compensation in MRI: rationale
    and an iterative numerical solution", Magn. Reson. Med. 41(1), 179-186,
    1999. DOI: 10.1002/(SICI)1522-2594(199901)41:1<179::AID-MRM25>3.0.CO;2-V
    """
    if trajectory.ndim != 3 or trajectory.shape[-1] != 2:
        raise ValueError(f"`trajectory` must be shaped (spokes, readout, 2), got {tuple(trajectory.shape)}")
    spokes, readout = trajectory.shape[:2]
    pixels = math.prod(image_shape)
    radius = torch.linalg.vector_norm(trajectory, dim=-1)
    weights = math.pi * radius * pixels / (spokes * readout)
    centre = math.pi * pixels / (4.0 * spokes * readout**2)
    return torch.where(radius * readout < 0.5, torch.full_like(radius, centre), weights)


def pipe_density_compensation(
    operator: LinearOperator, sample_shape: tuple[int, ...], *, iterations: int = 20,
    dtype: torch.dtype = torch.complex128,
) -> torch.Tensor:
    """Estimate density compensation weights by the Pipe-Menon fixed-point iteration.

    Iterates ``w <- w / |A A^H w|`` with the single-coil NUFFT ``A``, whose
    point-spread function plays the role of the gridding kernel. At the
    fixed point ``A A^H w = 1``; a fully sampled Cartesian grid gives
    ``w = 1``, the same units as :func:`radial_density_compensation`.

    Parameters
    ----------
    operator : LinearOperator
        Single-coil NUFFT (:class:`~medaug.physics.mri.nufft.NUFFT`).
    sample_shape : tuple of int
        Shape of the k-space samples (the trajectory shape without its last axis).
    iterations : int, default 20
    dtype : complex torch dtype, default complex128

    Returns
    -------
    real tensor, sample_shape

    References
    ----------
    Pipe J. G., Menon P., "Sampling density compensation in MRI: rationale
    and an iterative numerical solution", Magn. Reson. Med. 41(1), 179-186,
    1999. DOI: 10.1002/(SICI)1522-2594(199901)41:1<179::AID-MRM25>3.0.CO;2-V
    """
    iterations = _check_count(iterations, "iterations")
    weights = torch.ones(sample_shape, dtype=dtype)
    for _ in range(iterations):
        blurred = operator.forward(operator.adjoint(weights)).abs()
        weights = weights / blurred.clamp_min(torch.finfo(blurred.dtype).tiny)
    return weights.real
