"""The ``phantom`` source: analytic and procedural phantoms rasterised with a contrast.

Wraps :mod:`medaug.phantoms`. ``generator`` picks the anatomy:
``shepp_logan`` (fixed, ``variant``), ``random_ellipses`` or
``procedural_head`` (drawn from the sample's generator; ``options`` are
passed to the generator function). Shepp-Logan and random ellipses are
scaled to fill 95 % and 90 % of the field of view unless ``options`` sets
``scale_mm`` or ``radius_mm``. ``contrast`` picks the image:

* ``values``: the phantom's own values, rasterised with partial volume;
* ``hounsfield``: CT numbers at ``energy_kev`` from the tissue table;
* ``spin_echo`` / ``gradient_echo``: MR signal from the tissue table's
  proton density, T1, T2 and T2* at ``field_strength_t``, with ``tr_ms``,
  ``te_ms`` (and ``flip_angle_deg``);
* ``none``: the label map only (for label-to-image synthesis).

Phantoms with tissue classes also give ``label`` (the phantom's label numbers).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pydantic

from medaug.core.sample import Sample
from medaug.data.registry import BuildContext, FieldSpec, SpecError, StepConfig, register_step

__all__ = ["PhantomSource", "ContrastOptions"]


class ContrastOptions(pydantic.BaseModel):
    """Image contrast of the phantom (see the module docstring); times in ms, angle in degrees."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    type: Literal["values", "hounsfield", "spin_echo", "gradient_echo", "none"] = "values"
    energy_kev: float = pydantic.Field(70.0, ge=10.0, le=200.0)
    field_strength_t: float = pydantic.Field(3.0, gt=0.0)
    tr_ms: float = pydantic.Field(500.0, gt=0.0)
    te_ms: float = pydantic.Field(15.0, ge=0.0)
    flip_angle_deg: float = pydantic.Field(15.0, gt=0.0, le=180.0)


@register_step("source", "phantom")
class PhantomSource(StepConfig):
    """Options of the phantom source: ``generator``, grid ``shape`` (voxels) and ``fov_mm``."""

    type: Literal["phantom"] = "phantom"
    generator: Literal["shepp_logan", "random_ellipses", "procedural_head"] = "procedural_head"
    variant: str = "modified_2d"
    shape: tuple[int, int] | tuple[int, int, int] = (128, 128)
    fov_mm: float | tuple[float, ...] = 220.0
    supersample: int = pydantic.Field(2, ge=1, le=8)
    contrast: ContrastOptions = ContrastOptions()
    options: dict[str, Any] = {}

    @pydantic.field_validator("shape")
    @classmethod
    def _check_shape(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(n < 4 for n in value):
            raise ValueError(f"every axis of `shape` must be >= 4 voxels, got {list(value)}")
        return value

    @pydantic.model_validator(mode="after")
    def _check_generator(self) -> PhantomSource:
        if self.generator == "shepp_logan":
            from medaug.phantoms import SHEPP_LOGAN_VARIANTS

            if self.variant not in SHEPP_LOGAN_VARIANTS:
                raise ValueError(f"`variant` must be one of {', '.join(SHEPP_LOGAN_VARIANTS)}, got {self.variant!r}")
        return self

    def output_spec(self, spec: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        if self.generator == "shepp_logan" and self.variant.endswith(("_2d", "_3d")):
            expected_ndim = 2 if self.variant.endswith("_2d") else 3
            if len(self.shape) != expected_ndim:
                raise SpecError(f"variant {self.variant!r} needs a {expected_ndim}-D `shape`, got {list(self.shape)}",
                                key="shape")
        shape = tuple(self.shape)
        out = {"label": FieldSpec("LabelMap", 1, shape)}
        if self.contrast.type != "none":
            out["image"] = FieldSpec("Image", 1, shape)
        return out

    def build(self, context: BuildContext) -> Any:
        return self.make

    def _phantom(self, rng: np.random.Generator) -> Any:
        import medaug.phantoms as phantoms

        half_fov_mm = float(np.min(self.fov_mm)) / 2.0
        if self.generator == "shepp_logan":
            return phantoms.shepp_logan(self.variant, **{"scale_mm": 0.95 * half_fov_mm, **self.options})
        if self.generator == "random_ellipses":
            options = {"radius_mm": 0.9 * half_fov_mm, **self.options}
            return phantoms.random_ellipses(rng, ndim=len(self.shape), **options)
        return phantoms.procedural_head(rng, ndim=len(self.shape), **self.options)

    def make(self, rng: np.random.Generator, index: int, factors: Any = None) -> Sample:
        """Draw phantom ``index`` and rasterise its label map and image."""
        phantom = self._phantom(rng)
        fields: dict[str, Any] = {}
        if any(tissue is not None for tissue in phantom.tissues):
            fields["label"] = phantom.label_map(self.shape, self.fov_mm, supersample=self.supersample)
        image = self._image(phantom)
        if image is not None:
            fields["image"] = image
        return Sample(fields, metadata={"source": {"type": "phantom", "generator": self.generator, "index": index}})

    def _image(self, phantom: Any) -> Any:
        import medaug.phantoms as phantoms

        contrast = self.contrast
        grid = {"supersample": self.supersample}
        if contrast.type == "none":
            return None
        if contrast.type == "values":
            return phantom.rasterize(self.shape, self.fov_mm, **grid)
        if contrast.type == "hounsfield":
            return phantoms.hounsfield_map(phantom, self.shape, self.fov_mm, contrast.energy_kev, **grid)
        maps = phantoms.mr_parameter_maps(phantom, self.shape, self.fov_mm,
                                          field_strength_t=contrast.field_strength_t, **grid)
        return self._mr_signal(maps)

    def _mr_signal(self, maps: dict[str, Any]) -> Any:
        import torch

        from medaug.physics.mri import spin_echo, spoiled_gradient_echo

        contrast = self.contrast
        pd, t1 = maps["proton_density"].data, maps["t1_ms"].data
        # Background voxels have T1 = T2 = 0; give them 1 ms so the signal equations stay finite (PD is 0 there).
        t1 = torch.where(t1 > 0, t1, torch.ones_like(t1))
        if contrast.type == "spin_echo":
            t2 = maps["t2_ms"].data
            signal = spin_echo(pd, t1, torch.where(t2 > 0, t2, torch.ones_like(t2)), tr_ms=contrast.tr_ms, te_ms=contrast.te_ms)
        else:
            t2s = maps["t2star_ms"].data
            signal = spoiled_gradient_echo(pd, t1, torch.where(t2s > 0, t2s, torch.ones_like(t2s)),
                                           tr_ms=contrast.tr_ms, te_ms=contrast.te_ms,
                                           flip_angle_deg=contrast.flip_angle_deg)
        return maps["proton_density"].replace(data=signal.to(torch.float32))
