"""Property maps of a tissue phantom: MR parameters, attenuation at an energy, Hounsfield units.

Linear properties (proton density, attenuation) are averaged over each
voxel by tissue fraction, which is exact for partial volume. Relaxation
times are not linear in a mixed voxel, so their maps hold the value of the
voxel's dominant tissue (its label); MR simulators that model partial
volume should combine :meth:`Phantom.tissue_fractions` with
:func:`~medaug.phantoms.tissues.mr_parameters` per tissue instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from medaug.core import Image
from medaug.phantoms.phantom import Phantom
from medaug.phantoms.tissues import tissue_values, water_air_attenuation

__all__ = ["attenuation_map", "hounsfield_map", "mr_parameter_maps"]


def _fraction_weighted(phantom: Phantom, table: dict[str, float], fractions: Image) -> Image:
    weights = torch.tensor(
        [table[name] for name in phantom.labels], dtype=fractions.data.dtype, device=fractions.device
    )
    data = torch.einsum("l,l...->...", weights, fractions.data).unsqueeze(0)
    return Image(data=data, geometry=fractions.geometry)


def mr_parameter_maps(
    phantom: Phantom,
    shape: Sequence[int],
    fov_mm: float | Sequence[float],
    *,
    field_strength_t: float = 3.0,
    supersample: int = 1,
    device: torch.device | str | None = None,
) -> dict[str, Image]:
    """Return maps of proton density, T1, T2 and T2* (ms) for a phantom with tissue labels.

    Parameters
    ----------
    phantom : Phantom or ProceduralHead
        Anything with ``labels`` and ``tissue_fractions``. Every label must be a tissue of the MR table (see
        :func:`~medaug.phantoms.tissues.mr_tissue_names`).
    shape, fov_mm
        Grid, as in :meth:`Phantom.rasterize`.
    field_strength_t : float, default 3.0
        Main field in tesla; it must be tabulated for every tissue used.
    supersample : int, default 1
        Sub-samples per voxel and axis for the fractions and labels.

    Returns
    -------
    dict of str to Image
        ``"proton_density"`` (fraction-weighted), ``"t1_ms"``, ``"t2_ms"``,
        ``"t2star_ms"`` (of the dominant tissue; 0 where it is background).
    """
    fractions = phantom.tissue_fractions(shape, fov_mm, supersample=supersample, device=device)
    label = torch.argmax(fractions.data, dim=0)
    maps = {}
    for parameter in ("proton_density", "t1_ms", "t2_ms", "t2star_ms"):
        table = tissue_values(phantom.labels, parameter, field_strength_t=field_strength_t)
        if parameter == "proton_density":
            maps[parameter] = _fraction_weighted(phantom, table, fractions)
            continue
        lookup = torch.tensor(
            [table[name] for name in phantom.labels], dtype=fractions.data.dtype, device=label.device
        )
        maps[parameter] = Image(data=lookup[label].unsqueeze(0), geometry=fractions.geometry)
    return maps


def attenuation_map(
    phantom: Phantom,
    shape: Sequence[int],
    fov_mm: float | Sequence[float],
    energy_kev: float,
    *,
    supersample: int = 1,
    device: torch.device | str | None = None,
) -> Image:
    """Return the linear attenuation coefficient mu (1/cm) at ``energy_kev`` of each voxel.

    Each tissue's mu comes from its X-ray material (composition and density
    in ``xray_materials.yaml``, cross sections from xraydb); voxels average
    mu over their tissue fractions.
    """
    fractions = phantom.tissue_fractions(shape, fov_mm, supersample=supersample, device=device)
    table = tissue_values(phantom.labels, "mu_per_cm", energy_kev=energy_kev)
    return _fraction_weighted(phantom, table, fractions)


def hounsfield_map(
    phantom: Phantom,
    shape: Sequence[int],
    fov_mm: float | Sequence[float],
    energy_kev: float,
    *,
    supersample: int = 1,
    device: torch.device | str | None = None,
) -> Image:
    """Return the image in Hounsfield units at ``energy_kev`` (water 0 HU, air -1000 HU)."""
    mu = attenuation_map(
        phantom, shape, fov_mm, energy_kev, supersample=supersample, device=device
    )
    mu_water, mu_air = water_air_attenuation(float(energy_kev))
    # Same formula as tissues.hounsfield_units, applied in torch on the map's device.
    data = 1000.0 * (mu.data - mu_water) / (mu_water - mu_air)
    return Image(data=data, geometry=mu.geometry)
