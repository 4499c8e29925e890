"""Sampling policies: domain randomisation and exact stratified sampling of acquisition factors.

The ``sampling:`` section of a pipeline config declares *factors* (field
strength, contrast, age, dose, ...) and how each varies::

    sampling:
      mode: stratified            # or: random
      profiles: {field_strengths_t: [1.5, 3.0]}
      factors:
        field_strength_t: {choices: [1.5, 3.0]}
        contrast: {choices: [t1_ir_gre, flair]}
        age_years: {bands: [[20, 40], [40, 60], [60, 90]]}
        acceleration: {range: [1, 3]}
      strata: [field_strength_t, contrast, age_years]
      counts: {per_stratum: 4}

A stratum is one combination of the levels (choices or bands) of the
``strata`` factors. In ``stratified`` mode, :func:`factors_for_index`
gives each stratum exactly its requested count: sample ``i`` of ``n``
goes to the stratum that contains position ``permute(i)``, where ``permute``
is a keyed pseudo-random permutation of ``0 .. n-1`` that depends only on
``(seed, n)``. The assignment is therefore a pure function of
``(seed, index, n)``, identical for any number of workers. Values inside a
stratum (a point within an age band) and the other factors are drawn from
the generator of ``SeedSequence(seed, spawn_key=(FACTOR_STREAM, index))``.

With ``derive: true`` (the default) the factors are completed from the
profiles: a contrast gets TR, TE, TI and flip angle drawn from its
published ranges, an age gets cortical thickness and ventricle size, a
lesion load gets lesion count and diameters, and a region gets head or
body size (:mod:`medaug.data.population`).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import numbers
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from medaug.data import population
from medaug.data.profiles import ProfileLibrary, ProfilesConfig

__all__ = [
    "FactorSpec",
    "StratumCounts",
    "SamplingConfig",
    "SamplingPolicy",
    "FACTOR_STREAM",
    "factors_for_index",
    "stratum_index",
    "stratum_levels",
    "stratum_label",
    "stratum_of",
    "permute_index",
]

#: First spawn-key entry of the factor streams ("FACT"), so that they never
#: coincide with a sample's main stream ``spawn_key=(i,)``.
FACTOR_STREAM = 0x46414354

Scalar = float | int | str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FactorSpec(_Strict):
    """Variation of one factor: exactly one of ``choices``, ``range`` or ``bands``.

    ``choices`` lists values (with optional ``weights`` for random mode);
    ``range`` is ``[min, max]`` drawn uniformly (``distribution:
    log_uniform`` draws its logarithm uniformly); ``bands`` are disjoint
    ``[min, max)`` intervals, each a stratum level, the last one closed.
    ``integer: true`` draws whole numbers from ranges and bands.
    """

    choices: tuple[Scalar, ...] | None = None
    weights: tuple[float, ...] | None = None
    range: tuple[float, float] | None = None
    distribution: Literal["uniform", "log_uniform"] = "uniform"
    bands: tuple[tuple[float, float], ...] | None = None
    integer: bool = False

    @field_validator("choices")
    @classmethod
    def _nonempty_choices(cls, value: tuple[Scalar, ...] | None) -> tuple[Scalar, ...] | None:
        if value is not None and not value:
            raise ValueError("must list at least one value, got []: an empty stratum request")
        if value is not None and len(set(value)) != len(value):
            raise ValueError(f"values must be distinct, got {list(value)}")
        return value

    @field_validator("range")
    @classmethod
    def _ordered_range(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not (math.isfinite(value[0]) and math.isfinite(value[1]) and value[0] <= value[1]):
            raise ValueError(f"must be [min, max] with finite min <= max, got {list(value)}")
        return value

    @field_validator("bands")
    @classmethod
    def _disjoint_bands(cls, value: tuple[tuple[float, float], ...] | None) -> Any:
        if value is None:
            return value
        if not value:
            raise ValueError("must list at least one band, got []: an empty stratum request")
        for low, high in value:
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ValueError(f"each band must be [min, max) with min < max, got [{low:g}, {high:g}]")
        ordered = sorted(value)
        for (low_a, high_a), (low_b, high_b) in itertools.pairwise(ordered):
            if low_b < high_a:
                raise ValueError(
                    f"bands [{low_a:g}, {high_a:g}] and [{low_b:g}, {high_b:g}] overlap; "
                    "bands must be disjoint (touching ends are allowed)"
                )
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> FactorSpec:
        given = [name for name in ("choices", "range", "bands") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of `choices`, `range` or `bands`, got {given or 'none'}")
        if self.weights is not None:
            if self.choices is None or len(self.weights) != len(self.choices):
                raise ValueError("`weights` needs `choices` of the same length")
            if any(not (w >= 0 and math.isfinite(w)) for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError(f"`weights` must be >= 0 with a positive sum, got {list(self.weights)}")
        if self.distribution == "log_uniform" and (self.range is None or self.range[0] <= 0):
            raise ValueError("`distribution: log_uniform` needs a `range` with min > 0")
        return self

    @property
    def levels(self) -> tuple[Any, ...] | None:
        """Stratum levels: the choices, or the bands sorted; None for a range."""
        if self.choices is not None:
            return self.choices
        if self.bands is not None:
            return tuple(sorted(self.bands))
        return None

    def numeric_bounds(self) -> tuple[float, float] | None:
        """Return the smallest and largest value the factor can take, or None for text choices."""
        if self.range is not None:
            return self.range
        if self.bands is not None:
            return (min(b[0] for b in self.bands), max(b[1] for b in self.bands))
        if all(isinstance(c, numbers.Real) and not isinstance(c, bool) for c in self.choices or ()):
            return (float(min(self.choices)), float(max(self.choices)))
        return None


class StratumCounts(_Strict):
    """Requested samples per stratum: ``per_stratum`` for all, ``overrides`` by stratum label."""

    per_stratum: int
    overrides: dict[str, int] = Field(default_factory=dict)

    @field_validator("per_stratum")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(
                f"must be >= 1, got {value}: a stratum with no samples is an empty stratum "
                "request; drop the level from the factor instead"
            )
        return value

    @field_validator("overrides")
    @classmethod
    def _positive_overrides(cls, value: dict[str, int]) -> dict[str, int]:
        for label, count in value.items():
            if count < 1:
                raise ValueError(
                    f"count of stratum {label!r} must be >= 1, got {count}: an empty stratum request"
                )
        return value


# Factors whose values must name entries of the profile library.
_PROFILE_CHOICES = {
    "field_strength_t": lambda lib: lib.field_strengths_t,
    "contrast": lambda lib: tuple(lib.mri.contrasts),
    "coil": lambda lib: tuple(lib.mri.coils),
    "kernel": lambda lib: tuple(lib.ct.kernels),
    "kvp": lambda lib: lib.ct.tube_voltage_kvp.values,
    "sex": lambda lib: ("male", "female"),
    "region": lambda lib: ("head", "body"),
    "lesion_load": lambda lib: tuple(lib.population["lesions"]["loads"]),
}
# Numeric factors and the smallest value they accept.
_LOWER_BOUNDS = {
    "acceleration": 1.0,
    "age_years": 0.0,
    "slice_thickness_mm": 1e-9,
    "mas": 1e-9,
    "ctdivol_mgy": 1e-9,
    "water_equivalent_diameter_mm": 1e-9,
}


def _check_factor(name: str, spec: FactorSpec, library: ProfileLibrary) -> None:
    """Raise ValueError naming ``factors.<name>.<key>`` when a value is unknown to the profiles."""
    if name in _PROFILE_CHOICES:
        known = _PROFILE_CHOICES[name](library)
        if spec.choices is None:
            raise ValueError(f"`factors.{name}` must use `choices` from {list(known)}")
        for index, value in enumerate(spec.choices):
            matched = any(
                (isinstance(value, numbers.Real) and isinstance(k, numbers.Real) and math.isclose(value, k, abs_tol=1e-6))
                or value == k
                for k in known
            )
            if not matched:
                raise ValueError(
                    f"`factors.{name}.choices[{index}]`: unknown {name} {value!r}; known: "
                    f"{', '.join(f'{k:g}' if isinstance(k, float) else str(k) for k in known)}"
                )
    if name in _LOWER_BOUNDS:
        bounds = spec.numeric_bounds()
        key = "choices"
        if spec.range is not None:
            key = "range"
        elif spec.bands is not None:
            key = "bands"
        if bounds is None or bounds[0] < _LOWER_BOUNDS[name]:
            raise ValueError(f"`factors.{name}.{key}` must be numbers >= {_LOWER_BOUNDS[name]:g}, got {bounds}")
    if name == "age_years":
        low, high = library.population["aging"]["age_range_years"]
        bounds = spec.numeric_bounds()
        if bounds[0] < low or bounds[1] > high:
            raise ValueError(f"`factors.age_years` must lie within [{low:g}, {high:g}] years, got {list(bounds)}")


class SamplingConfig(_Strict):
    """The ``sampling:`` section of a pipeline config (see the module docstring).

    Examples
    --------
    >>> config = SamplingConfig.model_validate({
    ...     "mode": "stratified",
    ...     "factors": {"field_strength_t": {"choices": [1.5, 3]}, "age_years": {"bands": [[20, 50], [50, 80]]}},
    ...     "strata": ["field_strength_t", "age_years"],
    ...     "counts": {"per_stratum": 2},
    ... })
    >>> config.total_count()
    8
    """

    profiles: ProfilesConfig = Field(default_factory=ProfilesConfig)
    mode: Literal["random", "stratified"] = "random"
    factors: dict[str, FactorSpec] = Field(default_factory=dict)
    strata: tuple[str, ...] = ()
    counts: StratumCounts | None = None
    derive: bool = True
    shuffle_seed: int = Field(0, ge=0)

    @field_validator("counts", mode="before")
    @classmethod
    def _counts_shorthand(cls, value: Any) -> Any:
        return {"per_stratum": value} if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("factors")
    @classmethod
    def _factors_known_to_profiles(cls, value: dict[str, FactorSpec], info: Any) -> dict[str, FactorSpec]:
        profiles = info.data.get("profiles")
        if profiles is None:  # the profiles section failed and reported its own error
            return value
        library = profiles.resolve()
        for name, spec in value.items():
            _check_factor(name, spec, library)
        return value

    @field_validator("strata")
    @classmethod
    def _strata_name_levels(cls, value: tuple[str, ...], info: Any) -> tuple[str, ...]:
        factors = info.data.get("factors")
        if factors is None:
            return value
        for index, name in enumerate(value):
            if name not in factors:
                raise ValueError(f"item {index}: {name!r} is not a declared factor; declared: {sorted(factors)}")
            if factors[name].levels is None:
                raise ValueError(
                    f"item {index}: factor {name!r} has a `range`; a stratum factor needs `choices` or `bands`"
                )
        if len(set(value)) != len(value):
            raise ValueError(f"factors must not repeat, got {list(value)}")
        return value

    @model_validator(mode="after")
    def _mode_needs(self) -> SamplingConfig:
        if self.mode == "stratified":
            if not self.strata:
                raise ValueError("`strata` must name at least one factor in stratified mode, got []")
            if self.counts is None:
                raise ValueError("`counts` is required in stratified mode, e.g. `counts: {per_stratum: 10}`")
            labels = set(stratum_levels(self))
            for label in self.counts.overrides:
                if label not in labels:
                    raise ValueError(
                        f"`counts.overrides` names unknown stratum {label!r}; strata are labelled like "
                        f"{next(iter(labels))!r}"
                    )
        elif self.counts is not None:
            raise ValueError("`counts` applies to stratified mode only; set `mode: stratified` or remove it")
        return self

    def library(self) -> ProfileLibrary:
        """Return the profile library as restricted by ``profiles``."""
        return self.profiles.resolve()

    def stratum_counts(self) -> dict[str, int]:
        """Return the requested count of every stratum, in stratum order (stratified mode)."""
        if self.counts is None:
            raise ValueError("stratum counts exist only in stratified mode")
        return {label: self.counts.overrides.get(label, self.counts.per_stratum) for label in stratum_levels(self)}

    def total_count(self) -> int:
        """Return the number of samples a stratified set must have."""
        return sum(self.stratum_counts().values())

    def draw(self, rng: np.random.Generator, index: int) -> dict[str, Any]:
        """Draw the factors of sample ``index`` from ``rng`` (the pipeline's per-sample stream).

        In stratified mode the stratum comes from :func:`stratum_index`
        keyed by ``shuffle_seed`` over :meth:`total_count` samples, so
        ``index`` must be below that count.
        """
        n_total = self.total_count() if self.mode == "stratified" else index + 1
        return _draw_factors(self, rng, index, n_total, self.shuffle_seed)


#: Alias: the sampling section is the sampling policy.
SamplingPolicy = SamplingConfig


def _format_level(level: Any) -> str:
    if isinstance(level, tuple):
        return f"{level[0]:g}-{level[1]:g}"
    if isinstance(level, float):
        return f"{level:g}"
    return str(level)


def stratum_label(names: tuple[str, ...], levels: tuple[Any, ...]) -> str:
    """Write a stratum as ``name=level|name=level`` (bands as ``min-max``).

    Examples
    --------
    >>> stratum_label(("field_strength_t", "age_years"), (3.0, (40.0, 60.0)))
    'field_strength_t=3|age_years=40-60'
    """
    return "|".join(f"{name}={_format_level(level)}" for name, level in zip(names, levels, strict=True))


def stratum_levels(config: SamplingConfig) -> list[str]:
    """Return the labels of all strata: the product of the levels of ``config.strata``."""
    level_lists = [config.factors[name].levels for name in config.strata]
    return [stratum_label(config.strata, combo) for combo in itertools.product(*level_lists)]


def stratum_of(config: SamplingConfig, factors: dict[str, Any]) -> str | None:
    """Return the label of the stratum that ``factors`` falls in, or None if it falls in none."""
    levels = []
    for name in config.strata:
        spec, value = config.factors[name], factors.get(name)
        if value is None:
            return None
        if spec.bands is not None:
            bands = sorted(spec.bands)
            inside = [b for i, b in enumerate(bands) if b[0] <= value < b[1] or (i == len(bands) - 1 and value == b[1])]
            if not inside:
                return None
            levels.append(inside[0])
        else:
            matches = [c for c in spec.choices if c == value or (_is_number(c) and _is_number(value) and math.isclose(c, value, abs_tol=1e-6))]
            if not matches:
                return None
            levels.append(matches[0])
    return stratum_label(config.strata, tuple(levels))


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_index(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {value}")
    return int(value)


def permute_index(index: int, n: int, seed: int) -> int:
    """Map ``index`` to its position under a keyed pseudo-random permutation of ``0 .. n-1``.

    A four-round Feistel network on the smallest even number of bits that
    covers ``n`` is a bijection of ``0 .. 2**bits - 1``; re-applying it to
    outputs of ``n`` or more (cycle walking) restricts it to a bijection of
    ``0 .. n-1``. Round keys are BLAKE2b hashes of ``seed``. Cost is O(1)
    per index (at most four walks on average), with no table of size n.

    Examples
    --------
    >>> sorted(permute_index(i, 10, seed=3) for i in range(10)) == list(range(10))
    True
    """
    n = _check_index("n", n, 1)
    index = _check_index("index", index, 0)
    seed = _check_index("seed", seed, 0)
    if index >= n:
        raise ValueError(f"`index` must be < n = {n}, got {index}")
    if n == 1:
        return 0

    bits = max(2, (n - 1).bit_length())
    bits += bits % 2
    half = bits // 2
    mask = (1 << half) - 1
    key = hashlib.blake2b(f"medaug-strata:{seed}".encode(), digest_size=16).digest()
    value = index
    while True:
        left, right = value >> half, value & mask
        for round_number in range(4):
            digest = hashlib.blake2b(
                right.to_bytes(8, "little") + bytes([round_number]), key=key, digest_size=8
            ).digest()
            left, right = right, left ^ (int.from_bytes(digest, "little") & mask)
        value = (left << half) | right
        if value < n:
            return value


def stratum_index(config: SamplingConfig, seed: int, index: int, n_total: int) -> int:
    """Return the position (in :func:`stratum_levels` order) of the stratum of sample ``index``.

    A pure function of ``(config, seed, index, n_total)``: stratum ``k``
    contains the permuted positions ``[c_0 + ... + c_{k-1}, c_0 + ... + c_k)``
    where ``c`` are the requested counts, so every stratum receives exactly
    its count over ``index = 0 .. n_total - 1``.
    """
    counts = list(config.stratum_counts().values())
    total = sum(counts)
    if n_total != total:
        raise ValueError(
            f"`n_total` must equal the sum of the stratum counts, {total}, got {n_total}; "
            "set the set size to SamplingConfig.total_count()"
        )
    position = permute_index(index, n_total, seed)
    return bisect.bisect_right(list(itertools.accumulate(counts)), position)


def _draw_value(spec: FactorSpec, rng: np.random.Generator, level: Any = None) -> Any:
    """Draw one value of a factor, inside ``level`` when the stratum fixes one."""
    if spec.choices is not None:
        if level is not None:
            return level
        if spec.weights is None:
            return spec.choices[int(rng.integers(len(spec.choices)))]
        weights = np.asarray(spec.weights, dtype=np.float64)
        return spec.choices[int(rng.choice(len(spec.choices), p=weights / weights.sum()))]
    if spec.bands is not None:
        bands = sorted(spec.bands)
        if level is None:
            widths = np.array([high - low for low, high in bands])
            level = bands[int(rng.choice(len(bands), p=widths / widths.sum()))]
        low, high = level
        if spec.integer:
            # Whole numbers in [low, high): a band [20, 40) contains 20 .. 39.
            return int(rng.integers(math.ceil(low), max(math.ceil(low) + 1, math.ceil(high))))
        return float(rng.uniform(low, high))
    low, high = spec.range
    if spec.integer:
        return int(rng.integers(math.ceil(low), math.floor(high) + 1))
    if spec.distribution == "log_uniform":
        return float(np.exp(rng.uniform(np.log(low), np.log(high))))
    return float(rng.uniform(low, high))


def _draw_factors(
    config: SamplingConfig, rng: np.random.Generator, index: int, n_total: int, seed: int
) -> dict[str, Any]:
    stratum_level: dict[str, Any] = {}
    if config.mode == "stratified":
        position = stratum_index(config, seed, index, n_total)
        level_lists = [config.factors[name].levels for name in config.strata]
        combo = list(itertools.product(*level_lists))[position]
        stratum_level = dict(zip(config.strata, combo, strict=True))

    factors: dict[str, Any] = {}
    for name, spec in config.factors.items():
        factors[name] = _draw_value(spec, rng, stratum_level.get(name))
    if config.derive:
        factors.update(_derive(factors, rng, config.library()))
    if config.strata:
        factors["stratum"] = stratum_of(config, factors)
    return factors


def _draw_protocol(contrast: str, declared: dict[str, Any], rng: np.random.Generator, library: ProfileLibrary) -> dict[str, Any]:
    """Draw TR, TE, TI, flip angle, resolution, slice thickness and acceleration of a contrast.

    The contrast's ``sequence`` (its signal equation) is added as well.
    """
    profile = library.mri.contrasts[contrast]
    keys = ["tr_ms", "te_ms", "ti_ms", "flip_deg", "resolution_mm", "slice_thickness_mm", "acceleration"]
    drawn: dict[str, Any] = {"sequence": profile.sequence}
    for key in keys:
        bounds = getattr(profile, key)
        if bounds is None or key in declared:
            continue
        drawn[key] = float(rng.uniform(*bounds))
    return drawn


def _derive(factors: dict[str, Any], rng: np.random.Generator, library: ProfileLibrary) -> dict[str, Any]:
    """Complete declared factors with the values the profiles imply (see the module docstring)."""
    derived: dict[str, Any] = {}
    if "contrast" in factors:
        derived.update(_draw_protocol(str(factors["contrast"]), factors, rng, library))
    if "coil" in factors:
        coil = library.mri.coils[str(factors["coil"])]
        derived.update(coil_channels=coil.channels, coil_geometry=coil.geometry)
    derived.update(population.derive_population(factors, rng, library.population))
    return {key: value for key, value in derived.items() if key not in factors}


def factors_for_index(
    policy: SamplingConfig, seed: int, index: int, n_total: int
) -> dict[str, Any]:
    """Return the factors of sample ``index`` of a set of ``n_total`` samples seeded with ``seed``.

    A pure function: the result depends only on the arguments, never on
    which worker, process or machine calls it, or in which order. Random
    draws come from ``SeedSequence(seed, spawn_key=(FACTOR_STREAM,
    index))``; in stratified mode the stratum comes from
    :func:`stratum_index` and ``n_total`` must equal
    ``policy.total_count()``.

    Returns
    -------
    dict
        Each declared factor, the values derived from the profiles (when
        ``policy.derive``), and ``"stratum"`` (its label, or None outside
        every stratum) when ``policy.strata`` is set. All values are JSON
        serialisable.

    Examples
    --------
    >>> policy = SamplingConfig.model_validate({"mode": "stratified",
    ...     "factors": {"contrast": {"choices": ["t2", "flair"]}},
    ...     "strata": ["contrast"], "counts": 3})
    >>> sorted(factors_for_index(policy, 0, i, 6)["contrast"] for i in range(6))
    ['flair', 'flair', 'flair', 't2', 't2', 't2']
    """
    if not isinstance(policy, SamplingConfig):
        raise TypeError(f"`policy` must be a SamplingConfig, got {type(policy).__name__}")
    seed = _check_index("seed", seed, 0)
    n_total = _check_index("n_total", n_total, 1)
    index = _check_index("index", index, 0)
    if index >= n_total:
        raise ValueError(f"`index` must be < n_total = {n_total}, got {index}")

    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(FACTOR_STREAM, index)))
    return _draw_factors(policy, rng, index, n_total, seed)
