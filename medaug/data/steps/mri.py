"""The ``mri`` simulation step: coils, k-space sampling mask and thermal noise.

Wraps :mod:`medaug.physics.mri`: birdcage coil maps normalised to a root
sum of squares of 1, the Cartesian operator ``y = M F S x``
(:class:`~medaug.physics.mri.operators.MRIAcquisition`), a sampling mask and
complex Gaussian k-space noise set from an SNR. A 3-D image ``(D, H, W)``
is acquired slice by slice (2-D FFT over ``(H, W)``), as in multi-slice
imaging. The step adds ``kspace`` (KSpace, with its mask) and
``reconstruction``: the root sum of squares of the fully sampled coil images,
noise-free by default, the reference a reconstruction is scored against
(``reference: none`` leaves it out, for pipelines that do not output it).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Literal

import numpy as np
import pydantic

from medaug.core.fields import Image, KSpace
from medaug.core.sample import Sample, TransformRecord
from medaug.data.registry import BuildContext, FieldSpec, SpecError, StepConfig, register_step
from medaug.data.yaml_lines import format_path

__all__ = ["MRISimulation", "MaskOptions", "NoiseOptions"]


class MaskOptions(pydantic.BaseModel):
    """Sampling mask: ``type`` (pattern), ``acceleration`` (> 1) and ``center_fraction``."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    type: Literal["poisson_disc", "random_2d", "random_lines", "equispaced_lines", "gaussian_lines"] = "poisson_disc"
    acceleration: float = pydantic.Field(4.0, gt=1.0)
    center_fraction: float = pydantic.Field(0.08, ge=0.0, lt=1.0)
    tolerance: float = pydantic.Field(0.05, ge=0.0, lt=1.0)


class NoiseOptions(pydantic.BaseModel):
    """Thermal noise: give ``snr`` (mean signal over noise standard deviation) or ``sigma``.

    ``snr`` is the SNR at ``reference_field_strength_t`` (T). A sampled
    ``field_strength_t`` factor scales it by ``(B0 / B_ref) ** field_exponent``
    (:func:`medaug.data.profiles.relative_snr`; exponent 1 at clinical
    fields), and ``sigma`` by the inverse.
    """

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    snr: float | tuple[float, float] | None = None
    sigma: float | None = pydantic.Field(None, ge=0.0)
    definition: Literal["mean", "peak", "rms"] = "mean"
    reference_field_strength_t: float = pydantic.Field(3.0, gt=0.0)
    field_exponent: float = pydantic.Field(1.0, ge=0.0)

    @pydantic.model_validator(mode="after")
    def _one_of(self) -> NoiseOptions:
        if (self.snr is None) == (self.sigma is None):
            raise ValueError("give exactly one of `snr` or `sigma`")
        values = self.snr if isinstance(self.snr, tuple) else (self.snr,) if self.snr is not None else ()
        if any(not (v > 0) for v in values):
            raise ValueError(f"`snr` must be > 0, got {self.snr}")
        if isinstance(self.snr, tuple) and self.snr[0] > self.snr[1]:
            raise ValueError(f"`snr` range must be [low, high] with low <= high, got {list(self.snr)}")
        return self


@register_step("simulation", "mri")
class MRISimulation(StepConfig):
    """Options of the multi-coil Cartesian MRI acquisition.

    ``coils`` birdcage receive coils on a circle of ``coil_radius`` (1 =
    half the field of view); ``mask`` and ``noise`` as in
    :class:`MaskOptions` and :class:`NoiseOptions` (an ``snr`` range
    ``[low, high]`` draws the SNR per sample, log-uniformly). With
    ``use_factors``, the sampling factors ``coil_channels``,
    ``acceleration`` and ``snr`` override the options when present, and
    ``field_strength_t`` scales the noise (see :class:`NoiseOptions`). The
    SNR cost of undersampling needs no factor: fewer k-space samples carry
    the same noise per sample. With
    ``replace_image``, the image field becomes the acquired image, the root
    sum of squares of the zero-filled, noisy coil images, so a model trains
    on what the scanner returns. ``keep_kspace: false`` drops the k-space
    afterwards, so spatial augmentation can follow.
    """

    type: Literal["mri"] = "mri"
    image_field: str = "image"
    coils: int = pydantic.Field(8, ge=1, le=128)
    coil_radius: float = pydantic.Field(1.5, gt=0.0)
    mask: MaskOptions | None = MaskOptions()
    noise: NoiseOptions | None = None
    reference: Literal["clean", "noisy", "none"] = "clean"
    replace_image: bool = False
    keep_kspace: bool = True
    use_factors: bool = True

    def output_spec(self, spec: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        image = spec.get(self.image_field)
        if image is None or image.kind != "Image":
            raise SpecError(f"needs an Image field {self.image_field!r}; the pipeline has {', '.join(sorted(spec))}",
                            key="image_field")
        shape = image.spatial_shape
        if shape is not None and self.mask is not None and self.mask.type.endswith("_lines") and shape[-1] < 2:
            raise SpecError(f"line masks need >= 2 phase-encoding columns, got shape {list(shape)}", key="mask")
        if shape is not None and self.mask is not None:
            problem = _mask_problem(tuple(shape[-2:]), self.mask, self.mask.acceleration)
            if problem is not None:
                raise SpecError(problem, key=("mask", "acceleration"))
        out = dict(spec)
        if self.reference != "none":
            out["reconstruction"] = FieldSpec("Image", 1, shape)
        if self.keep_kspace:
            out["kspace"] = FieldSpec("KSpace", self.coils, shape)
        return out

    def check_sampling(
        self, sampling: Any, path: tuple[str | int, ...], *, spec: dict[str, FieldSpec] | None = None
    ) -> list[tuple[tuple[str | int, ...], str]]:
        """Return ``(key path, message)`` for each sampled acceleration that the mask cannot reach.

        Checks every value of ``choices`` and the ends of a ``range`` or of
        each band (every whole number of small integer ranges), because the
        calibration region limits the largest acceleration.
        """
        factor = sampling.factors.get("acceleration")
        image = (spec or {}).get(self.image_field)
        if not self.use_factors or self.mask is None or factor is None or image is None or image.spatial_shape is None:
            return []
        plane = tuple(image.spatial_shape[-2:])
        issues = []
        for key, value in _acceleration_values(factor):
            problem = _mask_problem(plane, self.mask, value, "the sampled `acceleration`")
            if problem is not None:
                issues.append((("sampling", "factors", "acceleration", *key), f"{problem} (step `{format_path(path)}`)"))
        return issues

    def build(self, context: BuildContext) -> Any:
        return self.simulate

    def simulate(self, sample: Sample, rng: np.random.Generator) -> Sample:
        """Acquire ``sample[image_field]``; return the sample with ``kspace`` and ``reconstruction``."""
        import torch

        from medaug.physics.mri.noise import add_kspace_noise, sigma_from_snr
        from medaug.physics.mri.reconstruction import root_sum_of_squares, zero_filled

        field = sample[self.image_field]
        if not isinstance(field, Image) or field.num_channels != 1:
            raise ValueError(f"the mri step needs a 1-channel Image {self.image_field!r}, got {field!r}")
        image = field.data[0].to(torch.complex64)  # (H, W) or (D, H, W)
        plane = tuple(image.shape[-2:])
        factors = (sample.metadata.get("factors") or {}) if self.use_factors else {}
        coils = int(factors.get("coil_channels", self.coils))

        operator, maps_rss = _acquisition(plane, coils, self.coil_radius)
        mask, mask_info = self._mask(plane, factors, rng)
        full = operator(image)  # (C, H, W) or (D, C, H, W)
        kspace = full * mask if mask is not None else full
        # The magnitude serves both the SNR and the clean reference. Taking it from the field
        # itself skips the complex cast, whose abs() would take a hypot per voxel; integer
        # images are promoted first, so abs() cannot overflow.
        magnitude = field.data[0].to(torch.promote_types(field.data.dtype, torch.float32)).abs()
        sigma, snr = self._sigma(magnitude, factors, rng, sigma_from_snr)
        if sigma > 0:
            kspace = add_kspace_noise(kspace, sigma, generator=rng, mask=mask)
        geometry = field.geometry
        fields = {}
        if self.reference == "clean":
            # The RSS of the fully sampled coil images S_c x is |x| RSS(S), so no inverse FFT is needed.
            reference = magnitude * maps_rss
        elif self.reference == "noisy":
            reference = root_sum_of_squares(zero_filled(add_kspace_noise(full, sigma, generator=rng)), coil_axis=-3)
        if self.reference != "none":
            fields["reconstruction"] = Image(reference.to(torch.float32)[None], geometry=geometry)
        if image.ndim == 3:
            kspace = kspace.movedim(1, 0)  # (C, D, H, W)
        if self.replace_image:
            acquired = root_sum_of_squares(zero_filled(kspace.movedim(0, 1) if image.ndim == 3 else kspace), coil_axis=-3)
            fields[self.image_field] = Image(acquired.to(torch.float32)[None], geometry=geometry)
        if self.keep_kspace:
            fields["kspace"] = KSpace(kspace.contiguous(), geometry=geometry, mask=mask)
        parameters = {"coils": coils, "sigma": sigma, "snr": snr, **mask_info}
        if "field_strength_t" in factors and self.noise is not None:
            parameters["field_strength_t"] = float(factors["field_strength_t"])
        updated = sample.replace(fields, record=TransformRecord("mri", parameters))
        return updated if self.keep_kspace or "kspace" not in updated else updated.without("kspace")

    def _mask(self, plane: tuple[int, int], factors: dict[str, Any], rng: np.random.Generator) -> tuple[Any, dict[str, Any]]:
        if self.mask is None:
            return None, {"mask": None}
        options = self.mask
        acceleration = float(factors.get("acceleration", options.acceleration))
        try:
            drawn = _draw_mask(plane, options, acceleration, rng)
        except ValueError as error:
            sampled = "acceleration" in factors
            name = "the sampled `acceleration`" if sampled else "`mask.acceleration`"
            message = _mask_message(plane, options, acceleration, error, name)
            raise SpecError(message, key=() if sampled else ("mask", "acceleration")) from error
        info = {"mask": options.type, "acceleration": float(drawn.acceleration),
                "requested_acceleration": acceleration}
        return drawn.mask, info

    def _sigma(self, image: Any, factors: dict[str, Any], rng: np.random.Generator, sigma_from_snr: Any) -> tuple[float, float | None]:
        if self.noise is None:
            return 0.0, None
        scale = 1.0
        if "field_strength_t" in factors:
            from medaug.data.steps.factors import field_snr_scale

            scale = field_snr_scale(float(factors["field_strength_t"]), self.noise.reference_field_strength_t,
                                    field_exponent=self.noise.field_exponent)
        if self.noise.sigma is not None:
            return float(self.noise.sigma) / scale, None
        snr = factors.get("snr", self.noise.snr)
        if isinstance(snr, (tuple, list)):
            snr = float(math.exp(rng.uniform(math.log(snr[0]), math.log(snr[1]))))
        snr = float(snr) * scale
        return float(sigma_from_snr(image, snr, definition=self.noise.definition)), snr


def _draw_mask(plane: tuple[int, int], options: MaskOptions, acceleration: float, rng: np.random.Generator) -> Any:
    """Draw the ``options.type`` mask of ``plane`` (H, W) at ``acceleration``; line masks use the W lines."""
    from medaug.physics.mri import masks, poisson_disc_mask

    common = {"rng": rng, "center_fraction": options.center_fraction, "tolerance": options.tolerance}
    if options.type == "poisson_disc":
        return poisson_disc_mask(plane, acceleration, **common)
    if options.type == "random_2d":
        return masks.random_mask_2d(plane, acceleration, **common)
    function = {"random_lines": masks.random_line_mask, "equispaced_lines": masks.equispaced_line_mask,
                "gaussian_lines": masks.gaussian_line_mask}[options.type]
    return function(plane[-1], acceleration, **common)


def _mask_message(plane: tuple[int, int], options: MaskOptions, acceleration: float, error: ValueError,
                  name: str) -> str:
    """Explain a failed mask with the config keys that set it; ``name`` says where the acceleration came from."""
    from medaug.physics.mri.masks import AccelerationError

    if not acceleration > 1:
        return f"{name} must be > 1 for a {options.type} mask, got {acceleration:g}"
    grid = f"{plane[-1]} phase-encoding lines" if options.type.endswith("_lines") else f"the {plane[0]} x {plane[1]} plane"
    message = (f"{name} {acceleration:g} with `mask.center_fraction` {options.center_fraction:g} "
               f"cannot be sampled on {grid} ({options.type}): {error}")
    if not isinstance(error, AccelerationError):
        message += f"; lower {name} or `mask.center_fraction`"
    return message


@functools.lru_cache(maxsize=64)
def _mask_problem(plane: tuple[int, int], options: MaskOptions, acceleration: float,
                  name: str = "`mask.acceleration`") -> str | None:
    """Draw the mask once with a fixed generator; return why it cannot be drawn, or None.

    The checks that reject a request (the reachable point count, the
    calibration region) depend only on the grid and the options, never on
    the draw, so one draw finds them for every sample.
    """
    try:
        _draw_mask(plane, options, acceleration, np.random.default_rng(0))
    except ValueError as error:
        return _mask_message(plane, options, acceleration, error, name)
    return None


def _acceleration_values(factor: Any) -> list[tuple[tuple[str | int, ...], float]]:
    """List ``(key, value)`` for the accelerations of a sampling factor worth checking."""
    if factor.choices is not None:
        return [(("choices", i), float(v)) for i, v in enumerate(factor.choices) if isinstance(v, (int, float))]
    intervals = [(("range",), factor.range)] if factor.range is not None else []
    intervals += [(("bands", i), band) for i, band in enumerate(factor.bands or ())]
    values = []
    for key, (low, high) in intervals:
        if factor.integer and high - low <= 64:
            values += [(key, float(v)) for v in range(math.ceil(low), math.floor(high) + 1)]
        else:
            # A continuous draw never hits exactly 1, so the lower end counts only above it.
            values += [(key, float(v)) for v in ((low, high) if low > 1 else (high,))]
    return values


@functools.lru_cache(maxsize=16)
def _acquisition(plane: tuple[int, int], coils: int, radius: float) -> Any:
    """Return the operator ``F S`` of normalised birdcage maps and the maps' RSS over coils.

    Both depend only on the grid, so each process builds them once per grid.
    """
    import torch

    from medaug.physics.mri import birdcage_sensitivities, normalize_sensitivities
    from medaug.physics.mri.operators import MRIAcquisition

    maps = normalize_sensitivities(birdcage_sensitivities(plane, coils, radius=radius))
    return MRIAcquisition(maps), torch.sqrt(torch.sum(maps.abs() ** 2, dim=0))
