"""Smooth receive-coil sensitivities as sums of complex exponentials.

A sensitivity ``S_c(x) = sum_m a[c, m] exp(2 pi i q_m . x)`` is a truncated
Fourier series over the field of view. Multiplying a phantom by it keeps the
k-space analytic: ``FT[S_c f](k) = sum_m a[c, m] F(k - q_m)``, which
:meth:`medaug.phantoms.Phantom.kspace` evaluates exactly.

References
----------
.. [1] M. Guerquin-Kern, L. Lejeune, K. P. Pruessmann and M. Unser,
   "Realistic analytical phantoms for parallel magnetic resonance imaging",
   IEEE Trans. Med. Imaging 31(3):626-636, 2012. doi:10.1109/TMI.2011.2174158
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from medaug.phantoms.functional.common import check_shape, grid_coordinates
from medaug.phantoms.phantom import grid_geometry

__all__ = ["CoilSensitivities"]


def _frequencies(order: int, fov_mm: Sequence[float]) -> np.ndarray:
    """Return the ``(2 order + 1)^n`` frequencies ``m / fov`` (cycles/mm), physical order."""
    ranges = [np.arange(-order, order + 1) / fov for fov in fov_mm]
    return np.array(list(itertools.product(*ranges)), dtype=float)


@dataclass(frozen=True, eq=False)
class CoilSensitivities:
    """Receive sensitivities of ``C`` coils as sums of ``M`` complex exponentials.

    Parameters
    ----------
    coefficients : torch.Tensor, (C, M) complex
        Weight of each term for each coil.
    frequencies : torch.Tensor, (M, n) float
        Frequency of each term in cycles/mm, physical (x, y[, z]) order.
    """

    coefficients: torch.Tensor
    frequencies: torch.Tensor

    def __post_init__(self) -> None:
        coefficients = torch.as_tensor(self.coefficients).to(torch.complex128)
        frequencies = torch.as_tensor(self.frequencies, dtype=torch.float64)
        if frequencies.ndim != 2 or frequencies.shape[1] not in (2, 3):
            raise ValueError(
                f"`frequencies` must be shaped (M, 2) or (M, 3), got {tuple(frequencies.shape)}"
            )
        if coefficients.ndim != 2 or coefficients.shape[1] != frequencies.shape[0]:
            raise ValueError(
                f"`coefficients` must be shaped (C, M) with M = {frequencies.shape[0]}, "
                f"got {tuple(coefficients.shape)}"
            )
        if not (bool(torch.isfinite(frequencies).all()) and bool(torch.isfinite(coefficients).all())):
            raise ValueError("`coefficients` and `frequencies` must be finite")
        object.__setattr__(self, "coefficients", coefficients)
        object.__setattr__(self, "frequencies", frequencies)

    @property
    def num_coils(self) -> int:
        """Number of coils ``C``."""
        return int(self.coefficients.shape[0])

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions."""
        return int(self.frequencies.shape[1])

    def evaluate(self, points_mm: Any) -> torch.Tensor:
        """Return the sensitivities ``(C, N)`` at physical points ``(N, n)`` in mm."""
        points = torch.as_tensor(points_mm, dtype=torch.float64)
        if points.ndim != 2 or points.shape[1] != self.ndim:
            raise ValueError(f"`points_mm` must be shaped (N, {self.ndim}), got {tuple(points.shape)}")
        phase = 2.0 * math.pi * points @ self.frequencies.T  # (N, M)
        return self.coefficients @ torch.exp(1j * phase).T

    def maps(self, shape: Sequence[int], fov_mm: float | Sequence[float]) -> torch.Tensor:
        """Return the sensitivities on a centred grid, ``(C, *shape)`` complex128."""
        shape = check_shape(shape, self.ndim)
        geometry = grid_geometry(shape, fov_mm)
        axes = grid_coordinates(shape, geometry.spacing)
        mesh = torch.meshgrid(*reversed(axes), indexing="ij")  # array order (z, y, x)
        points = torch.stack([m.reshape(-1) for m in reversed(mesh)], dim=1)
        return self.evaluate(points).reshape(self.num_coils, *shape)

    @classmethod
    def from_maps(
        cls, maps: Any, fov_mm: float | Sequence[float], *, order: int = 4
    ) -> CoilSensitivities:
        """Fit the terms with ``|m_i| <= order`` to sensitivity maps on a centred grid.

        The fit is the orthogonal projection onto the Fourier modes of period
        ``fov_mm``, that is the low-frequency entries of the grid's DFT, so a
        map that is already such a sum is recovered exactly.

        Parameters
        ----------
        maps : array_like, (C, *shape) complex
            Sensitivities on a grid of ``shape`` covering ``fov_mm``.
        fov_mm : float or sequence of float
            Field of view in mm, array order.
        order : int, default 4
            Highest harmonic per axis; must be < shape // 2 on every axis.
        """
        data = torch.as_tensor(maps).to(torch.complex128)
        ndim = data.ndim - 1
        if ndim not in (2, 3):
            raise ValueError(f"`maps` must be shaped (C, H, W) or (C, D, H, W), got {tuple(data.shape)}")
        if not isinstance(order, int) or order < 0 or any(order >= n // 2 for n in data.shape[1:]):
            raise ValueError(
                f"`order` must be an int in [0, min(shape) // 2), got {order!r} for shape "
                f"{tuple(data.shape[1:])}"
            )
        geometry = grid_geometry(data.shape[1:], fov_mm)
        fov_physical = list(reversed(geometry.extent_mm(data.shape[1:])))
        frequencies = _frequencies(order, fov_physical)

        axes = grid_coordinates(data.shape[1:], geometry.spacing)
        mesh = torch.meshgrid(*reversed(axes), indexing="ij")
        points = torch.stack([m.reshape(-1) for m in reversed(mesh)], dim=1)
        phase = 2.0 * math.pi * points @ torch.as_tensor(frequencies).T  # (N, M)
        basis = torch.exp(1j * phase)
        flat = data.reshape(data.shape[0], -1)
        coefficients = flat @ basis.conj() / flat.shape[1]
        return cls(coefficients, torch.as_tensor(frequencies))

    @classmethod
    def synthetic(
        cls,
        num_coils: int,
        fov_mm: float | Sequence[float],
        *,
        ndim: int = 2,
        order: int = 3,
        width_fraction: float = 0.6,
        grid_size: int = 32,
    ) -> CoilSensitivities:
        """Build smooth sensitivities of coils spaced evenly on a ring around the field of view.

        Each coil ``c`` at angle ``phi_c`` on a ring of radius 0.6 fov has a
        Gaussian magnitude ``exp(-|x - p_c|^2 / (2 w^2))`` with
        ``w = width_fraction * fov`` and phase ``phi_c``. The maps are then
        fitted with :meth:`from_maps`, so they are exact sums of
        exponentials. This is a simple model of a receive array, not a
        field simulation.
        """
        if not isinstance(num_coils, int) or num_coils < 1:
            raise ValueError(f"`num_coils` must be an int >= 1, got {num_coils!r}")
        if ndim not in (2, 3):
            raise ValueError(f"`ndim` must be 2 or 3, got {ndim!r}")
        if not (np.isfinite(width_fraction) and width_fraction > 0):
            raise ValueError(f"`width_fraction` must be > 0, got {width_fraction!r}")
        shape = (grid_size,) * ndim
        geometry = grid_geometry(shape, fov_mm)
        fov_physical = np.asarray(list(reversed(geometry.extent_mm(shape))))
        axes = grid_coordinates(shape, geometry.spacing)
        mesh = torch.meshgrid(*reversed(axes), indexing="ij")
        points = torch.stack([m.reshape(-1) for m in reversed(mesh)], dim=1).numpy()

        maps = []
        for coil in range(num_coils):
            angle = 2.0 * math.pi * coil / num_coils
            position = np.zeros(ndim)
            position[:2] = 0.6 * fov_physical[:2] * np.array([math.cos(angle), math.sin(angle)])
            width = width_fraction * fov_physical
            distance2 = np.sum(((points - position) / width) ** 2, axis=1)
            maps.append(np.exp(-0.5 * distance2) * np.exp(1j * angle))
        stacked = np.stack(maps).reshape(num_coils, *shape)
        return cls.from_maps(stacked, fov_mm, order=order)
