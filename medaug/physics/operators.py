"""Linear forward operators with adjoints, and their composition.

A forward model in medaug is a :class:`LinearOperator` ``A`` followed by a
noise model. Operators are differentiable torch code on the input's device,
so they can sit inside unrolled networks and losses. Each operator must
satisfy the adjoint identity ``<A x, y> = <x, A^H y>``, which
:func:`adjoint_mismatch` measures and every operator's tests check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

__all__ = [
    "LinearOperator",
    "ComposedOperator",
    "ScaledOperator",
    "IdentityOperator",
    "LambdaOperator",
    "inner_product",
    "adjoint_mismatch",
    "power_iteration",
    "conjugate_gradient",
]


def inner_product(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Return ``sum(conj(a) * b)`` over all axes (a complex scalar for complex inputs)."""
    if a.shape != b.shape:
        raise ValueError(f"inner product needs equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.is_complex() or b.is_complex():
        return torch.sum(torch.conj(a) * b)
    return torch.sum(a * b)


class LinearOperator:
    """A linear map ``A`` with ``forward`` (A x) and ``adjoint`` (A^H y).

    Subclasses implement :meth:`forward` and :meth:`adjoint`. Operators
    compose with ``@`` (``(A @ B)(x) = A(B(x))``) and scale with ``*``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the operator."""
        raise NotImplementedError

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        """Apply the adjoint (conjugate transpose) of the operator."""
        raise NotImplementedError

    def normal(self, x: torch.Tensor) -> torch.Tensor:
        """Apply ``A^H A``."""
        return self.adjoint(self.forward(x))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x)

    def __matmul__(self, other: LinearOperator) -> LinearOperator:
        if not isinstance(other, LinearOperator):
            return NotImplemented
        return ComposedOperator((self, other))

    def __mul__(self, scale: float) -> LinearOperator:
        return ScaledOperator(self, scale)

    __rmul__ = __mul__

    @property
    def H(self) -> LinearOperator:  # noqa: N802 - conventional name of the adjoint
        """The adjoint as an operator."""
        return _AdjointOperator(self)


class _AdjointOperator(LinearOperator):
    def __init__(self, operator: LinearOperator) -> None:
        self.operator = operator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.operator.adjoint(x)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return self.operator.forward(y)


class ComposedOperator(LinearOperator):
    """``A_1 A_2 ... A_n``: the last operator is applied first."""

    def __init__(self, operators: Sequence[LinearOperator]) -> None:
        if not operators:
            raise ValueError("`operators` must contain at least one operator")
        flat: list[LinearOperator] = []
        for operator in operators:
            if not isinstance(operator, LinearOperator):
                raise TypeError(f"every item must be a LinearOperator, got {type(operator).__name__}")
            flat.extend(operator.operators if isinstance(operator, ComposedOperator) else [operator])
        self.operators = tuple(flat)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for operator in reversed(self.operators):
            x = operator.forward(x)
        return x

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        for operator in self.operators:
            y = operator.adjoint(y)
        return y


class ScaledOperator(LinearOperator):
    """``s A`` for a real scalar ``s``."""

    def __init__(self, operator: LinearOperator, scale: float) -> None:
        self.operator = operator
        self.scale = float(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * self.operator.forward(x)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return self.scale * self.operator.adjoint(y)


class IdentityOperator(LinearOperator):
    """The identity map."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return y


class LambdaOperator(LinearOperator):
    """An operator built from two callables, for tests and quick experiments."""

    def __init__(
        self,
        forward: Callable[[torch.Tensor], torch.Tensor],
        adjoint: Callable[[torch.Tensor], torch.Tensor],
    ) -> None:
        self._forward = forward
        self._adjoint = adjoint

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._forward(x)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return self._adjoint(y)


def adjoint_mismatch(
    operator: LinearOperator, x: torch.Tensor, y: torch.Tensor
) -> float:
    """Return ``|<A x, y> - <x, A^H y>| / (|A x| |y|)``, which is 0 for a true adjoint.

    The normalisation by ``|A x| |y|`` (Cauchy-Schwarz bound of both sides)
    makes the value comparable with the floating-point epsilon of the dtype.
    """
    ax = operator.forward(x)
    aty = operator.adjoint(y)
    left = inner_product(ax, y)
    right = inner_product(x, aty)
    scale = torch.linalg.vector_norm(ax) * torch.linalg.vector_norm(y)
    if float(scale) == 0.0:
        raise ValueError("adjoint test needs A x and y to be non-zero")
    return float(torch.abs(left - right) / scale)


def power_iteration(
    operator: LinearOperator, x0: torch.Tensor, *, iterations: int = 50
) -> float:
    """Estimate the largest eigenvalue of ``A^H A`` (squared operator norm)."""
    if iterations < 1:
        raise ValueError(f"`iterations` must be >= 1, got {iterations}")
    x = x0 / torch.linalg.vector_norm(x0)
    value = torch.zeros(())
    for _ in range(iterations):
        y = operator.normal(x)
        value = torch.linalg.vector_norm(y)
        x = y / value
    return float(value)


def conjugate_gradient(
    apply: Callable[[torch.Tensor], torch.Tensor],
    b: torch.Tensor,
    *,
    x0: torch.Tensor | None = None,
    iterations: int = 10,
    tolerance: float = 1e-6,
) -> torch.Tensor:
    """Solve ``M x = b`` for a Hermitian positive semi-definite ``M`` by conjugate gradients.

    Parameters
    ----------
    apply : callable
        ``x -> M x``, for example ``lambda x: A.normal(x) + lam * x``.
    b : tensor
        Right-hand side, for example ``A.adjoint(y)``.
    x0 : tensor, optional
        Initial guess (default zeros).
    iterations : int, default 10
        Maximum number of iterations.
    tolerance : float, default 1e-6
        Stop when the residual norm falls below ``tolerance * |b|``.

    References
    ----------
    Hestenes M. R., Stiefel E., "Methods of conjugate gradients for solving
    linear systems", J. Res. Natl. Bur. Stand. 49(6), 409-436, 1952.
    DOI: 10.6028/jres.049.044
    """
    if iterations < 1:
        raise ValueError(f"`iterations` must be >= 1, got {iterations}")
    x = torch.zeros_like(b) if x0 is None else x0.clone()
    r = b - apply(x)
    p = r.clone()
    rs_old = torch.real(inner_product(r, r))
    threshold = (tolerance * torch.linalg.vector_norm(b)) ** 2
    for _ in range(iterations):
        if rs_old <= threshold:
            break
        mp = apply(p)
        alpha = rs_old / torch.real(inner_product(p, mp))
        x = x + alpha * p
        r = r - alpha * mp
        rs_new = torch.real(inner_product(r, r))
        p = r + (rs_new / rs_old) * p
        rs_old = rs_new
    return x
