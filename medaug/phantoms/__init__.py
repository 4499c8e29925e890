"""Digital phantoms: analytic shapes with tissue classes, rasterised or measured exactly.

Ground truth that is exact: a phantom is a list of analytic primitives
(ellipses, ellipsoids, boxes, cylinders, Gaussian blobs) with tissue
classes, so its k-space and (in 2D) its parallel-beam sinogram are computed
from the object itself rather than from a rasterised copy (which would be
the "inverse crime"). Tissue tables map each class to MR properties and
X-ray attenuation, so one anatomy yields a label map, MR parameter maps and
CT images that agree.

Coordinates are physical LPS millimetres in (x, y[, z]) order; grids are
centred, index ``n // 2`` at 0 mm, with identity direction (W along x,
H along y, D along z). k-space locations are in cycles/mm.

Public names
------------
Primitives (:mod:`medaug.phantoms.primitives`)
    ``Primitive``, ``ellipse``, ``ellipsoid``, ``box``, ``cylinder``,
    ``gaussian_blob``, ``rotation_2d``, ``rotation_z``, ``euler_zxz_matrix``.
Phantoms (:mod:`medaug.phantoms.phantom`)
    ``Phantom`` (``rasterize``, ``label_map``, ``tissue_fractions``,
    ``kspace``, ``sinogram``, ``additive_weights``), ``grid_geometry``,
    ``NotLaminarError``, ``BACKGROUND``.
Shepp-Logan (:mod:`medaug.phantoms.shepp_logan`)
    ``shepp_logan`` (variants ``original_2d``, ``modified_2d``,
    ``kak_slaney_3d``, ``modified_3d``), ``shepp_logan_table``,
    ``SHEPP_LOGAN_VARIANTS``.
Tissue tables (:mod:`medaug.phantoms.tissues`)
    ``mr_parameter``, ``mr_parameters``, ``mr_field_strengths``, ``mr_tissue_names``,
    ``mr_tissue_table``, ``t1_power_law``, ``t2star_from_r2prime``,
    ``T2_RATIO_055T``, ``xray_material``, ``xray_material_names``,
    ``xray_material_table``, ``XrayMaterial``, ``iodine_solution``,
    ``mass_attenuation`` (cm^2/g), ``linear_attenuation`` (1/cm),
    ``tissue_attenuation``, ``hounsfield_units``, ``MR_PARAMETERS``.
Property maps (:mod:`medaug.phantoms.maps`)
    ``mr_parameter_maps``, ``attenuation_map``, ``hounsfield_map``.
Coil sensitivities (:mod:`medaug.phantoms.coils`)
    ``CoilSensitivities`` (sums of complex exponentials, analytic with
    every primitive).
Random generators (:mod:`medaug.phantoms.generators`)
    ``random_ellipses``, ``procedural_head`` (a ``ProceduralHead`` with a
    folded cortex, rasterised only), ``layered_head`` (nested ellipsoids,
    analytic), ``HeadParameters``, ``vessel_tree``, ``insert_lesion``.
Functional layer (:mod:`medaug.phantoms.functional`)
    ``rasterize_primitives``, ``kspace_primitives``,
    ``sinogram_primitives``, ``paint_index``, ``tissue_counts``,
    ``grid_coordinates``.

Examples
--------
>>> from medaug.phantoms import shepp_logan
>>> phantom = shepp_logan("modified_2d", scale_mm=100.0)
>>> phantom.rasterize((64, 64), 200.0, supersample=2).data.shape
torch.Size([1, 64, 64])
"""

from __future__ import annotations

import importlib
from typing import Any

from medaug.phantoms.maps import attenuation_map, hounsfield_map, mr_parameter_maps
from medaug.phantoms.phantom import BACKGROUND, NotLaminarError, Phantom, grid_geometry
from medaug.phantoms.primitives import (
    Primitive,
    box,
    cylinder,
    ellipse,
    ellipsoid,
    euler_zxz_matrix,
    gaussian_blob,
    rotation_2d,
    rotation_z,
)
from medaug.phantoms.shepp_logan import SHEPP_LOGAN_VARIANTS, shepp_logan, shepp_logan_table
from medaug.phantoms.tissues import (
    MR_PARAMETERS,
    T2_RATIO_055T,
    XrayMaterial,
    hounsfield_units,
    iodine_solution,
    linear_attenuation,
    mass_attenuation,
    mr_field_strengths,
    mr_parameter,
    mr_parameters,
    mr_tissue_names,
    mr_tissue_table,
    t1_power_law,
    t2star_from_r2prime,
    tissue_attenuation,
    xray_material,
    xray_material_names,
    xray_material_table,
)

# Names defined in modules that are still optional to import at package load.
_LAZY = {
    "CoilSensitivities": "medaug.phantoms.coils",
    "HeadParameters": "medaug.phantoms.generators",
    "ProceduralHead": "medaug.phantoms.generators",
    "insert_lesion": "medaug.phantoms.generators",
    "layered_head": "medaug.phantoms.generators",
    "procedural_head": "medaug.phantoms.generators",
    "random_ellipses": "medaug.phantoms.generators",
    "vessel_tree": "medaug.phantoms.generators",
}

__all__ = [
    "BACKGROUND",
    "MR_PARAMETERS",
    "NotLaminarError",
    "Phantom",
    "Primitive",
    "SHEPP_LOGAN_VARIANTS",
    "XrayMaterial",
    "attenuation_map",
    "box",
    "cylinder",
    "ellipse",
    "ellipsoid",
    "euler_zxz_matrix",
    "gaussian_blob",
    "grid_geometry",
    "hounsfield_map",
    "hounsfield_units",
    "iodine_solution",
    "linear_attenuation",
    "mass_attenuation",
    "mr_field_strengths",
    "mr_parameter",
    "mr_parameter_maps",
    "mr_parameters",
    "mr_tissue_names",
    "mr_tissue_table",
    "t1_power_law",
    "t2star_from_r2prime",
    "T2_RATIO_055T",
    "rotation_2d",
    "rotation_z",
    "shepp_logan",
    "shepp_logan_table",
    "tissue_attenuation",
    "xray_material",
    "xray_material_names",
    "xray_material_table",
    *sorted(_LAZY),
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'medaug.phantoms' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
