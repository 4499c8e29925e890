"""The ``ct`` simulation step: a lower-dose CT scan of an image in Hounsfield units.

Wraps :func:`medaug.physics.ct.lowdose.simulate_low_dose`: the image (HU)
is converted to attenuation, projected (parallel or fan beam, Joseph's
method), given quantum and electronic noise at ``dose_fraction * i0``
incident photons and reconstructed by filtered back-projection. A 3-D image
``(D, H, W)`` is scanned slice by slice. The step adds ``sinogram`` (noisy
line integrals), ``low_dose`` (the noisy reconstruction, HU) and
``reference`` (the noiseless reconstruction of the same projections, HU,
with the same resolution, so ``low_dose - reference`` is the noise alone;
``keep_reference: false`` skips its reconstruction).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pydantic

from medaug.core.fields import Image, Sinogram
from medaug.core.sample import Sample, TransformRecord
from medaug.data.registry import BuildContext, FieldSpec, SpecError, StepConfig, register_step

__all__ = ["CTSimulation"]

@register_step("simulation", "ct")
class CTSimulation(StepConfig):
    """Options of the low-dose CT scan.

    ``views`` is the number of projection angles, over 180 degrees (parallel)
    or 360 degrees (fan). ``detectors`` elements of ``detector_spacing_mm``
    default to enough to cover the image diagonal at the pixel spacing.
    ``i0`` is the number of incident photons per element and view at full
    dose. ``dose_fraction`` lies in (0, 1], and a range ``[low, high]`` draws
    it per sample, log-uniformly. ``electronic_noise_std`` is in counts,
    ``filter`` is the FBP kernel, and ``mu_water_per_cm`` is the attenuation
    of water for the HU conversion (1/cm). ``replace_image`` makes the
    low-dose image the image field instead of a ``low_dose`` field, so a
    model trains on what the scanner returns. ``keep_sinogram: false``
    drops the sinogram, so spatial augmentation can follow.
    ``keep_reference: false`` skips the noiseless reconstruction, for
    pipelines that do not output it.

    With ``use_factors``, sampling factors override the options. A
    ``dose_fraction`` replaces the option. A ``mas`` makes the photons
    ``i0 * mas / reference_mas``, and a ``ctdivol_mgy`` makes them
    ``i0 * ctdivol_mgy / reference_ctdivol_mgy``, because both are
    proportional to the tube current-time product at a fixed voltage. A
    ``kvp`` sets water's attenuation at the effective energy of the tube
    spectrum (:func:`~medaug.data.steps.factors.effective_energy_kev`), and
    a ``kernel`` sets the FBP filter of the kernel profile. NOTE: ``kvp``
    does not change the tube output per mAs; only the attenuation changes
    with it.
    """

    type: Literal["ct"] = "ct"
    image_field: str = "image"
    beam: Literal["parallel", "fan"] = "parallel"
    views: int = pydantic.Field(360, ge=2, le=4096)
    detectors: int | None = pydantic.Field(None, ge=2)
    detector_spacing_mm: float | None = pydantic.Field(None, gt=0)
    source_to_isocenter_mm: float = pydantic.Field(595.0, gt=0)
    source_to_detector_mm: float = pydantic.Field(1085.6, gt=0)
    mu_water_per_cm: float = pydantic.Field(0.195, gt=0)
    i0: float = pydantic.Field(2e5, gt=0)
    dose_fraction: float | tuple[float, float] = 0.25
    electronic_noise_std: float = pydantic.Field(0.0, ge=0)
    filter: Literal["ramp", "shepp-logan", "cosine", "hann"] = "ramp"
    reference_mas: float | None = pydantic.Field(None, gt=0)
    reference_ctdivol_mgy: float | None = pydantic.Field(None, gt=0)
    replace_image: bool = False
    keep_sinogram: bool = True
    keep_reference: bool = True
    use_factors: bool = True

    @pydantic.field_validator("dose_fraction")
    @classmethod
    def _check_dose(cls, value: float | tuple[float, float]) -> float | tuple[float, float]:
        values = value if isinstance(value, tuple) else (value,)
        if any(not (0 < v <= 1) for v in values):
            raise ValueError(f"`dose_fraction` must lie in (0, 1], got {value}")
        if isinstance(value, tuple) and value[0] > value[1]:
            raise ValueError(f"`dose_fraction` range must be [low, high] with low <= high, got {list(value)}")
        return value

    @pydantic.model_validator(mode="after")
    def _check_fan(self) -> CTSimulation:
        if self.beam == "fan" and self.source_to_detector_mm <= self.source_to_isocenter_mm:
            raise ValueError("`source_to_detector_mm` must exceed `source_to_isocenter_mm` for a fan beam")
        return self

    def output_spec(self, spec: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        image = spec.get(self.image_field)
        if image is None or image.kind != "Image":
            raise SpecError(f"needs an Image field {self.image_field!r} in HU; the pipeline has "
                            f"{', '.join(sorted(spec))}", key="image_field")
        shape = image.spatial_shape
        if shape is not None and self.detectors is not None and self.detector_spacing_mm is None:
            if self.detectors < max(shape[-2:]):
                raise SpecError(f"{self.detectors} detectors cannot cover an image of {list(shape[-2:])} pixels "
                                "at the pixel spacing; raise `detectors` or set `detector_spacing_mm`", key="detectors")
        out = dict(spec)
        out[self.image_field if self.replace_image else "low_dose"] = FieldSpec("Image", 1, shape)
        if self.keep_reference:
            out["reference"] = FieldSpec("Image", 1, shape)
        if self.keep_sinogram:
            out["sinogram"] = FieldSpec("Sinogram", 1, None)
        return out

    def check_sampling(self, sampling: Any, path: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], str]]:
        """Return ``(key path, message)`` for each sampled dose factor that lacks its reference value."""
        if not self.use_factors:
            return []
        issues = []
        for factor, option in (("mas", "reference_mas"), ("ctdivol_mgy", "reference_ctdivol_mgy")):
            if factor in sampling.factors and getattr(self, option) is None:
                issues.append(((*path, option), f"is required when the sampling draws `{factor}`: "
                                                f"the {factor} at which `i0` photons reach the detector"))
        return issues

    def build(self, context: BuildContext) -> Any:
        return self.simulate

    def _geometry(self, plane: tuple[int, int], spacing: tuple[float, float]) -> Any:
        from medaug.physics.ct import FanBeamGeometry, ParallelBeamGeometry, uniform_angles

        pitch = self.detector_spacing_mm or min(spacing)
        diagonal_mm = float(np.hypot(plane[0] * spacing[0], plane[1] * spacing[1]))
        detectors = self.detectors or int(np.ceil(diagonal_mm / pitch)) + 2
        if self.beam == "parallel":
            return ParallelBeamGeometry(uniform_angles(self.views, arc_deg=180.0), detectors, pitch)
        magnification = self.source_to_detector_mm / self.source_to_isocenter_mm
        return FanBeamGeometry(uniform_angles(self.views, arc_deg=360.0), detectors, pitch * magnification,
                               self.source_to_isocenter_mm, self.source_to_detector_mm)

    def simulate(self, sample: Sample, rng: np.random.Generator) -> Sample:
        """Scan ``sample[image_field]`` (HU); return the sample with the sinogram and FBP images."""
        import torch

        from medaug.core.seeding import torch_generator
        from medaug.physics.ct.lowdose import simulate_low_dose

        field = sample[self.image_field]
        if not isinstance(field, Image) or field.num_channels != 1:
            raise ValueError(f"the ct step needs a 1-channel Image {self.image_field!r} in HU, got {field!r}")
        hounsfield = field.data[0].to(torch.float32)
        plane = tuple(hounsfield.shape[-2:])
        spacing = tuple(float(s) for s in field.geometries[0].spacing[-2:])
        geometry = self._geometry(plane, spacing)
        factors = (sample.metadata.get("factors") or {}) if self.use_factors else {}
        dose, i0 = self._dose(factors, rng)
        mu_water, filter_name = self._beam(factors)
        result = simulate_low_dose(
            hounsfield, dose_fraction=dose, generator=torch_generator(rng), spacing_mm=spacing,
            full_dose_i0=i0, electronic_noise_std=self.electronic_noise_std, geometry=geometry,
            filter=filter_name, mu_water_per_cm=mu_water, reference=self.keep_reference,
        )

        sinogram = result.line_integrals.to(torch.float32)
        sinogram = sinogram if sinogram.ndim == 3 else sinogram[None]  # slices of a volume become channels
        fields = {
            "sinogram": Sinogram(sinogram, angles_deg=torch.tensor(geometry.angles_deg),
                                 detector_spacing_mm=geometry.detector_spacing_mm, geometry=field.geometry),
            "low_dose": Image(result.hounsfield.to(torch.float32)[None], geometry=field.geometry),
        }
        if self.keep_reference:
            fields["reference"] = Image(result.reference_hounsfield.to(torch.float32)[None], geometry=field.geometry)
        if self.replace_image:
            fields[self.image_field] = fields.pop("low_dose")
        if not self.keep_sinogram:
            del fields["sinogram"]
        parameters = {"beam": self.beam, "views": self.views, "detectors": geometry.n_detectors,
                      "i0": i0, "dose_fraction": dose, "filter": filter_name, "mu_water_per_cm": mu_water,
                      "starved_rays": result.report.starved_rays, "floored_pixels": result.floored_pixels}
        return sample.replace(fields, record=TransformRecord("ct", parameters))

    def _dose(self, factors: dict[str, Any], rng: np.random.Generator) -> tuple[float, float]:
        """Return the dose fraction and the full-dose photons per element and view."""
        if "mas" in factors and self.reference_mas is not None:
            return 1.0, self.i0 * float(factors["mas"]) / self.reference_mas
        if "ctdivol_mgy" in factors and self.reference_ctdivol_mgy is not None:
            return 1.0, self.i0 * float(factors["ctdivol_mgy"]) / self.reference_ctdivol_mgy
        dose = factors.get("dose_fraction", self.dose_fraction)
        if isinstance(dose, (tuple, list)):
            return float(np.exp(rng.uniform(np.log(dose[0]), np.log(dose[1])))), self.i0
        return float(dose), self.i0

    def _beam(self, factors: dict[str, Any]) -> tuple[float, str]:
        """Return water's attenuation (1/cm) and the FBP filter, after the ``kvp`` and ``kernel`` factors."""
        from medaug.data.steps import factors as factor_rules

        mu_water = self.mu_water_per_cm
        if "kvp" in factors:
            mu_water = factor_rules.mu_water_per_cm(factor_rules.effective_energy_kev(float(factors["kvp"])))
        filter_name = self.filter
        if "kernel" in factors:
            from medaug.data.profiles import load_profile_library

            filter_name = factor_rules.kernel_filter(str(factors["kernel"]), load_profile_library().ct.kernels)
        return mu_water, filter_name
