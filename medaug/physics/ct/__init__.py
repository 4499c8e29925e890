"""CT acquisition simulation: projectors, acquisition physics and reconstruction.

Images are attenuation maps (1/cm unless stated) on a grid centred on the
isocentre, geometries give distances in mm, and projectors return line
integrals in the image's unit times mm (see :data:`MM_PER_CM`).
"""

from medaug.physics.ct.filters import (
    RECONSTRUCTION_FILTERS,
    filter_frequency_response,
    filter_projections,
    filter_window,
)
from medaug.physics.ct.geometry import (
    ConeBeamGeometry,
    FanBeamGeometry,
    ParallelBeamGeometry,
    limited_angle,
    sparse_view,
    uniform_angles,
)
from medaug.physics.ct.projectors import (
    MM_PER_CM,
    ConeBeamProjector,
    FanBeamProjector,
    ParallelBeamProjector,
    check_field_of_view,
    clear_projector_cache,
)
from medaug.physics.ct.reconstruction import cg_normal_equations, fbp, fdk, sirt

__all__ = [
    "MM_PER_CM",
    "RECONSTRUCTION_FILTERS",
    "ConeBeamGeometry",
    "ConeBeamProjector",
    "FanBeamGeometry",
    "FanBeamProjector",
    "ParallelBeamGeometry",
    "ParallelBeamProjector",
    "cg_normal_equations",
    "check_field_of_view",
    "clear_projector_cache",
    "fbp",
    "fdk",
    "filter_frequency_response",
    "filter_projections",
    "filter_window",
    "limited_angle",
    "sirt",
    "sparse_view",
    "uniform_angles",
]
