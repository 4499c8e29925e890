"""Baseline reconstructions: zero-filled, root-sum-of-squares and CG-SENSE."""

from __future__ import annotations

import math

import torch

from medaug.physics.mri.fft import check_complex, ifftnc
from medaug.physics.operators import LinearOperator, conjugate_gradient

__all__ = ["zero_filled", "root_sum_of_squares", "coil_combine", "cg_sense"]


def zero_filled(kspace: torch.Tensor, *, spatial_ndim: int = 2) -> torch.Tensor:
    """Return the per-coil zero-filled images ``F^H y`` (unsampled k-space is 0).

    Examples
    --------
    >>> zero_filled(torch.ones(1, 2, 2, dtype=torch.complex64))[0, 1, 1]
    tensor(2.+0.j)
    """
    check_complex(kspace, "kspace")
    if spatial_ndim not in (2, 3):
        raise ValueError(f"`spatial_ndim` must be 2 or 3, got {spatial_ndim}")
    return ifftnc(kspace, tuple(range(-spatial_ndim, 0)))


def root_sum_of_squares(images: torch.Tensor, *, coil_axis: int) -> torch.Tensor:
    """Combine coil images as ``sqrt(sum_c |x_c|^2)`` (real, coil axis removed).

    References
    ----------
    Roemer P. B., Edelstein W. A., Hayes C. E., Souza S. P., Mueller O. M.,
    "The NMR phased array", Magn. Reson. Med. 16(2), 192-225, 1990.
    DOI: 10.1002/mrm.1910160203

    Examples
    --------
    >>> root_sum_of_squares(torch.tensor([[3.0 + 0j], [0 + 4j]]), coil_axis=0)
    tensor([5.])
    """
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"`images` must be a torch tensor, got {type(images).__name__}")
    # |x|^2 = re^2 + im^2 directly: about 4 times faster than squaring abs(), which takes a hypot per value.
    power = images.real.square() + images.imag.square() if images.is_complex() else images.square()
    return torch.sqrt(torch.sum(power, dim=coil_axis))


def coil_combine(
    images: torch.Tensor, coil_sensitivities: torch.Tensor, *, coil_axis: int
) -> torch.Tensor:
    """Combine coil images with their sensitivities: ``sum_c conj(S_c) x_c / sum_c |S_c|^2``.

    This is the unaccelerated SENSE (optimal, for white noise) combination;
    voxels where every sensitivity is 0 give 0.
    """
    check_complex(images, "images")
    check_complex(coil_sensitivities, "coil_sensitivities")
    weight = torch.sum(coil_sensitivities.abs() ** 2, dim=coil_axis)
    combined = torch.sum(torch.conj(coil_sensitivities) * images, dim=coil_axis)
    safe = torch.where(weight > 0, weight, torch.ones_like(weight))
    return torch.where(weight > 0, combined / safe, torch.zeros_like(combined))


def cg_sense(
    kspace: torch.Tensor,
    operator: LinearOperator,
    *,
    iterations: int = 20,
    regularization: float = 0.0,
    tolerance: float = 1e-6,
) -> torch.Tensor:
    """Reconstruct an image by conjugate gradients on ``(A^H A + lambda I) x = A^H y``.

    Parameters
    ----------
    kspace : complex tensor
        Measured (masked) k-space ``y``.
    operator : LinearOperator
        Forward model ``A`` (for example :class:`MRIAcquisition` or a
        non-Cartesian operator with density compensation folded in).
    iterations : int, default 20
    regularization : float, default 0
        Tikhonov weight ``lambda`` (>= 0).
    tolerance : float, default 1e-6
        Relative residual at which CG stops.

    Returns
    -------
    complex tensor
        The image estimate, shaped like ``A^H y``.

    Notes
    -----
    Batched inputs are solved as one block-diagonal system, so every item
    shares the step sizes; CG still converges to each item's solution.

    References
    ----------
    Pruessmann K. P., Weiger M., Boernert P., Boesiger P., "Advances in
    sensitivity encoding with arbitrary k-space trajectories", Magn. Reson.
    Med. 46(4), 638-651, 2001. DOI: 10.1002/mrm.1241
    """
    check_complex(kspace, "kspace")
    regularization = float(regularization)
    if not (math.isfinite(regularization) and regularization >= 0):
        raise ValueError(f"`regularization` must be >= 0, got {regularization}")

    def normal(x: torch.Tensor) -> torch.Tensor:
        return operator.normal(x) + regularization * x

    rhs = operator.adjoint(kspace)
    return conjugate_gradient(normal, rhs, iterations=iterations, tolerance=tolerance)
