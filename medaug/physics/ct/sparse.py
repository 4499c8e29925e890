"""Sparse system matrices with an exact transpose, applied differentiably.

Projectors and back-projectors of 2D geometries are stored as compressed
sparse row (CSR) matrices with int32 indices: a matrix-vector product then
reads each weight once, which on a CPU is several times faster than
recomputing interpolation weights on the fly. The adjoint is the CSR matrix
of the transpose (the same weights, regrouped by column), so forward and
adjoint agree to rounding error.
"""

from __future__ import annotations

import threading
import warnings

import torch

__all__ = ["SparseMatrix", "csr_from_rows"]

# Columns of the dense factor per sparse product. On a 2-core AMD EPYC VM
# (torch 2.13, MKL), a 256 x 256 Joseph matrix times 32 columns took about
# 1 ms per column. Times 64 columns it took about 5 ms per column, probably
# because the dense rows then no longer fit in the cache.
_MAX_COLUMNS = 32


def csr_from_rows(
    counts: torch.Tensor, columns: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]
) -> torch.Tensor:
    """Build a CSR tensor from entries listed row by row.

    ``counts[r]`` entries of row ``r`` appear consecutively in ``columns`` and
    ``values``, with increasing column within a row.
    """
    index_dtype = torch.int32 if max(shape) < 2**31 - 1 and columns.numel() < 2**31 - 1 else torch.int64
    crow = torch.zeros(shape[0] + 1, dtype=torch.int64, device=counts.device)
    crow[1:] = torch.cumsum(counts, 0)
    with warnings.catch_warnings():
        # torch marks sparse CSR as beta and warns once per process.
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            crow.to(index_dtype), columns.to(index_dtype), values, size=shape, check_invariants=False
        )


class SparseMatrix:
    """A CSR matrix with a lazily built transpose.

    Parameters
    ----------
    matrix : torch.Tensor
        Sparse CSR tensor ``(rows, columns)``.
    """

    def __init__(self, matrix: torch.Tensor) -> None:
        if matrix.layout != torch.sparse_csr:
            raise TypeError(f"`matrix` must be a sparse CSR tensor, got layout {matrix.layout}")
        self.matrix = matrix
        self._transpose: torch.Tensor | None = None
        self._lock = threading.Lock()

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)``."""
        return (int(self.matrix.shape[0]), int(self.matrix.shape[1]))

    def transpose(self) -> torch.Tensor:
        """Return the transpose as a CSR tensor (built once, on first use)."""
        with self._lock:
            if self._transpose is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    csc = self.matrix.to_sparse_csc()
                    self._transpose = torch.sparse_csr_tensor(
                        csc.ccol_indices(),
                        csc.row_indices(),
                        csc.values(),
                        size=(self.shape[1], self.shape[0]),
                        check_invariants=False,
                    )
            return self._transpose

    def multiply(self, x: torch.Tensor, *, transpose: bool = False) -> torch.Tensor:
        """Return ``A x`` (or ``A^T x``) for ``x`` shaped ``(M, columns)``, as ``(M, rows)``.

        Differentiable: the gradient of ``A x`` is ``A^T`` applied to the
        incoming gradient, and the other way round.
        """
        return _SparseProduct.apply(x.T, self, transpose).T

    def multiply_columns(self, x: torch.Tensor, *, transpose: bool = False) -> torch.Tensor:
        """Return ``A x`` (or ``A^T x``) for ``x`` shaped ``(columns, K)``, as ``(rows, K)``.

        The layout a CSR product reads and writes directly, so no copy is
        made when ``x`` is contiguous. Differentiable like :meth:`multiply`.
        """
        return _SparseProduct.apply(x, self, transpose)

    def _raw(self, x: torch.Tensor, transpose: bool) -> torch.Tensor:
        matrix = self.transpose() if transpose else self.matrix
        if x.shape[1] == 1:
            return torch.mv(matrix, x[:, 0])[:, None]
        if x.shape[1] <= _MAX_COLUMNS:
            return torch.sparse.mm(matrix, x.contiguous())
        chunks = [torch.sparse.mm(matrix, part.contiguous()) for part in x.split(_MAX_COLUMNS, dim=1)]
        return torch.cat(chunks, dim=1)


class _SparseProduct(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, matrix: SparseMatrix, transpose: bool) -> torch.Tensor:  # noqa: ANN001
        ctx.matrix = matrix
        ctx.transpose = transpose
        return matrix._raw(x, transpose)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # noqa: ANN001, ANN205
        return _SparseProduct.apply(grad, ctx.matrix, not ctx.transpose), None, None
