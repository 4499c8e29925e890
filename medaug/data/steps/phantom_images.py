"""Images of the ``phantom`` source from one rasterisation of the tissue fractions.

:meth:`medaug.phantoms.Phantom.label_map`, :func:`medaug.phantoms.mr_parameter_maps`
and :func:`medaug.phantoms.hounsfield_map` each rasterise the phantom's
tissue fractions again. Rasterisation is most of the cost of a sample, so
the functions here derive the label map and the image from one
``(L, *shape)`` fraction map with the same formulas. The label is the
tissue with the largest fraction (ties to the lower label). Proton density
and attenuation are fraction-weighted, and relaxation times are those of
the label.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import torch

from medaug.core.fields import Image, LabelMap
from medaug.data.steps import factors as factor_rules

__all__ = ["dominant_label", "label_from_fractions", "mr_maps_from_fractions", "hounsfield_from_fractions", "mr_signal",
           "phantom_image"]


def dominant_label(fractions: Image) -> torch.Tensor:
    """Return per voxel the label with the largest fraction (int64, ties to the lower label).

    Reducing over the contiguous last axis is about three times faster than
    ``argmax(dim=0)`` over the label axis; both return the first maximum.
    """
    return torch.argmax(fractions.data.movedim(0, -1).contiguous(), dim=-1)


def label_from_fractions(fractions: Image, label: torch.Tensor | None = None) -> LabelMap:
    """Return the label map (:func:`dominant_label`) as uint8, or int16 beyond 255 labels."""
    label = dominant_label(fractions) if label is None else label
    dtype = torch.uint8 if fractions.data.shape[0] <= 255 else torch.int16
    return LabelMap(data=label.to(dtype).unsqueeze(0), geometry=fractions.geometry)


@functools.lru_cache(maxsize=64)
def _table(labels: tuple[str, ...], parameter: str, field_strength_t: float, energy_kev: float) -> torch.Tensor:
    from medaug.phantoms.tissues import tissue_values

    values = tissue_values(labels, parameter, field_strength_t=field_strength_t, energy_kev=energy_kev)
    return torch.tensor([values[name] for name in labels], dtype=torch.float64)


def _weights(labels: tuple[str, ...], parameter: str, fractions: Image, *, field_strength_t: float = 3.0,
             energy_kev: float = 70.0) -> torch.Tensor:
    table = _table(labels, parameter, float(field_strength_t), float(energy_kev))
    return table.to(dtype=fractions.data.dtype, device=fractions.data.device)


def mr_maps_from_fractions(labels: tuple[str, ...], fractions: Image, field_strength_t: float,
                           label: torch.Tensor | None = None) -> dict[str, Image]:
    """Return proton density (fraction-weighted) and T1, T2, T2* (ms, of the label) maps ``(1, *shape)``.

    Equal to :func:`medaug.phantoms.mr_parameter_maps` on the same grid;
    ``label`` is the :func:`dominant_label` when already computed.
    """
    label = dominant_label(fractions) if label is None else label
    density = _weights(labels, "proton_density", fractions, field_strength_t=field_strength_t)
    maps = {"proton_density": Image(torch.einsum("l,l...->...", density, fractions.data).unsqueeze(0),
                                    geometry=fractions.geometry)}
    for parameter in ("t1_ms", "t2_ms", "t2star_ms"):
        lookup = _weights(labels, parameter, fractions, field_strength_t=field_strength_t)
        maps[parameter] = Image(lookup[label].unsqueeze(0), geometry=fractions.geometry)
    return maps


def hounsfield_from_fractions(labels: tuple[str, ...], fractions: Image, energy_kev: float) -> Image:
    """Return the image in Hounsfield units at ``energy_kev``, equal to :func:`medaug.phantoms.hounsfield_map`."""
    from medaug.phantoms.tissues import water_air_attenuation

    mu = torch.einsum("l,l...->...", _weights(labels, "mu_per_cm", fractions, energy_kev=energy_kev), fractions.data)
    mu_water, mu_air = water_air_attenuation(float(energy_kev))
    data = 1000.0 * (mu.unsqueeze(0) - mu_water) / (mu_water - mu_air)
    return Image(data=data, geometry=fractions.geometry)


def mr_signal(maps: Mapping[str, Image], protocol: factor_rules.MRProtocol) -> Image:
    """Evaluate the protocol's signal equation on proton density and relaxation maps (float32 image).

    ``inversion_recovery`` is the magnitude inversion-recovery spin echo;
    ``inversion_recovery_gradient_echo`` (MPRAGE) uses the same longitudinal
    recovery with T2* decay. NOTE: the MPRAGE form ignores the saturation
    by the readout train, so its flip angle has no effect.
    """
    from medaug.physics.mri import inversion_recovery, spin_echo, spoiled_gradient_echo

    pd = maps["proton_density"].data

    def relaxation(name: str) -> torch.Tensor:
        # Background voxels have T1 = T2 = 0; give them 1 ms so the equations stay finite (PD is 0 there).
        data = maps[name].data
        return torch.where(data > 0, data, torch.ones_like(data))

    timing = {"tr_ms": protocol.tr_ms, "te_ms": protocol.te_ms}
    if protocol.sequence == "spin_echo":
        signal = spin_echo(pd, relaxation("t1_ms"), relaxation("t2_ms"), **timing)
    elif protocol.sequence == "gradient_echo":
        signal = spoiled_gradient_echo(pd, relaxation("t1_ms"), relaxation("t2star_ms"),
                                       flip_angle_deg=protocol.flip_angle_deg, **timing)
    else:
        decay = "t2_ms" if protocol.sequence == "inversion_recovery" else "t2star_ms"
        signal = inversion_recovery(pd, relaxation("t1_ms"), relaxation(decay), ti_ms=protocol.ti_ms,
                                    magnitude=True, **timing)
    return maps["proton_density"].replace(data=signal.to(torch.float32))


@functools.lru_cache(maxsize=1)
def _profile_sequences() -> dict[str, str]:
    from medaug.data.profiles import load_profile_library

    return {name: profile.sequence for name, profile in load_profile_library().mri.contrasts.items()}


def phantom_image(source: Any, phantom: Any, fractions: Image | None, factors: Mapping[str, Any],
                  label: torch.Tensor | None = None) -> Image | None:
    """Return the image of a :class:`~medaug.data.steps.phantoms.PhantomSource` contrast, or None for ``none``.

    ``fractions`` and ``label`` are the phantom's tissue fractions and
    dominant labels on the source grid, or None to rasterise them here.
    """
    import medaug.phantoms as phantoms

    contrast = source.contrast
    grid = {"supersample": source.supersample}
    if contrast.type == "none":
        return None
    if contrast.type == "values":
        return phantom.rasterize(source.shape, source.fov_mm, **grid)
    labels = tuple(phantom.labels)
    if contrast.type == "hounsfield":
        energy = factor_rules.effective_energy_kev(float(factors["kvp"])) if "kvp" in factors else contrast.energy_kev
        if fractions is None:
            return phantoms.hounsfield_map(phantom, source.shape, source.fov_mm, energy, **grid)
        return hounsfield_from_fractions(labels, fractions, energy)
    field = float(factors.get("field_strength_t", contrast.field_strength_t))
    if fractions is None:
        maps = phantoms.mr_parameter_maps(phantom, source.shape, source.fov_mm, field_strength_t=field, **grid)
    else:
        maps = mr_maps_from_fractions(labels, fractions, field, label)
    protocol = factor_rules.mr_protocol(
        contrast.type, tr_ms=contrast.tr_ms, te_ms=contrast.te_ms, ti_ms=contrast.ti_ms,
        flip_angle_deg=contrast.flip_angle_deg, factors=factors,
        profile_sequences=_profile_sequences() | ({str(factors["contrast"]): factors["sequence"]}
                                                  if "sequence" in factors and "contrast" in factors else {}),
    )
    return mr_signal(maps, protocol)
