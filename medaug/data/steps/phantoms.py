"""The ``phantom`` source: analytic and procedural phantoms rasterised with a contrast.

Wraps :mod:`medaug.phantoms`. ``generator`` picks the anatomy:
``shepp_logan`` (fixed, ``variant``), ``random_ellipses`` or
``procedural_head`` (drawn from the sample's generator; ``options`` are
passed to the generator function). Shepp-Logan and random ellipses are
scaled to fill 95 % and 90 % of the field of view unless ``options`` sets
``scale_mm`` or ``radius_mm``. ``contrast`` picks the image:

* ``values``: the phantom's own values, rasterised with partial volume;
* ``hounsfield``: CT numbers at ``energy_kev`` from the tissue table;
* ``spin_echo`` / ``gradient_echo`` / ``inversion_recovery``: MR signal
  from the tissue table's proton density, T1, T2 and T2* at
  ``field_strength_t``, with ``tr_ms``, ``te_ms`` (and ``flip_angle_deg``,
  ``ti_ms``);
* ``none``: the label map only (for label-to-image synthesis).

Phantoms with tissue classes also give ``label`` (the phantom's label
numbers). The tissue fractions of the grid are rasterised once per sample
and give the label map and the tissue-based image both.

With ``use_factors`` (the default), sampled factors change the phantom
(:mod:`medaug.data.steps.factors`): ``field_strength_t``; ``contrast``,
``tr_ms``, ``te_ms``, ``ti_ms`` and ``flip_deg``; ``kvp`` (the energy of
the Hounsfield image); head size, ``cortical_thickness_mm``,
``ventricle_scale``, ``sulcal_csf_mm``, ``csf_thickness_mm`` and the
lesion factors (procedural heads); and
``water_equivalent_diameter_mm`` (the size of the ellipse phantoms).

``anatomies: N`` draws each sample's anatomy from a pool of N phantoms
instead of drawing a new one. Phantom k of the pool depends only on the
set seed and k, is drawn and rasterised the first time a process needs it
and is then kept in memory. Each sample picks one with its own generator;
the contrast, the sampled protocol factors, the simulation and the
augmentation still change per sample. The drawing and the rasterisation,
most of the cost of a sample, then happen once per anatomy and process.
The price is N distinct anatomies, so use a pool for training on the fly
and leave it out for a benchmark set whose anatomies should all differ.
Sampled factors that change the anatomy (region, age, lesion load and the
sizes they derive) are rejected with a pool.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pydantic

from medaug.core.sample import Sample
from medaug.data.registry import BuildContext, FieldSpec, SpecError, StepConfig, register_step
from medaug.data.steps import factors as factor_rules
from medaug.data.steps.sources import GridShape

__all__ = ["PhantomSource", "ContrastOptions", "AnatomyPool"]

_MR_CONTRASTS = ("spin_echo", "gradient_echo", "inversion_recovery")

# Sampled factors that change the drawn anatomy, so that a pool of anatomies cannot honour them.
_ANATOMY_FACTORS = ("region", "age_years", "lesion_load", "head_breadth_mm", "head_length_mm",
                    "cortical_thickness_mm", "ventricle_scale", "sulcal_csf_mm", "csf_thickness_mm",
                    "lesion_count", "lesion_diameters_mm", "water_equivalent_diameter_mm")

# Largest pool a process may hold (tissue fractions, float32).
_POOL_LIMIT_BYTES = 2 * 1024**3

# Spawn-key tag of pool anatomies: their keys (tag, k) have two entries, those of samples'
# stages three or five (medaug.data.pipeline), so the streams never coincide.
_POOL_TAG = 0x504F4F4C  # "POOL"


class ContrastOptions(pydantic.BaseModel):
    """Image contrast of the phantom (see the module docstring); times in ms, angle in degrees."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    type: Literal["values", "hounsfield", "spin_echo", "gradient_echo", "inversion_recovery", "none"] = "values"
    energy_kev: float = pydantic.Field(70.0, ge=10.0, le=200.0)
    field_strength_t: float = pydantic.Field(3.0, gt=0.0)
    tr_ms: float = pydantic.Field(500.0, gt=0.0)
    te_ms: float = pydantic.Field(15.0, ge=0.0)
    ti_ms: float | None = pydantic.Field(None, ge=0.0)
    flip_angle_deg: float = pydantic.Field(15.0, gt=0.0, le=180.0)

    @pydantic.model_validator(mode="after")
    def _check_timing(self) -> ContrastOptions:
        if self.type in _MR_CONTRASTS and self.te_ms > self.tr_ms:
            raise ValueError(f"`te_ms` must not exceed `tr_ms`, got te_ms={self.te_ms:g} and tr_ms={self.tr_ms:g}")
        if self.type == "inversion_recovery" and (self.ti_ms is None or self.ti_ms >= self.tr_ms):
            raise ValueError(f"`ti_ms` must be given and below `tr_ms` for inversion recovery, got {self.ti_ms}")
        return self


@register_step("source", "phantom")
class PhantomSource(StepConfig):
    """Options of the phantom source: ``generator``, grid ``shape`` (voxels) and ``fov_mm``."""

    type: Literal["phantom"] = "phantom"
    generator: Literal["shepp_logan", "random_ellipses", "procedural_head"] = "procedural_head"
    variant: str = "modified_2d"
    shape: GridShape = (128, 128)
    fov_mm: float | tuple[float, ...] = 220.0
    supersample: int = pydantic.Field(2, ge=1, le=8)
    contrast: ContrastOptions = ContrastOptions()
    options: dict[str, Any] = {}
    use_factors: bool = True
    anatomies: int | None = pydantic.Field(None, ge=1)

    @pydantic.field_validator("fov_mm")
    @classmethod
    def _check_fov(cls, value: float | tuple[float, ...], info: pydantic.ValidationInfo) -> float | tuple[float, ...]:
        values = value if isinstance(value, tuple) else (value,)
        shape = info.data.get("shape")
        if shape is not None and len(values) not in (1, len(shape)):
            raise ValueError(f"`fov_mm` must have 1 or {len(shape)} values (one per axis of `shape`), "
                             f"got {list(values)}")
        if any(not (np.isfinite(v) and v > 0) for v in values):
            shown = list(values) if isinstance(value, tuple) else f"{value:g}"
            raise ValueError(f"`fov_mm` must be finite and > 0 mm, got {shown}")
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
        if self.contrast.type in _MR_CONTRASTS:
            missing = factor_rules.missing_relaxation_times(self._labels(), self.contrast.field_strength_t)
            if missing:
                raise SpecError(_missing_message(self.contrast.field_strength_t, missing),
                                key=("contrast", "field_strength_t"))
        shape = tuple(self.shape)
        if self.anatomies is not None:
            tissues = len(self._labels())
            pool_bytes = self.anatomies * tissues * math.prod(shape) * 4
            if pool_bytes > _POOL_LIMIT_BYTES:
                raise SpecError(f"a pool of {self.anatomies} anatomies of {tissues} tissues on a "
                                f"{list(shape)} grid needs {pool_bytes / 1024**3:.1f} GiB per process, more than "
                                f"{_POOL_LIMIT_BYTES / 1024**3:.0f} GiB; use fewer anatomies or a smaller grid",
                                key="anatomies")
        out = {"label": FieldSpec("LabelMap", 1, shape)}
        if self.contrast.type != "none":
            out["image"] = FieldSpec("Image", 1, shape)
        return out

    def check_sampling(self, sampling: Any, path: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], str]]:
        """Return ``(key path, message)`` for each sampled factor this source cannot honour."""
        if not self.use_factors:
            return []
        issues = _sampling_issues(self, sampling)
        if self.anatomies is not None:
            issues.extend(_pool_issues(self, sampling))
        return issues

    def build(self, context: BuildContext) -> Any:
        return self.make if self.anatomies is None else AnatomyPool(self, context.seed)

    def _labels(self) -> tuple[str, ...]:
        """Return the label names of the generator's phantoms (the same for every draw)."""
        return _generator_labels(self.generator, self.variant, len(self.shape))

    def _phantom(self, rng: np.random.Generator, factors: Mapping[str, Any]) -> Any:
        import medaug.phantoms as phantoms

        half_fov_mm = float(np.min(self.fov_mm)) / 2.0
        radius = factor_rules.object_radius_mm(factors)
        if self.generator == "shepp_logan":
            scale = 0.95 * half_fov_mm if radius is None else radius
            return phantoms.shepp_logan(self.variant, **{"scale_mm": scale, **self.options})
        if self.generator == "random_ellipses":
            options = {"radius_mm": 0.9 * half_fov_mm if radius is None else radius, **self.options}
            return phantoms.random_ellipses(rng, ndim=len(self.shape), **options)
        options = dict(self.options)
        if "field_strength_t" in factors:
            options["field_strength_t"] = float(factors["field_strength_t"])
        base = options.pop("parameters", None) or phantoms.HeadParameters()
        if isinstance(base, dict):
            # YAML gives the anatomy as a mapping of HeadParameters fields; lists become tuples.
            base = phantoms.HeadParameters(**{k: tuple(v) if isinstance(v, list) else v for k, v in base.items()})
        options["parameters"] = factor_rules.head_parameters(factors, base)
        return phantoms.procedural_head(rng, ndim=len(self.shape), **options)

    def make(self, rng: np.random.Generator, index: int, factors: Any = None) -> Sample:
        """Draw phantom ``index`` and rasterise its label map and image."""
        factors = dict(factors or {}) if self.use_factors else {}
        anatomy = self.rasterize_anatomy(self._phantom(rng, factors))
        return self.image_sample(anatomy, factors, {"type": "phantom", "generator": self.generator, "index": index})

    def rasterize_anatomy(self, phantom: Any) -> tuple[Any, Any, Any]:
        """Return ``(phantom, fractions, label)``: its tissue fractions and dominant labels on the grid.

        Both are None for a phantom without tissue classes.
        """
        from medaug.data.steps.phantom_images import dominant_label

        if not any(tissue is not None for tissue in phantom.tissues):
            return phantom, None, None
        fractions = phantom.tissue_fractions(self.shape, self.fov_mm, supersample=self.supersample)
        return phantom, fractions, dominant_label(fractions)

    def image_sample(self, anatomy: tuple[Any, Any, Any], factors: Mapping[str, Any],
                     metadata: dict[str, Any]) -> Sample:
        """Return the sample of a rasterised anatomy: its label map and the contrast's image."""
        from medaug.data.steps.phantom_images import label_from_fractions, phantom_image

        phantom, fractions, label = anatomy
        fields: dict[str, Any] = {}
        if fractions is not None:
            fields["label"] = label_from_fractions(fractions, label)
        image = phantom_image(self, phantom, fractions, factors, label)
        if image is not None:
            fields["image"] = image
        return Sample(fields, metadata={"source": metadata})


class AnatomyPool:
    """The ``phantom`` source with ``anatomies`` set: samples share a pool of rasterised anatomies.

    Anatomy ``k`` is drawn from ``SeedSequence(seed, spawn_key=(POOL, k))``
    without sampled factors, so it is the same in every process. Each
    process rasterises it on first use and keeps it. Pickling drops the
    kept anatomies, so DataLoader workers and Dask tasks start light.

    Parameters
    ----------
    source : PhantomSource
        Options of the source; ``source.anatomies`` is the pool size.
    seed : int
        Set seed (>= 0).
    """

    def __init__(self, source: PhantomSource, seed: int) -> None:
        if source.anatomies is None:
            raise ValueError("`source.anatomies` must be set for an anatomy pool, got None")
        self.source = source
        self.seed = int(seed)
        self._kept: dict[int, tuple[Any, Any, Any]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"source": self.source, "seed": self.seed}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["source"], state["seed"])  # type: ignore[misc]

    def anatomy(self, k: int) -> tuple[Any, Any, Any]:
        """Return ``(phantom, fractions, label)`` of pool anatomy ``k``, rasterising it on first use."""
        if k not in self._kept:
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(_POOL_TAG, k)))
            self._kept[k] = self.source.rasterize_anatomy(self.source._phantom(rng, {}))
        return self._kept[k]

    def fill(self) -> None:
        """Draw and rasterise every anatomy of the pool now (before forking DataLoader workers)."""
        for k in range(self.source.anatomies):
            self.anatomy(k)

    def __call__(self, rng: np.random.Generator, index: int, factors: Any = None) -> Sample:
        """Make the source sample of ``index``: a pool anatomy picked by ``rng`` in the sample's contrast."""
        source = self.source
        k = int(rng.integers(source.anatomies))
        factors = dict(factors or {}) if source.use_factors else {}
        metadata = {"type": "phantom", "generator": source.generator, "index": index, "anatomy": k}
        return source.image_sample(self.anatomy(k), factors, metadata)


def _missing_message(field_strength_t: float, missing: list[str]) -> str:
    return (f"the tissue table has no {', '.join(missing)} at {field_strength_t:g} T, which the phantom's "
            "tissues need for an MR contrast; choose another field strength or contrast `none`")


@functools.lru_cache(maxsize=16)
def _generator_labels(generator: str, variant: str, ndim: int) -> tuple[str, ...]:
    import medaug.phantoms as phantoms

    if generator == "shepp_logan":
        return tuple(phantoms.shepp_logan(variant).labels)
    if generator == "random_ellipses":
        return tuple(phantoms.random_ellipses(np.random.default_rng(0), ndim=ndim).labels)
    return tuple(phantoms.procedural_head(np.random.default_rng(0), ndim=ndim).labels)


def _sampling_issues(source: PhantomSource, sampling: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Find sampled factors that the source cannot honour, each with its YAML key path."""
    factors = sampling.factors
    issues: list[tuple[tuple[str | int, ...], str]] = []
    mr_image = source.contrast.type in _MR_CONTRASTS
    field_spec = factors.get("field_strength_t")
    if field_spec is not None and mr_image:
        for position, field in enumerate(field_spec.choices or ()):
            missing = factor_rules.missing_relaxation_times(source._labels(), float(field))
            if missing:
                issues.append((("sampling", "factors", "field_strength_t", "choices", position),
                               _missing_message(float(field), missing)))
    if "contrast" in factors and source.contrast.type not in (*_MR_CONTRASTS, "none"):
        issues.append((("source", "contrast", "type"),
                       f"a sampled `contrast` needs an MR contrast (spin_echo, gradient_echo, inversion_recovery) "
                       f"or none, got {source.contrast.type!r}"))
    region = factors.get("region")
    if region is not None and source.generator == "procedural_head" and "body" in (region.choices or ()):
        issues.append((("sampling", "factors", "region", "choices"),
                       "region 'body' draws a body size, which a procedural head cannot take; "
                       "use generator random_ellipses or region head"))
    if region is not None:
        issues.extend(_size_issues(source, sampling))
    return issues


def _pool_issues(source: PhantomSource, sampling: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Find sampled factors that a pool of anatomies cannot honour, each with its YAML key path."""
    issues = [(("sampling", "factors", name),
               f"factor {name!r} changes the anatomy, which a pool of anatomies (`source.anatomies`) draws "
               "once; remove the factor or `anatomies`") for name in sampling.factors if name in _ANATOMY_FACTORS]
    if "field_strength_t" in sampling.factors and source.contrast.type == "values":
        issues.append((("sampling", "factors", "field_strength_t"),
                       "contrast 'values' of a pool anatomy is fixed when it is drawn, so a sampled "
                       "`field_strength_t` cannot change it; use an MR contrast or remove `anatomies`"))
    return issues


def _size_issues(source: PhantomSource, sampling: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Check that the largest head or body the population table can draw fits the field of view."""
    population = sampling.library().population
    largest = 0.0
    for region in sampling.factors["region"].choices or ():
        if region == "head":
            for sex in ("male", "female"):
                length = population["head"][sex]["head_length_mm"]
                largest = max(largest, length["mean"] + 3 * length["sd"])
        else:
            largest = max(largest, population["water_equivalent_diameter_mm"]["body"][1])
    fov = float(np.min(source.fov_mm))
    if largest > fov:
        return [(("source", "fov_mm"), f"must cover the largest sampled head or body, {largest:.0f} mm, got {fov:g} mm")]
    return []
