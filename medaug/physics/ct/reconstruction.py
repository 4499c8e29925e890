"""Reconstruction baselines: FBP (parallel and fan beam), FDK (cone beam), SIRT and CG.

Units: sinograms hold line integrals in the image's unit times mm (as the
projectors return them), so a reconstruction comes back in the image's
unit. Pass ``MM_PER_CM * line_integrals`` (dimensionless ``mu L`` times 10)
to get attenuation in 1/cm, or use :func:`medaug.physics.ct.acquisition.reconstruct_attenuation`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from medaug.physics.ct.backprojection import pixel_driven_backprojector
from medaug.physics.ct.filters import filter_projections
from medaug.physics.ct.geometry import ConeBeamGeometry, FanBeamGeometry, ParallelBeamGeometry
from medaug.physics.ct.projectors import _check_shape, _check_spacing, finish_output, prepare_input
from medaug.physics.ct.shortscan import scan_arc, short_scan_weights
from medaug.physics.ct.symmetry import view_symmetry
from medaug.physics.operators import LinearOperator, conjugate_gradient

__all__ = ["fbp", "fdk", "sirt", "cg_normal_equations"]


def _weighted_fan_projections(
    sinogram: torch.Tensor, geometry: FanBeamGeometry
) -> tuple[torch.Tensor, float, bool, float]:
    """Return the weighted projections, filter pitch, kernel kind and angular weight.

    Projections get the cosine pre-weight and, for a short scan, the Parker
    weights. A full scan measures each line twice, so its angular weight is
    half the angle step. A Parker-weighted short scan counts each line once
    in total, so its weight is the whole step.
    """
    source, distance = geometry.source_to_isocenter_mm, geometry.source_to_detector_mm
    positions = torch.as_tensor(geometry.detector_positions_mm(), dtype=sinogram.dtype, device=sinogram.device)
    short, step_rad = scan_arc(geometry)
    if short:
        parker = torch.as_tensor(short_scan_weights(geometry), dtype=sinogram.dtype, device=sinogram.device)
        sinogram = sinogram * parker
    angular_weight = step_rad if short else step_rad / 2
    if geometry.detector_type == "flat":
        # Rescale the detector to a virtual one through the isocentre.
        virtual = positions * source / distance
        weighted = sinogram * source / torch.sqrt(source**2 + virtual**2)
        return weighted, geometry.detector_spacing_mm * source / distance, False, angular_weight
    gamma = positions / distance
    weighted = sinogram * source * torch.cos(gamma)
    # The equiangular kernel carries a factor 1/2, which the weight undoes.
    return weighted, geometry.detector_spacing_mm / distance, True, 2 * angular_weight


def fbp(
    sinogram: Any,
    geometry: ParallelBeamGeometry | FanBeamGeometry,
    image_shape: Sequence[int],
    *,
    spacing_mm: float | Sequence[float] = 1.0,
    filter: str = "ramp",  # noqa: A002 - the field's name for the kernel
    cutoff: float = 1.0,
    circle: bool = True,
) -> Any:
    """Reconstruct images by filtered back-projection (parallel or fan beam).

    Parameters
    ----------
    sinogram : tensor or ndarray, (..., n_angles, n_detectors)
        Line integrals in image unit times mm.
    geometry : ParallelBeamGeometry or FanBeamGeometry
        Parallel beam expects angles spread uniformly over 180 or 360
        degrees. Fan beam takes a full scan (``V`` views spread uniformly
        over 360 degrees) or a short scan (equally spaced, increasing views
        spanning at least 180 degrees plus the fan angle, and less than
        360), which gets Parker weights.
    image_shape : (int, int)
    spacing_mm : float or (float, float), default 1.0
        Pixel spacing ``(dy, dx)``, mm.
    filter : {"ramp", "shepp-logan", "cosine", "hann"}, default "ramp"
        Reconstruction kernel, see :mod:`medaug.physics.ct.filters`.
    cutoff : float, default 1.0
        Window cutoff as a fraction of the Nyquist frequency.
    circle : bool, default True
        Reconstruct only the disc that every view covers and set the rest to 0.

    Returns
    -------
    tensor or ndarray, (..., H, W)

    Notes
    -----
    Parallel beam: ``f(x, y) = (pi / V) sum_v q_v(x cos b_v + y sin b_v)``
    with ``q = p * h`` the ramp-filtered projection. Fan beam follows Kak
    and Slaney (chapter 3): cosine pre-weighting, a ramp filter on a
    virtual detector through the isocentre (flat) or in fan angle
    (equiangular), and distance-weighted back-projection. Short scans are
    weighted by Parker's weights first (:mod:`medaug.physics.ct.shortscan`).

    Raises
    ------
    ValueError
        For a fan-beam scan that spans more than 360 degrees, or a short
        scan that is too short or unequally spaced.

    References
    ----------
    Kak A. C., Slaney M., "Principles of Computerized Tomographic Imaging",
    IEEE Press, 1988, chapter 3. DOI: 10.1137/1.9780898719277

    Parker D. L., "Optimal short scan convolution reconstruction for fan beam
    CT", Medical Physics 9(2), 254-257, 1982. DOI: 10.1118/1.595078

    Examples
    --------
    >>> import torch
    >>> from medaug.physics.ct.geometry import ParallelBeamGeometry, uniform_angles
    >>> from medaug.physics.ct.projectors import ParallelBeamProjector
    >>> geometry = ParallelBeamGeometry(uniform_angles(90), 64)
    >>> disc = (torch.arange(64.0) - 31.5).pow(2)
    >>> disc = ((disc[:, None] + disc[None, :]) < 20**2).double()
    >>> image = fbp(ParallelBeamProjector(geometry, (64, 64))(disc), geometry, (64, 64))
    >>> round(float(image[32, 32]), 2)
    1.0
    """
    if not isinstance(geometry, (ParallelBeamGeometry, FanBeamGeometry)):
        raise TypeError(
            f"`geometry` must be a ParallelBeamGeometry or FanBeamGeometry, got {type(geometry).__name__}"
        )
    shape = _check_shape(image_shape, 2, "image_shape")
    spacing = _check_spacing(spacing_mm, 2)
    p, leading, was_numpy = prepare_input(sinogram, geometry.sinogram_shape, "sinogram")

    if isinstance(geometry, ParallelBeamGeometry):
        weighted, pitch, equiangular = p, geometry.detector_spacing_mm, False
        scale = math.pi / len(geometry.angles_deg)
    else:
        weighted, pitch, equiangular, scale = _weighted_fan_projections(p, geometry)
    filtered = filter_projections(weighted, pitch, filter=filter, cutoff=cutoff, equiangular=equiangular)

    image = _backproject(filtered, geometry, shape, spacing, circle) * scale
    return finish_output(image, leading, was_numpy)


def _backproject(
    filtered: torch.Tensor,
    geometry: ParallelBeamGeometry | FanBeamGeometry,
    shape: tuple[int, int],
    spacing: tuple[float, float],
    circle: bool,
) -> torch.Tensor:
    """Return the unscaled pixel-driven back-projection ``(M, H, W)`` of ``(M, n_views, n_det)``."""
    radius = geometry.covered_radius_mm() if circle else math.inf
    options = (radius, filtered.dtype, filtered.device)
    symmetry = view_symmetry(geometry, shape, spacing) if isinstance(geometry, ParallelBeamGeometry) else None
    if symmetry is None:
        matrix = pixel_driven_backprojector(geometry, shape, spacing, *options)
        return matrix.multiply(filtered.reshape(filtered.shape[0], -1)).reshape(-1, *shape)

    matrix = pixel_driven_backprojector(symmetry.base_geometry(geometry), shape, spacing, *options)
    base = matrix.multiply_columns(symmetry.scatter_views(filtered))
    return symmetry.untransform_images(base, shape)


def fdk(
    projections: Any,
    geometry: ConeBeamGeometry,
    volume_shape: Sequence[int],
    *,
    spacing_mm: float | Sequence[float] = 1.0,
    filter: str = "ramp",  # noqa: A002 - the field's name for the kernel
    cutoff: float = 1.0,
) -> Any:
    """Reconstruct volumes from circular cone-beam projections (Feldkamp-Davis-Kress).

    Parameters
    ----------
    projections : tensor or ndarray, (..., n_angles, rows, cols)
        Line integrals, angles spread uniformly over 360 degrees.
    geometry : ConeBeamGeometry
    volume_shape : (int, int, int)
        ``(D, H, W)``, the first axis along the rotation axis.
    spacing_mm : float or (float, float, float), default 1.0
    filter, cutoff
        Reconstruction kernel along detector rows, as in :func:`fbp`.

    Returns
    -------
    tensor or ndarray, (..., D, H, W)

    Notes
    -----
    Projections are weighted by ``R / sqrt(R^2 + a^2 + b^2)`` (``a, b`` the
    detector coordinates scaled to the isocentre), ramp-filtered along rows
    and back-projected with weight ``(R / U)^2``, ``U`` the distance from the
    source along the central ray. Exact in the mid-plane; cone-beam
    artifacts grow with the cone angle.

    References
    ----------
    Feldkamp L. A., Davis L. C., Kress J. W., "Practical cone-beam
    algorithm", Journal of the Optical Society of America A 1(6), 612-619,
    1984. DOI: 10.1364/JOSAA.1.000612
    """
    if not isinstance(geometry, ConeBeamGeometry):
        raise TypeError(f"`geometry` must be a ConeBeamGeometry, got {type(geometry).__name__}")
    shape = _check_shape(volume_shape, 3, "volume_shape")
    spacing = _check_spacing(spacing_mm, 3)
    p, leading, was_numpy = prepare_input(projections, geometry.projection_shape, "projections")
    source, distance = geometry.source_to_isocenter_mm, geometry.source_to_detector_mm
    row_pos, col_pos = (torch.as_tensor(a, dtype=p.dtype, device=p.device) for a in geometry.detector_positions_mm())

    magnification = source / distance
    radial = (col_pos[None, :] ** 2 + row_pos[:, None] ** 2) * magnification**2
    weighted = p * source / torch.sqrt(source**2 + radial)
    pitch = geometry.detector_spacing_mm[1] * magnification
    filtered = filter_projections(weighted, pitch, filter=filter, cutoff=cutoff)
    volume = _cone_pixel_backprojection(filtered, geometry, shape, spacing)
    volume = volume * (math.pi / len(geometry.angles_deg))
    return finish_output(volume, leading, was_numpy)


def _cone_pixel_backprojection(
    filtered: torch.Tensor,
    geometry: ConeBeamGeometry,
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
) -> torch.Tensor:
    depth, height, width = shape
    batch = filtered.shape[0]
    options = {"dtype": filtered.dtype, "device": filtered.device}
    z = (torch.arange(depth, **options) - (depth - 1) / 2) * spacing[0]
    y = (torch.arange(height, **options) - (height - 1) / 2) * spacing[1]
    x = (torch.arange(width, **options) - (width - 1) / 2) * spacing[2]
    y, x = y[:, None].expand(height, width).reshape(-1), x[None, :].expand(height, width).reshape(-1)
    rows, cols = geometry.detector_shape
    row_pitch, col_pitch = geometry.detector_spacing_mm
    source, distance = geometry.source_to_isocenter_mm, geometry.source_to_detector_mm

    volume = torch.zeros(batch, depth, height * width, **options)
    for view, angle in enumerate(geometry.angles_deg):
        beta = math.radians(angle)
        along_ray = -x * math.sin(beta) + y * math.cos(beta) + source
        u = (x * math.cos(beta) + y * math.sin(beta)) * distance / along_ray
        v = z[:, None] * distance / along_ray[None, :]
        grid_u = (u / col_pitch) * 2 / (cols - 1)
        grid_v = (v / row_pitch) * 2 / (rows - 1)
        grid = torch.stack([grid_u[None, :].expand(depth, -1), grid_v], -1)[None]
        sampled = F.grid_sample(
            filtered[None, :, view], grid, mode="bilinear", padding_mode="zeros", align_corners=True
        )[0]
        volume = volume + sampled * (source / along_ray) ** 2
    return volume.reshape(batch, depth, height, width)


def sirt(
    sinogram: torch.Tensor,
    projector: LinearOperator,
    *,
    iterations: int = 20,
    relaxation: float = 1.0,
    nonnegative: bool = False,
    x0: torch.Tensor | None = None,
) -> torch.Tensor:
    """Reconstruct by the simultaneous iterative reconstruction technique (SIRT).

    ``x <- x + relaxation * C A^T R (y - A x)`` with ``R = 1 / (A 1)`` and
    ``C = 1 / (A^T 1)`` (zero where the sums vanish). Converges to a
    weighted least-squares solution for ``0 < relaxation < 2``.

    References
    ----------
    Gregor J., Benson T., "Computational analysis and improvement of SIRT",
    IEEE Transactions on Medical Imaging 27(7), 918-924, 2008.
    DOI: 10.1109/TMI.2008.923696
    """
    if iterations < 1:
        raise ValueError(f"`iterations` must be >= 1, got {iterations}")
    if not 0 < relaxation < 2:
        raise ValueError(f"`relaxation` must be in (0, 2), got {relaxation}")
    column_sums = projector.adjoint(torch.ones_like(sinogram))
    # Only pixels that some ray sees: a projector restricted to its field of
    # view rejects images that are non-zero outside it.
    row_sums = projector.forward((column_sums > 0).to(column_sums.dtype))
    row_weight = torch.where(row_sums > 0, 1 / row_sums.clamp_min(1e-12), 0.0)
    column_weight = torch.where(column_sums > 0, 1 / column_sums.clamp_min(1e-12), 0.0)

    x = torch.zeros_like(column_sums) if x0 is None else x0.clone()
    for _ in range(iterations):
        residual = sinogram - projector.forward(x)
        x = x + relaxation * column_weight * projector.adjoint(row_weight * residual)
        if nonnegative:
            x = x.clamp_min(0)
    return x


def cg_normal_equations(
    sinogram: torch.Tensor,
    projector: LinearOperator,
    *,
    iterations: int = 10,
    damping: float = 0.0,
) -> torch.Tensor:
    """Reconstruct by conjugate gradients on ``(A^T A + damping I) x = A^T y``.

    A few iterations act as regularisation (early stopping); ``damping``
    adds Tikhonov regularisation.
    """
    if damping < 0:
        raise ValueError(f"`damping` must be >= 0, got {damping}")
    rhs = projector.adjoint(sinogram)
    return conjugate_gradient(
        lambda x: projector.normal(x) + damping * x, rhs, iterations=iterations, tolerance=1e-8
    )
