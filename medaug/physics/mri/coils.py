"""Analytic receive-coil sensitivity maps for 2-D and 3-D grids.

Coordinates are normalised so the longest grid axis spans [-1, 1) with the
grid centre (index ``n // 2``) at 0; a coil ``radius`` of 1.2 therefore puts
the coils just outside the field of view. In 3-D the first array axis
(``D``) is the bore axis and coils sit on a cylinder around it.

Both map families are divided by their root-sum-of-squares, so
``sqrt(sum_c |S_c|^2) = 1`` at every voxel inside ``support`` (the whole
grid when ``support`` is None) and the maps are 0 outside it. The
sensitivities therefore carry the relative coil weighting and phase, and
the object's intensity stays in the image.
"""

from __future__ import annotations

import math

import torch

__all__ = ["birdcage_sensitivities", "surface_coil_sensitivities", "normalize_sensitivities"]


def _grid(shape: tuple[int, ...], device: torch.device | str | None) -> list[torch.Tensor]:
    """Return normalised coordinates, one tensor per axis, broadcastable to ``shape``."""
    scale = max(shape) / 2.0
    axes = []
    for axis, n in enumerate(shape):
        values = (torch.arange(n, dtype=torch.float64, device=device) - n // 2) / scale
        view = [1] * len(shape)
        view[axis] = n
        axes.append(values.reshape(view))
    return axes


def _check_common(shape: tuple[int, ...], num_coils: int, radius: float) -> tuple[int, ...]:
    shape = tuple(int(n) for n in shape)
    if len(shape) not in (2, 3) or any(n < 1 for n in shape):
        raise ValueError(f"`shape` must have 2 or 3 positive sizes, got {shape}")
    if isinstance(num_coils, bool) or not isinstance(num_coils, int):
        raise TypeError(f"`num_coils` must be an int, got {type(num_coils).__name__}")
    if num_coils < 1:
        raise ValueError(f"`num_coils` must be >= 1, got {num_coils}")
    if not (math.isfinite(radius) and radius > 0):
        raise ValueError(f"`radius` must be > 0 (normalised units), got {radius}")
    return shape


def _coil_layout(shape: tuple[int, ...], num_coils: int, num_rings: int):
    """Yield (angle in rad, ring centre, ring half-length) for each coil."""
    if num_rings < 1 or num_coils % num_rings:
        raise ValueError(
            f"`num_rings` must be >= 1 and divide `num_coils`={num_coils}, got {num_rings}"
        )
    if len(shape) == 2 and num_rings != 1:
        raise ValueError(f"`num_rings` must be 1 for 2-D maps, got {num_rings}")
    per_ring = num_coils // num_rings
    extent = shape[0] / max(shape) if len(shape) == 3 else 1.0
    half_length = extent / num_rings
    for ring in range(num_rings):
        centre = -extent + (2 * ring + 1) * half_length
        for index in range(per_ring):
            # Rings are staggered by half a coil so neighbouring rings do not line up.
            angle = 2.0 * math.pi * (index + 0.5 * (ring % 2)) / per_ring
            yield angle, centre, half_length


def normalize_sensitivities(
    maps: torch.Tensor, *, support: torch.Tensor | None = None
) -> torch.Tensor:
    """Divide coil maps ``(C, *spatial)`` by their root-sum-of-squares over coils.

    Voxels outside ``support`` (bool, broadcastable to ``spatial``) are set to 0.

    Raises
    ------
    ValueError
        If the root-sum-of-squares is 0 at a voxel inside ``support``.
    """
    rss = torch.sqrt(torch.sum(maps.abs() ** 2, dim=0, keepdim=True))
    inside = torch.ones_like(rss, dtype=torch.bool) if support is None else support.to(torch.bool)
    if bool(((rss == 0) & inside).any()):
        raise ValueError("coil maps have zero root-sum-of-squares inside `support`")
    safe = torch.where(rss > 0, rss, torch.ones_like(rss))
    return torch.where(inside, maps / safe, torch.zeros_like(maps))


def _finish(
    maps: torch.Tensor, support: torch.Tensor | None, dtype: torch.dtype
) -> torch.Tensor:
    if support is not None:
        if not isinstance(support, torch.Tensor) or support.dtype != torch.bool:
            raise TypeError("`support` must be a bool tensor shaped like the grid")
        if tuple(support.shape) != tuple(maps.shape[1:]):
            raise ValueError(
                f"`support` must have the grid shape {tuple(maps.shape[1:])}, got {tuple(support.shape)}"
            )
    return normalize_sensitivities(maps, support=support).to(dtype)


def birdcage_sensitivities(
    shape: tuple[int, ...],
    num_coils: int,
    *,
    radius: float = 1.5,
    num_rings: int = 1,
    support: torch.Tensor | None = None,
    dtype: torch.dtype = torch.complex64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Build birdcage-style coil maps from the Biot-Savart field of straight rungs.

    Each coil is a conductor parallel to the bore axis at angle
    ``2 pi c / C`` on a circle of ``radius``. In 2-D the rung is infinite, in
    3-D each of ``num_rings`` rings covers an equal share of the ``D`` axis.

    Parameters
    ----------
    shape : tuple of int
        Grid shape ``(H, W)`` or ``(D, H, W)``.
    num_coils : int
        Number of coils, any count >= 1.
    radius : float, default 1.5
        Coil circle radius in normalised units (1 = half the longest axis).
        Keep it above sqrt(2) so that no rung lies inside the corners of a
        square field of view, where its 1/d field would put a bright and
        dark spot at a fixed place in every image.
    num_rings : int, default 1
        Rings of coils along the bore axis (3-D only); must divide ``num_coils``.
    support : bool tensor, optional
        Object support; maps are 0 outside it.
    dtype : complex torch dtype, default complex64
    device : torch device, optional

    Returns
    -------
    complex tensor, (C, *shape)
        Maps with root-sum-of-squares 1 inside ``support``.

    Notes
    -----
    In the plane, with ``z = x + i y`` and ``z_c`` the rung position, the
    receive field of a rung is ``B1- ~ -i / (z - z_c)``: magnitude ``1/d`` and
    a phase that turns around the rung. A finite rung from ``a1`` to ``a2``
    along the bore scales this by ``(a2/sqrt(a2^2 + d^2) - a1/sqrt(a1^2 + d^2)) / 2``.

    References
    ----------
    Hoult D. I., "The principle of reciprocity in signal strength
    calculations - a mathematical guide", Concepts Magn. Reson. 12(4),
    173-187, 2000. DOI: 10.1002/1099-0534(2000)12:4<173::AID-CMR1>3.0.CO;2-Q

    Examples
    --------
    >>> maps = birdcage_sensitivities((32, 32), 4)
    >>> maps.shape, round(float(maps.abs().pow(2).sum(0).sqrt().mean()), 6)
    (torch.Size([4, 32, 32]), 1.0)
    """
    shape = _check_common(shape, num_coils, radius)
    coords = _grid(shape, device)
    y, x = coords[-2], coords[-1]
    maps = []
    for angle, centre, half_length in _coil_layout(shape, num_coils, num_rings):
        offset = torch.complex(x - radius * math.cos(angle), y - radius * math.sin(angle))
        field = -1j / offset
        if len(shape) == 3:
            distance = offset.abs()
            a1 = centre - half_length - coords[0]
            a2 = centre + half_length - coords[0]
            axial = 0.5 * (a2 / torch.hypot(a2, distance) - a1 / torch.hypot(a1, distance))
            field = field * axial
        maps.append(torch.broadcast_to(field, shape))
    return _finish(torch.stack(maps), support, dtype)


def surface_coil_sensitivities(
    shape: tuple[int, ...],
    num_coils: int,
    *,
    radius: float = 1.2,
    width: float = 0.8,
    num_rings: int = 1,
    support: torch.Tensor | None = None,
    dtype: torch.dtype = torch.complex64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Build Gaussian surface-coil maps around the field of view.

    Coil ``c`` sits at angle ``2 pi c / C`` on a circle (a cylinder in 3-D,
    with ``num_rings`` rings) of ``radius``; its magnitude falls off as
    ``exp(-d^2 / (2 width^2))`` with distance ``d`` from the coil and its
    phase equals the angle of the vector from the coil to the voxel.

    Parameters
    ----------
    shape, num_coils, radius, num_rings, support, dtype, device
        As for :func:`birdcage_sensitivities`.
    width : float, default 0.8
        Gaussian standard deviation in normalised units.

    Returns
    -------
    complex tensor, (C, *shape)

    References
    ----------
    Roemer P. B., Edelstein W. A., Hayes C. E., Souza S. P., Mueller O. M.,
    "The NMR phased array", Magn. Reson. Med. 16(2), 192-225, 1990.
    DOI: 10.1002/mrm.1910160203

    Examples
    --------
    >>> surface_coil_sensitivities((8, 16, 16), 8, num_rings=2).shape
    torch.Size([8, 8, 16, 16])
    """
    shape = _check_common(shape, num_coils, radius)
    if not (math.isfinite(width) and width > 0):
        raise ValueError(f"`width` must be > 0 (normalised units), got {width}")
    coords = _grid(shape, device)
    y, x = coords[-2], coords[-1]
    maps = []
    for angle, centre, _ in _coil_layout(shape, num_coils, num_rings):
        offset = torch.complex(x - radius * math.cos(angle), y - radius * math.sin(angle))
        squared = offset.abs() ** 2
        if len(shape) == 3:
            squared = squared + (coords[0] - centre) ** 2
        magnitude = torch.exp(-squared / (2.0 * width**2))
        field = magnitude * torch.sgn(offset)
        maps.append(torch.broadcast_to(field, shape))
    return _finish(torch.stack(maps), support, dtype)
