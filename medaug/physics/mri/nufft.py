"""Non-uniform FFT operators on finufft, differentiable through torch autograd.

Trajectories are shaped ``(..., ndim)`` in cycles/pixel, each coordinate in
``[-0.5, 0.5)``, with the last axis in array-axis order (``(k_H, k_W)`` in
2-D). The forward NUFFT evaluates
``y(k) = N^{-1/2} sum_n x[n] exp(-2 pi i k . (n - c))`` with ``c = shape // 2``
and ``N`` the number of pixels, so on a Cartesian grid ``k = m / shape`` it
equals :func:`~medaug.physics.mri.fft.fftnc`. finufft evaluates the sum to
the relative tolerance ``eps``.

finufft runs on the CPU: tensors on another device are copied to the CPU
and back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from medaug.physics.mri.fft import check_complex
from medaug.physics.operators import LinearOperator

__all__ = ["NUFFT", "NonCartesianMRI", "check_trajectory"]


def check_trajectory(trajectory: torch.Tensor, ndim: int) -> torch.Tensor:
    """Validate a trajectory ``(..., ndim)`` in cycles/pixel and return it flattened to ``(M, ndim)``."""
    if not isinstance(trajectory, torch.Tensor) or not trajectory.is_floating_point():
        raise TypeError("`trajectory` must be a real floating-point tensor in cycles/pixel")
    if trajectory.ndim < 2 or trajectory.shape[-1] != ndim:
        raise ValueError(
            f"`trajectory` must be shaped (..., {ndim}), got {tuple(trajectory.shape)}"
        )
    flat = trajectory.reshape(-1, ndim)
    if not bool(torch.isfinite(flat).all()):
        raise ValueError("`trajectory` must be finite")
    if bool((flat < -0.5).any()) or bool((flat > 0.5).any()):
        raise ValueError(
            "`trajectory` must lie in [-0.5, 0.5] cycles/pixel, got values from "
            f"{float(flat.min())} to {float(flat.max())}"
        )
    return flat


class _Plans:
    """finufft plans for one trajectory, created on first use for each (type, batch, dtype)."""

    def __init__(self, points: np.ndarray, shape: tuple[int, ...], eps: float, threads: int) -> None:
        self.points = points
        self.shape = shape
        self.eps = eps
        self.threads = threads
        self.cache: dict[tuple[int, int, str], object] = {}

    def execute(self, kind: int, data: np.ndarray) -> np.ndarray:
        import finufft

        key = (kind, data.shape[0], data.dtype.name)
        plan = self.cache.get(key)
        if plan is None:
            isign = -1 if kind == 2 else 1
            plan = finufft.Plan(
                kind, self.shape, n_trans=data.shape[0], eps=self.eps, isign=isign,
                dtype=data.dtype.name, nthreads=self.threads, modeord=0,
            )
            real = np.float32 if data.dtype == np.complex64 else np.float64
            coordinates = [np.ascontiguousarray(c, dtype=real) for c in self.points]
            plan.setpts(*coordinates)
            self.cache[key] = plan
        return plan.execute(np.ascontiguousarray(data))


class _NUFFTFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, operator: NUFFT, adjoint: bool) -> torch.Tensor:  # noqa: ANN001
        ctx.operator = operator
        ctx.adjoint = adjoint
        return operator._apply(x, adjoint)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # noqa: ANN001, ANN205
        # For a linear map y = A x, torch's conjugate Wirtinger gradient is A^H grad.
        return ctx.operator._apply(grad, not ctx.adjoint), None, None


class NUFFT(LinearOperator):
    """Single-coil NUFFT from an image grid to k-space samples.

    Parameters
    ----------
    trajectory : tensor, (..., ndim)
        Sample locations in cycles/pixel, in ``[-0.5, 0.5]``.
    image_shape : sequence of int
        Spatial shape ``(H, W)`` or ``(D, H, W)``.
    eps : float, default 1e-6
        Requested relative accuracy of finufft (1e-6 is close to the best a
        complex64 input reaches).
    num_threads : int, optional
        finufft threads; default ``torch.get_num_threads()``.

    Notes
    -----
    ``forward`` maps ``(*batch, *image_shape)`` to ``(*batch, *trajectory.shape[:-1])``
    and ``adjoint`` back. Both are differentiable.

    References
    ----------
    Barnett A. H., Magland J., af Klinteberg L., "A parallel nonuniform fast
    Fourier transform library based on an 'exponential of semicircle'
    kernel", SIAM J. Sci. Comput. 41(5), C479-C504, 2019.
    DOI: 10.1137/18M120885X

    Examples
    --------
    >>> op = NUFFT(torch.zeros(1, 2), (8, 8))
    >>> round(float(op(torch.ones(8, 8, dtype=torch.complex128)).real), 6)
    8.0
    """

    def __init__(
        self,
        trajectory: torch.Tensor,
        image_shape: Sequence[int],
        *,
        eps: float = 1e-6,
        num_threads: int | None = None,
    ) -> None:
        image_shape = tuple(int(n) for n in image_shape)
        if len(image_shape) not in (2, 3) or min(image_shape) < 1:
            raise ValueError(f"`image_shape` must be 2 or 3 positive sizes, got {image_shape}")
        if not (math.isfinite(eps) and 1e-15 <= eps < 1):
            raise ValueError(f"`eps` must be in [1e-15, 1), got {eps}")
        flat = check_trajectory(trajectory, len(image_shape))
        self.image_shape = image_shape
        self.sample_shape = tuple(trajectory.shape[:-1])
        self.eps = float(eps)
        threads = torch.get_num_threads() if num_threads is None else int(num_threads)
        points = (2.0 * np.pi) * flat.detach().cpu().double().numpy().T
        # Points at exactly +0.5 cycles/pixel map to +pi, which finufft folds periodically.
        self._plans = _Plans(points, image_shape, self.eps, threads)
        self._scale = 1.0 / math.sqrt(math.prod(image_shape))

    def _apply(self, data: torch.Tensor, adjoint: bool) -> torch.Tensor:
        in_shape = self.sample_shape if adjoint else self.image_shape
        batch = data.shape[: data.ndim - len(in_shape)]
        host = data.detach().reshape(-1, *in_shape).cpu().numpy()
        if adjoint:
            result = self._plans.execute(1, host.reshape(host.shape[0], -1))
            out_shape = self.image_shape
        else:
            result = self._plans.execute(2, host)
            out_shape = self.sample_shape
        result = torch.from_numpy(result.reshape(*batch, *out_shape)).to(data.device)
        return result * self._scale

    def _check(self, data: torch.Tensor, adjoint: bool, name: str) -> None:
        check_complex(data, name)
        expected = self.sample_shape if adjoint else self.image_shape
        if tuple(data.shape[data.ndim - len(expected):]) != expected or data.ndim < len(expected):
            raise ValueError(
                f"`{name}` must end with shape {expected}, got {tuple(data.shape)}"
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluate k-space at the trajectory: ``(*batch, *image_shape) -> (*batch, *samples)``."""
        self._check(x, False, "x")
        return _NUFFTFunction.apply(x, self, False)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        """Apply the adjoint (type-1 NUFFT): ``(*batch, *samples) -> (*batch, *image_shape)``."""
        self._check(y, True, "y")
        return _NUFFTFunction.apply(y, self, True)


class NonCartesianMRI(LinearOperator):
    """Multi-coil non-Cartesian forward model ``y = NUFFT(S x)``.

    Parameters
    ----------
    trajectory : tensor, (..., ndim)
        Sample locations in cycles/pixel.
    coil_sensitivities : complex tensor, (C, *spatial), optional
        Coil maps; None means one coil of unit sensitivity.
    image_shape : sequence of int, optional
        Required when ``coil_sensitivities`` is None.
    eps, num_threads
        As for :class:`NUFFT`.

    Notes
    -----
    Images are ``(*batch, *spatial)``, k-space ``(*batch, C, *samples)``. All
    coils go through one finufft call (``n_trans = batch * C``).

    Examples
    --------
    >>> maps = torch.ones(3, 8, 8, dtype=torch.complex64)
    >>> op = NonCartesianMRI(torch.zeros(5, 2), maps)
    >>> op(torch.ones(8, 8, dtype=torch.complex64)).shape
    torch.Size([3, 5])
    """

    def __init__(
        self,
        trajectory: torch.Tensor,
        coil_sensitivities: torch.Tensor | None = None,
        *,
        image_shape: Sequence[int] | None = None,
        eps: float = 1e-6,
        num_threads: int | None = None,
    ) -> None:
        if coil_sensitivities is None:
            if image_shape is None:
                raise ValueError("`image_shape` is required when `coil_sensitivities` is None")
            shape = tuple(image_shape)
        else:
            check_complex(coil_sensitivities, "coil_sensitivities")
            ndim = trajectory.shape[-1] if isinstance(trajectory, torch.Tensor) else 0
            shape = tuple(coil_sensitivities.shape[-ndim:]) if ndim else ()
            if coil_sensitivities.ndim != len(shape) + 1:
                raise ValueError(
                    "`coil_sensitivities` must be shaped (C, *spatial) matching the trajectory's "
                    f"{ndim} axes, got {tuple(coil_sensitivities.shape)}"
                )
            if image_shape is not None and tuple(image_shape) != shape:
                raise ValueError(f"`image_shape` {tuple(image_shape)} does not match the coil maps {shape}")
        self.nufft = NUFFT(trajectory, shape, eps=eps, num_threads=num_threads)
        self.coil_sensitivities = coil_sensitivities
        self.spatial_ndim = len(shape)

    @property
    def num_coils(self) -> int:
        """Number of receive coils."""
        return 1 if self.coil_sensitivities is None else int(self.coil_sensitivities.shape[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``(*batch, C, *samples)`` k-space of the image ``(*batch, *spatial)``."""
        check_complex(x, "x")
        coil_images = x.unsqueeze(-self.spatial_ndim - 1)
        if self.coil_sensitivities is not None:
            coil_images = coil_images * self.coil_sensitivities.to(x.device)
        return self.nufft.forward(coil_images)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        """Return the coil-combined adjoint image ``sum_c conj(S_c) NUFFT^H y_c``."""
        check_complex(y, "y")
        images = self.nufft.adjoint(y)
        if self.coil_sensitivities is not None:
            images = images * torch.conj(self.coil_sensitivities.to(y.device))
        return images.sum(dim=-self.spatial_ndim - 1)
