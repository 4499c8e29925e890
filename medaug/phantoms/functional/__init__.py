"""Pure functions behind the phantoms: rasterisation, analytic k-space and sinograms.

All take a sequence of :class:`~medaug.phantoms.primitives.Primitive` and
torch tensors, and return torch tensors on the requested device.
"""

from medaug.phantoms.functional.common import grid_coordinates
from medaug.phantoms.functional.fourier import kspace_primitives, unit_transform
from medaug.phantoms.functional.radon import sinogram_primitives
from medaug.phantoms.functional.raster import (
    paint_index,
    rasterize_primitives,
    tissue_counts,
    unit_profile,
)

__all__ = [
    "grid_coordinates",
    "kspace_primitives",
    "paint_index",
    "rasterize_primitives",
    "sinogram_primitives",
    "tissue_counts",
    "unit_profile",
    "unit_transform",
]
