"""Centred, orthonormal n-D Fourier transforms and complex/real layout converters.

Convention used throughout :mod:`medaug.physics.mri`: the k-space centre
(zero frequency) and the image centre both sit at index ``n // 2`` on every
transformed axis, for odd and even ``n``. With ``norm="ortho"`` the transform
is unitary, so Parseval's identity holds and white noise keeps its standard
deviation between image and k-space.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["fftnc", "ifftnc", "complex_to_real", "real_to_complex", "check_complex"]


def check_complex(x: torch.Tensor, name: str) -> None:
    """Raise TypeError unless ``x`` is a complex torch tensor."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"`{name}` must be a torch tensor, got {type(x).__name__}")
    if not x.is_complex():
        raise TypeError(
            f"`{name}` must be a complex tensor, got {x.dtype}; convert a real tensor with "
            "x.to(torch.complex64) or a 2-channel real layout with "
            "medaug.physics.mri.real_to_complex(x, axis=...)"
        )


def _normalise_axes(x: torch.Tensor, axes: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(axes, int):
        axes = (axes,)
    axes = tuple(int(a) for a in axes)
    if not axes:
        raise ValueError("`axes` must name at least one axis")
    resolved = []
    for axis in axes:
        if not -x.ndim <= axis < x.ndim:
            raise ValueError(f"axis {axis} is out of range for a tensor with {x.ndim} axes")
        resolved.append(axis % x.ndim)
    if len(set(resolved)) != len(resolved):
        raise ValueError(f"`axes` must not repeat an axis, got {axes}")
    return tuple(resolved)


def _checkerboard(x: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    """Return ``prod_a (-1)^{n_a}`` over ``dims`` as a real tensor broadcastable to ``x``."""
    sign = torch.ones((), dtype=x.real.dtype, device=x.device)
    for dim in dims:
        n = x.shape[dim]
        line = 1.0 - 2.0 * (torch.arange(n, device=x.device) % 2).to(x.real.dtype)
        view = [1] * x.ndim
        view[dim] = n
        sign = sign * line.reshape(view)
    return sign


def modulation_signs(x: torch.Tensor, dims: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Return the signs that replace the shifts of a centred FFT over even-sized ``dims``.

    For even ``n`` the two shifts equal a ``(-1)^n`` modulation before and a
    ``(-1)^k`` modulation after the unshifted transform, times
    ``(-1)^(n/2)`` per axis. Returns ``(before, after)`` as real tensors
    broadcastable to ``x``, or None when an axis has odd size.
    """
    if not all(x.shape[dim] % 2 == 0 for dim in dims):
        return None
    sign = _checkerboard(x, dims)
    flips = sum((x.shape[dim] // 2) % 2 for dim in dims)
    return sign, (-sign if flips % 2 else sign)


def _centred(x: torch.Tensor, dims: tuple[int, ...], inverse: bool) -> torch.Tensor:
    transform = torch.fft.ifftn if inverse else torch.fft.fftn
    signs = modulation_signs(x, dims)
    if signs is not None:
        # Multiplying by +-1 is exact and cheaper than the copies of the rolls.
        before, after = signs
        return transform(x * before, dim=dims, norm="ortho") * after
    shifted = torch.fft.ifftshift(x, dim=dims)
    return torch.fft.fftshift(transform(shifted, dim=dims, norm="ortho"), dim=dims)


def fftnc(x: torch.Tensor, axes: int | Sequence[int] = (-2, -1)) -> torch.Tensor:
    """Apply the centred, orthonormal n-D FFT (image -> k-space) over ``axes``.

    Parameters
    ----------
    x : complex tensor
        Image, any shape; index ``n // 2`` of each axis in ``axes`` is the origin.
    axes : int or sequence of int, default (-2, -1)
        Axes to transform.

    Returns
    -------
    complex tensor
        k-space with the zero frequency at index ``n // 2`` of each axis.

    Raises
    ------
    TypeError
        If ``x`` is not complex.

    Notes
    -----
    ``X[k] = N^{-1/2} sum_n x[n] exp(-2 pi i (k - c)(n - c) / N)`` with
    ``c = N // 2`` on each axis. Implemented as ifftshift, FFT, fftshift,
    or for even sizes by the equivalent sign modulations.

    Examples
    --------
    >>> x = torch.zeros(5, 5, dtype=torch.complex64); x[2, 2] = 5
    >>> fftnc(x)[0, 0]
    tensor(1.+0.j)
    """
    check_complex(x, "x")
    return _centred(x, _normalise_axes(x, axes), inverse=False)


def ifftnc(k: torch.Tensor, axes: int | Sequence[int] = (-2, -1)) -> torch.Tensor:
    """Apply the centred, orthonormal inverse n-D FFT (k-space -> image) over ``axes``.

    The exact inverse and adjoint of :func:`fftnc` with the same ``axes``.

    Examples
    --------
    >>> k = torch.ones(4, 4, dtype=torch.complex64)
    >>> ifftnc(k)[2, 2]
    tensor(4.+0.j)
    """
    check_complex(k, "k")
    return _centred(k, _normalise_axes(k, axes), inverse=True)


def complex_to_real(x: torch.Tensor, *, axis: int = -1) -> torch.Tensor:
    """Split a complex tensor into a real tensor with a new size-2 (real, imag) axis.

    Parameters
    ----------
    x : complex tensor
    axis : int, default -1
        Position of the new axis in the output. ``-1`` gives the
        ``(..., 2)`` layout of :func:`torch.view_as_real` and fastMRI; ``1``
        gives a ``(B, 2, ...)`` channel layout of a single-channel image.

    Returns
    -------
    real tensor
        ``x.ndim + 1`` axes; index 0 of ``axis`` is the real part.

    Examples
    --------
    >>> complex_to_real(torch.tensor([1 + 2j]), axis=0)
    tensor([[1.],
            [2.]])
    """
    check_complex(x, "x")
    if not -(x.ndim + 1) <= axis <= x.ndim:
        raise ValueError(f"`axis` must be in [{-(x.ndim + 1)}, {x.ndim}], got {axis}")
    return torch.movedim(torch.view_as_real(x), -1, axis)


def real_to_complex(x: torch.Tensor, *, axis: int = -1) -> torch.Tensor:
    """Join the size-2 (real, imag) axis ``axis`` of a real tensor into a complex tensor.

    The layout is always stated by ``axis``, never guessed from the shape.

    Raises
    ------
    TypeError
        If ``x`` is complex or not floating point.
    ValueError
        If ``x.shape[axis] != 2``.

    Examples
    --------
    >>> real_to_complex(torch.tensor([[1.0, 2.0]]), axis=-1)
    tensor([1.+2.j])
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"`x` must be a torch tensor, got {type(x).__name__}")
    if x.is_complex() or not x.is_floating_point():
        raise TypeError(f"`x` must be a real floating-point tensor, got {x.dtype}")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"`axis` {axis} is out of range for a tensor with {x.ndim} axes")
    if x.shape[axis] != 2:
        raise ValueError(
            f"axis {axis} of `x` must have size 2 (real, imaginary), got shape {tuple(x.shape)}"
        )
    return torch.view_as_complex(torch.movedim(x, axis, -1).contiguous())
