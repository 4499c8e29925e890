"""Joseph's ray-driven projector for 2D images, as a sparse matrix.

Each ray is stepped along the image axis it is most parallel to. At every
row (or column) centre it crosses, the image is linearly interpolated
between the two neighbouring pixels along the other axis, and the value is
weighted by the path length per step, ``spacing / |cos|``. Pixels outside
the grid count as zero. The resulting line integrals are exact for an image
that is piecewise linear along each row, and the transpose of the matrix is
the matched back-projector.

References
----------
Joseph P. M., "An improved algorithm for reprojecting rays through pixel
images", IEEE Transactions on Medical Imaging 1(3), 192-196, 1982.
DOI: 10.1109/TMI.1982.4307572
"""

from __future__ import annotations

import dataclasses

import torch

from medaug.physics.ct.sparse import SparseMatrix, csr_from_rows

__all__ = ["JosephSystem", "build_joseph_system", "build_row_driven_matrix"]

# Rays handled per chunk while the matrix is built: bounds the temporary
# memory to about chunk * max(H, W) * 2 entries of a few tensors each.
_RAY_CHUNK = 2048


@dataclasses.dataclass(frozen=True, eq=False)
class JosephSystem:
    """Joseph system matrix split by driving axis.

    ``rows_matrix`` holds the rays stepped along image rows and acts on the
    image flattened in ``(H, W)`` order; ``columns_matrix`` holds the others
    and acts on the transposed image flattened in ``(W, H)`` order.
    """

    image_shape: tuple[int, int]
    n_rays: int
    rows_rays: torch.Tensor
    columns_rays: torch.Tensor
    rows_matrix: SparseMatrix
    columns_matrix: SparseMatrix

    def project(self, image: torch.Tensor) -> torch.Tensor:
        """Return the line integrals ``(M, n_rays)`` of images ``(M, H, W)``."""
        flat = image.reshape(image.shape[0], -1)
        flat_t = image.transpose(-1, -2).reshape(image.shape[0], -1)
        by_rows = self.rows_matrix.multiply(flat)
        by_columns = self.columns_matrix.multiply(flat_t)
        out = torch.zeros(image.shape[0], self.n_rays, dtype=image.dtype, device=image.device)
        out = out.index_copy(1, self.rows_rays, by_rows)
        return out.index_copy(1, self.columns_rays, by_columns)

    def backproject(self, sinogram: torch.Tensor) -> torch.Tensor:
        """Return the transpose applied to ray values ``(M, n_rays)``, as images ``(M, H, W)``."""
        height, width = self.image_shape
        rows = self.rows_matrix.multiply(sinogram.index_select(1, self.rows_rays), transpose=True)
        columns = self.columns_matrix.multiply(
            sinogram.index_select(1, self.columns_rays), transpose=True
        )
        image = rows.reshape(-1, height, width)
        return image + columns.reshape(-1, width, height).transpose(-1, -2)


def _driven_entries(
    origin: torch.Tensor,
    direction: torch.Tensor,
    steps: int,
    across: int,
    step_spacing: float,
    across_spacing: float,
    support_radius: float | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return per-ray counts, columns and weights for rays stepped along the first axis.

    ``origin`` and ``direction`` are ``(R, 2)`` as (across, step) coordinates.
    Pixels whose centre lies farther than ``support_radius`` mm from the
    isocentre get no entry.
    """
    dtype = origin.dtype
    centres = (torch.arange(steps, dtype=dtype, device=origin.device) - (steps - 1) / 2) * step_spacing
    slope = direction[:, 0] / direction[:, 1]
    position = origin[:, :1] + (centres[None, :] - origin[:, 1:]) * slope[:, None]
    u = position / across_spacing + (across - 1) / 2
    lower = torch.floor(u)
    fraction = u - lower
    lower = lower.to(torch.int64)
    weight = (step_spacing / direction[:, 1].abs())[:, None]

    index = torch.stack([lower, lower + 1], -1)
    values = torch.stack([(1 - fraction) * weight, fraction * weight], -1)
    valid = (index >= 0) & (index < across)
    if support_radius is not None:
        across_position = (index.to(dtype) - (across - 1) / 2) * across_spacing
        radius_squared = across_position**2 + (centres**2)[None, :, None]
        valid &= radius_squared <= support_radius**2
    step_index = torch.arange(steps, device=origin.device)[None, :, None]
    columns = (step_index * across + index)[valid]
    return valid.sum(dim=(1, 2)), columns, values[valid]


def _driven_matrix(
    origin: torch.Tensor,
    direction: torch.Tensor,
    steps: int,
    across: int,
    step_spacing: float,
    across_spacing: float,
    support_radius: float | None,
    dtype: torch.dtype,
) -> SparseMatrix:
    counts, columns, values = [], [], []
    for start in range(0, origin.shape[0], _RAY_CHUNK):
        stop = start + _RAY_CHUNK
        c, col, val = _driven_entries(
            origin[start:stop],
            direction[start:stop],
            steps,
            across,
            step_spacing,
            across_spacing,
            support_radius,
        )
        counts.append(c)
        columns.append(col)
        values.append(val.to(dtype))
    if not counts:
        empty = torch.zeros(0, dtype=torch.int64, device=origin.device)
        counts, columns, values = [empty], [empty], [torch.zeros(0, dtype=dtype, device=origin.device)]
    return SparseMatrix(
        csr_from_rows(
            torch.cat(counts), torch.cat(columns), torch.cat(values), (origin.shape[0], steps * across)
        )
    )


def build_joseph_system(
    origins: torch.Tensor,
    directions: torch.Tensor,
    image_shape: tuple[int, int],
    spacing_mm: tuple[float, float],
    dtype: torch.dtype,
    *,
    support_radius_mm: float | None = None,
) -> JosephSystem:
    """Build the Joseph matrix of rays through an image grid centred on the origin.

    Parameters
    ----------
    origins, directions : tensor, (R, 2)
        A point on each ray and its unit direction, (x, y) in mm. Work in
        float64 here: the weights are cast to ``dtype`` at the end.
    image_shape : (int, int)
        ``(H, W)``.
    spacing_mm : (float, float)
        Pixel spacing ``(dy, dx)``, mm.
    dtype : torch.dtype
        Dtype of the stored weights (mm).
    support_radius_mm : float, optional
        Leave out pixels whose centre lies farther from the isocentre: the
        matrix then models images that are zero there, with about 21 % fewer
        entries for a disc inscribed in a square image.
    """
    height, width = image_shape
    dy, dx = spacing_mm
    along_rows = directions[:, 1].abs() * dx >= directions[:, 0].abs() * dy
    rows_rays = torch.nonzero(along_rows).reshape(-1)
    columns_rays = torch.nonzero(~along_rows).reshape(-1)

    rows_matrix = _driven_matrix(
        origins[rows_rays], directions[rows_rays], height, width, dy, dx, support_radius_mm, dtype
    )
    columns_matrix = _driven_matrix(
        origins[columns_rays].flip(-1),
        directions[columns_rays].flip(-1),
        width,
        height,
        dx,
        dy,
        support_radius_mm,
        dtype,
    )
    return JosephSystem(
        image_shape=(height, width),
        n_rays=int(origins.shape[0]),
        rows_rays=rows_rays,
        columns_rays=columns_rays,
        rows_matrix=rows_matrix,
        columns_matrix=columns_matrix,
    )


def build_row_driven_matrix(
    origins: torch.Tensor,
    directions: torch.Tensor,
    image_shape: tuple[int, int],
    spacing_mm: tuple[float, float],
    dtype: torch.dtype,
    *,
    support_radius_mm: float | None = None,
) -> SparseMatrix:
    """Build the Joseph matrix ``(R, H * W)`` with every ray stepped along the image rows.

    Parameters are those of :func:`build_joseph_system`. Meant for rays
    within 45 degrees of the y axis (``|d_y| dx >= |d_x| dy``), for which
    stepping along rows is the choice Joseph's method makes.
    """
    height, width = image_shape
    dy, dx = spacing_mm
    return _driven_matrix(origins, directions, height, width, dy, dx, support_radius_mm, dtype)
