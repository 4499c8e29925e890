"""Parallel-beam view symmetries: one sparse matrix for the views in [0, 45] degrees.

Take a square grid of square pixels centred on the isocentre. Mirroring the
image across the y axis (``Fx``, a flip of the column axis) and swapping x
and y (``T``, a transpose) permute its pixels exactly. They also map one
parallel-beam view onto another:

    p_f(theta, t) = p_f(theta - 180, -t)
    p_f(theta, t) = p_{Fx f}(180 - theta, t)
    p_f(theta, t) = p_{T f}(90 - theta, t)

Applied in this order, they map every view angle into [0, 45] degrees. A
scan of ``V`` views over 180 degrees then needs the system matrix of about
``V / 4`` base views, applied to up to four transformed copies of the
image at once (a sparse matrix times a dense ``(N, 4)`` matrix). The matrix
is read from memory once for all four copies: on a 2-core AMD EPYC VM
(torch 2.13, one thread) that product took about 1.3 times as long as a
matrix-vector product, so projecting one 256 x 256 image over 180 views
became about four times faster than with the matrix of all views.
Detector reversal (``-t``) needs detector positions symmetric about 0, so
the detector offset must be 0.

Back-projection uses the same map: for a view with base angle ``b``,
transform ``g`` and sign ``s``, ``x . e(theta) = s (g x) . e(b)``, so
smearing the (reversed) projection at ``b`` over the transformed grid and
undoing ``g`` gives the smear at ``theta``.
"""

from __future__ import annotations

import dataclasses
import functools

import torch

from medaug.physics.ct.geometry import ParallelBeamGeometry
from medaug.physics.ct.sparse import SparseMatrix

__all__ = ["SymmetricSystem", "ViewSymmetry", "view_symmetry"]

# Base angles that agree to this many decimals of a degree are merged; the
# merged view is then off by at most 5e-10 degrees.
_ANGLE_DECIMALS = 9
# Use the symmetric form only when it needs at most this fraction of the
# views as base views: the product with four image copies costs about 1.3
# times one matrix-vector product on a CPU.
_MAX_BASE_FRACTION = 0.6


def _reduce_angle(angle_deg: float) -> tuple[float, bool, bool, bool]:
    """Return the base angle in [0, 45] and the (reverse, flip, transpose) flags."""
    angle = angle_deg % 360.0
    reverse = angle >= 180.0
    if reverse:
        angle -= 180.0
    flip = angle > 90.0
    if flip:
        angle = 180.0 - angle
    transpose = angle > 45.0
    if transpose:
        angle = 90.0 - angle
    return round(angle, _ANGLE_DECIMALS) + 0.0, reverse, flip, transpose


@dataclasses.dataclass(frozen=True, eq=False)
class ViewSymmetry:
    """Map from the views of a parallel-beam scan to base views and image transforms.

    Attributes
    ----------
    base_angles_deg : tuple of float
        Base view angles in [0, 45] degrees.
    transforms : tuple of (bool, bool)
        ``(flip, transpose)`` of each image transform in use; the image is
        flipped along its columns first, then transposed.
    gather_index : tensor, (n_views,)
        Position of each view in the ``(transform, base view)`` stack.
    reverse : tensor, (n_views,)
        True where the view reads the base projection with ``t`` reversed.
    """

    base_angles_deg: tuple[float, ...]
    transforms: tuple[tuple[bool, bool], ...]
    gather_index: torch.Tensor
    reverse: torch.Tensor

    def base_geometry(self, geometry: ParallelBeamGeometry) -> ParallelBeamGeometry:
        """Return ``geometry`` with the base view angles."""
        return dataclasses.replace(geometry, angles_deg=self.base_angles_deg)

    def transform_images(self, images: torch.Tensor) -> torch.Tensor:
        """Return every image ``(M, H, W)`` under every transform as columns ``(H * W, m * M)``.

        Column ``t * M + b`` contains image ``b`` under transform ``t``.
        """
        grid = images.permute(1, 2, 0)
        copies = []
        for flip, transpose in self.transforms:
            copy = grid.flip(1) if flip else grid
            copies.append(copy.transpose(0, 1) if transpose else copy)
        return torch.stack(copies, 2).reshape(grid.shape[0] * grid.shape[1], -1)

    def untransform_images(self, columns: torch.Tensor, image_shape: tuple[int, int]) -> torch.Tensor:
        """Return images ``(M, H, W)``: the sum over transforms of each inverse applied to ``columns``.

        This is the transpose of :meth:`transform_images`.
        """
        stacked = columns.reshape(*image_shape, len(self.transforms), -1)
        total = None
        for index, (flip, transpose) in enumerate(self.transforms):
            grid = stacked[:, :, index]
            grid = grid.transpose(0, 1) if transpose else grid
            grid = grid.flip(1) if flip else grid
            total = grid if total is None else total + grid
        return total.permute(2, 0, 1)

    def gather_views(self, base: torch.Tensor, n_detectors: int) -> torch.Tensor:
        """Return sinograms ``(M, n_views, n_det)`` from base projections ``(n_base * n_det, m * M)``."""
        n_base, n_transforms = len(self.base_angles_deg), len(self.transforms)
        stacked = base.reshape(n_base, n_detectors, n_transforms, -1).permute(3, 2, 0, 1)
        stacked = stacked.reshape(-1, n_transforms * n_base, n_detectors)
        views = stacked.index_select(1, self.gather_index.to(base.device))
        reverse = self.reverse.to(base.device)[None, :, None]
        return torch.where(reverse, views.flip(-1), views)

    def scatter_views(self, sinogram: torch.Tensor) -> torch.Tensor:
        """Return base projections ``(n_base * n_det, m * M)`` from sinograms ``(M, n_views, n_det)``.

        This is the transpose of :meth:`gather_views`: views that share a
        base slot are summed.
        """
        n_base, n_transforms = len(self.base_angles_deg), len(self.transforms)
        batch, _, n_detectors = sinogram.shape
        reverse = self.reverse.to(sinogram.device)[None, :, None]
        views = torch.where(reverse, sinogram.flip(-1), sinogram)
        stacked = sinogram.new_zeros(batch, n_transforms * n_base, n_detectors)
        stacked = stacked.index_add(1, self.gather_index.to(sinogram.device), views)
        stacked = stacked.reshape(batch, n_transforms, n_base, n_detectors).permute(2, 3, 1, 0)
        return stacked.reshape(n_base * n_detectors, n_transforms * batch)


@functools.lru_cache(maxsize=16)
def view_symmetry(
    geometry: ParallelBeamGeometry, image_shape: tuple[int, int], spacing_mm: tuple[float, float]
) -> ViewSymmetry | None:
    """Return the view symmetry of a scan, or None where it does not apply or would not pay.

    It applies to a square image of square pixels and a detector centred on
    the isocentre (offset 0). It is used when the base views number at most
    60 % of the views, which is true for angles spread uniformly over 180 or
    360 degrees in steps that divide 45 degrees.
    """
    if image_shape[0] != image_shape[1] or spacing_mm[0] != spacing_mm[1]:
        return None
    if geometry.detector_offset_mm != 0.0:
        return None

    reduced = [_reduce_angle(angle) for angle in geometry.angles_deg]
    base_angles = sorted({angle for angle, *_ in reduced})
    transforms = sorted({(flip, transpose) for _, _, flip, transpose in reduced})
    if len(base_angles) > _MAX_BASE_FRACTION * len(geometry.angles_deg):
        return None

    base_position = {angle: index for index, angle in enumerate(base_angles)}
    transform_position = {transform: index for index, transform in enumerate(transforms)}
    gather = [
        transform_position[(flip, transpose)] * len(base_angles) + base_position[angle]
        for angle, _, flip, transpose in reduced
    ]
    return ViewSymmetry(
        base_angles_deg=tuple(base_angles),
        transforms=tuple(transforms),
        gather_index=torch.tensor(gather, dtype=torch.int64),
        reverse=torch.tensor([reverse for _, reverse, _, _ in reduced], dtype=torch.bool),
    )


@dataclasses.dataclass(frozen=True, eq=False)
class SymmetricSystem:
    """A parallel-beam system matrix over all views, stored for the base views only.

    ``matrix`` is the row-driven Joseph matrix ``(n_base * n_det, H * W)``
    of the base views (:func:`medaug.physics.ct.joseph.build_row_driven_matrix`).
    """

    symmetry: ViewSymmetry
    matrix: SparseMatrix
    image_shape: tuple[int, int]
    n_detectors: int

    def project(self, image: torch.Tensor) -> torch.Tensor:
        """Return the line integrals ``(M, n_views * n_det)`` of images ``(M, H, W)``."""
        base = self.matrix.multiply_columns(self.symmetry.transform_images(image))
        return self.symmetry.gather_views(base, self.n_detectors).reshape(image.shape[0], -1)

    def backproject(self, sinogram: torch.Tensor) -> torch.Tensor:
        """Return the transpose applied to ``(M, n_views * n_det)``, as images ``(M, H, W)``."""
        views = sinogram.reshape(sinogram.shape[0], -1, self.n_detectors)
        base = self.matrix.multiply_columns(self.symmetry.scatter_views(views), transpose=True)
        return self.symmetry.untransform_images(base, self.image_shape)
