"""The Cartesian multi-coil acquisition operator ``A = M F S``.

``S`` multiplies the object by each coil sensitivity, ``F`` is the centred
orthonormal FFT over the spatial axes, and ``M`` keeps the sampled k-space
locations (zeros elsewhere). Images are shaped ``(*batch, *spatial)`` and
k-space ``(*batch, C, *spatial)``; any number of leading batch axes (for
example ``(B,)`` or ``(B, 1)``) is allowed.
"""

from __future__ import annotations

import itertools

import torch

from medaug.physics.mri.fft import check_complex, fftnc, ifftnc, modulation_signs
from medaug.physics.operators import LinearOperator

__all__ = ["MRIAcquisition"]


class MRIAcquisition(LinearOperator):
    """Multi-coil Cartesian MRI forward model ``y = M F (S x)``.

    Parameters
    ----------
    coil_sensitivities : complex tensor, (C, *spatial) or (B, C, *spatial), optional
        Coil maps; None means one coil of unit sensitivity (``C = 1``).
    mask : bool tensor, optional
        Sampled k-space locations, broadcastable to ``(*batch, C, *spatial)``
        (for example ``(W,)`` for lines along the last axis, or
        ``(H, W)``); None means fully sampled.
    spatial_ndim : {2, 3}, default 2
        Number of spatial (transformed) axes.

    Examples
    --------
    >>> op = MRIAcquisition(torch.ones(2, 4, 4, dtype=torch.complex64))
    >>> op(torch.ones(4, 4, dtype=torch.complex64)).shape
    torch.Size([2, 4, 4])
    """

    def __init__(
        self,
        coil_sensitivities: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        *,
        spatial_ndim: int = 2,
    ) -> None:
        if spatial_ndim not in (2, 3):
            raise ValueError(f"`spatial_ndim` must be 2 or 3, got {spatial_ndim}")
        self.spatial_ndim = spatial_ndim
        self.axes = tuple(range(-spatial_ndim, 0))
        if coil_sensitivities is not None:
            check_complex(coil_sensitivities, "coil_sensitivities")
            if coil_sensitivities.ndim not in (spatial_ndim + 1, spatial_ndim + 2):
                raise ValueError(
                    f"`coil_sensitivities` must be shaped (C, *spatial) or (B, C, *spatial) with "
                    f"{spatial_ndim} spatial axes, got {tuple(coil_sensitivities.shape)}"
                )
        self.coil_sensitivities = coil_sensitivities
        if mask is not None:
            if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
                raise TypeError(f"`mask` must be a bool tensor, got {getattr(mask, 'dtype', type(mask))}")
            if coil_sensitivities is not None:
                _check_broadcast(mask.shape, coil_sensitivities.shape, "mask", "coil_sensitivities")
        self.mask = mask
        # Derived constants only (maps and mask times +-1), filled on first use per device.
        self._fold_cache: dict[str, tuple[torch.Tensor, ...] | None] = {}

    @property
    def num_coils(self) -> int:
        """Number of receive coils."""
        if self.coil_sensitivities is None:
            return 1
        return int(self.coil_sensitivities.shape[-self.spatial_ndim - 1])

    def _check_image(self, x: torch.Tensor) -> None:
        check_complex(x, "x")
        if x.ndim < self.spatial_ndim:
            raise ValueError(
                f"`x` must have at least {self.spatial_ndim} spatial axes, got shape {tuple(x.shape)}"
            )
        if self.coil_sensitivities is not None:
            expected = tuple(self.coil_sensitivities.shape[-self.spatial_ndim :])
            if tuple(x.shape[-self.spatial_ndim :]) != expected:
                raise ValueError(
                    f"`x` spatial shape {tuple(x.shape[-self.spatial_ndim:])} does not match the "
                    f"coil sensitivities {expected}"
                )

    def _apply_mask(self, k: torch.Tensor) -> torch.Tensor:
        if self.mask is None:
            return k
        _check_broadcast(self.mask.shape, k.shape, "mask", "k-space")
        zero = torch.zeros((), dtype=k.dtype, device=k.device)
        return torch.where(self.mask.to(k.device), k, zero)

    def coil_images(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``S x`` shaped ``(*batch, C, *spatial)``."""
        self._check_image(x)
        expanded = x.unsqueeze(-self.spatial_ndim - 1)
        if self.coil_sensitivities is None:
            return expanded
        return expanded * self.coil_sensitivities.to(x.device)

    def _folded(self, like: torch.Tensor) -> tuple[torch.Tensor, ...] | None:
        """Return maps and mask times the FFT's sign modulations for even grids, else None.

        The tuple is ``(maps * before, conj(maps * after), mask * after, mask * before)``.

        Folding the sign modulations of the centred FFT into the coil maps and
        the mask saves two full passes over multi-coil k-space per call.
        """
        if self.coil_sensitivities is None:
            return None
        key = str(like.device)
        if key in self._fold_cache:
            return self._fold_cache[key]
        maps = self.coil_sensitivities.to(like.device)
        signs = modulation_signs(maps, self.axes)
        if signs is None:
            self._fold_cache[key] = None
            return None
        before, after = signs
        if self.mask is None:
            # A full mask of ones keeps full sampling bit-identical to the masked path.
            mask = torch.ones((), dtype=before.dtype, device=like.device)
        else:
            mask = self.mask.to(device=like.device, dtype=before.dtype)
            _check_broadcast(mask.shape, maps.shape, "mask", "coil_sensitivities")
        folded = (maps * before, torch.conj(maps * after).resolve_conj(), mask * after, mask * before)
        self._fold_cache[key] = folded
        return folded

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return masked multi-coil k-space ``M F S x``."""
        folded = self._folded(x)
        if folded is None:
            return self._apply_mask(fftnc(self.coil_images(x), self.axes))
        self._check_image(x)
        maps, _, mask_after, _ = folded
        x = x.unsqueeze(-self.spatial_ndim - 1)
        if _per_coil_pays(x, maps, mask_after):
            return _forward_by_coil(x, maps, mask_after, self.axes)
        coil_images = x * maps
        return torch.fft.fftn(coil_images, dim=self.axes, norm="ortho") * mask_after

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        """Return ``S^H F^H M y``: the coil-combined zero-filled image."""
        check_complex(y, "y")
        if y.ndim < self.spatial_ndim + 1:
            raise ValueError(
                f"`y` must be shaped (*batch, C, *spatial), got shape {tuple(y.shape)}"
            )
        folded = self._folded(y)
        if folded is not None:
            _, maps_conj, _, mask_before = folded
            if _per_coil_pays(y, maps_conj, mask_before):
                return _adjoint_by_coil(y, maps_conj, mask_before, self.axes)
            images = torch.fft.ifftn(y * mask_before, dim=self.axes, norm="ortho")
            return (images * maps_conj).sum(dim=-self.spatial_ndim - 1)
        images = ifftnc(self._apply_mask(y), self.axes)
        if self.coil_sensitivities is not None:
            images = images * torch.conj(self.coil_sensitivities.to(y.device))
        return images.sum(dim=-self.spatial_ndim - 1)


def _records_graph(*tensors: torch.Tensor) -> bool:
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


# Multi-coil arrays from this size up take the per-coil path. glibc serves
# allocations above its mmap threshold (at most 32 MiB by default) with fresh
# pages, so every batched temporary of that size is page-faulted in again.
# NOTE: the 16 MiB crossover was measured on one 2-core x86_64 VM; below it
# the batched calls were as fast or faster.
_PER_COIL_BYTES = 1 << 24


def _per_coil_pays(data: torch.Tensor, maps: torch.Tensor, mask: torch.Tensor) -> bool:
    """Return True where the in-place per-coil path beats batched torch calls."""
    if data.device.type != "cpu" or _records_graph(data, maps):
        return False
    shape = torch.broadcast_shapes(data.shape, maps.shape, mask.shape)
    itemsize = torch.promote_types(data.dtype, maps.dtype).itemsize
    return shape.numel() * itemsize >= _PER_COIL_BYTES


def _forward_by_coil(
    x: torch.Tensor, maps: torch.Tensor, mask: torch.Tensor, axes: tuple[int, ...]
) -> torch.Tensor:
    """Compute ``fftn(x * maps) * mask`` in place, one coil image at a time.

    On the CPU every fresh large array is page-faulted in on first write,
    which at 8 x 128^3 costs about as much as the FFT itself. Writing each
    coil image into its slice of the output and transforming it there makes
    the returned k-space the only new large array.
    """
    shape = torch.broadcast_shapes(x.shape, maps.shape, mask.shape)
    out = torch.empty(shape, dtype=torch.promote_types(x.dtype, maps.dtype), device=x.device)
    x, maps, mask = x.expand(shape), maps.expand(shape), mask.expand(shape)
    for index in itertools.product(*(range(n) for n in shape[: -len(axes)])):
        coil = out[index]
        torch.mul(x[index], maps[index], out=coil)
        torch.fft.fftn(coil, dim=axes, norm="ortho", out=coil)
        coil.mul_(mask[index])
    return out


def _adjoint_by_coil(
    y: torch.Tensor, maps_conj: torch.Tensor, mask: torch.Tensor, axes: tuple[int, ...]
) -> torch.Tensor:
    """Compute ``sum_c maps_conj_c * ifftn(y_c * mask)``, accumulating one coil at a time.

    The per-coil temporary is reused, so no multi-coil array is allocated.
    """
    shape = torch.broadcast_shapes(y.shape, maps_conj.shape, mask.shape)
    dtype = torch.promote_types(y.dtype, maps_conj.dtype)
    out = torch.zeros(shape[: -len(axes) - 1] + shape[-len(axes) :], dtype=dtype, device=y.device)
    buffer = torch.empty(shape[-len(axes) :], dtype=dtype, device=y.device)
    y, maps_conj, mask = y.expand(shape), maps_conj.expand(shape), mask.expand(shape)
    for index in itertools.product(*(range(n) for n in shape[: -len(axes)])):
        torch.mul(y[index], mask[index], out=buffer)
        torch.fft.ifftn(buffer, dim=axes, norm="ortho", out=buffer)
        out[index[:-1]].addcmul_(buffer, maps_conj[index])
    return out


def _check_broadcast(shape_a: torch.Size, shape_b: torch.Size, name_a: str, name_b: str) -> None:
    try:
        torch.broadcast_shapes(shape_a, shape_b)
    except RuntimeError as error:
        raise ValueError(
            f"`{name_a}` shape {tuple(shape_a)} does not broadcast to the {name_b} shape "
            f"{tuple(shape_b)}"
        ) from error
