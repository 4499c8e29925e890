"""Acquisition profiles as data: MR field strengths, receive arrays, contrasts and CT settings.

The values live in YAML files shipped with the package
(``medaug/data/profiles/*.yaml``); each entry names its published source.
:func:`load_profile_library` reads and validates them once, and
:class:`ProfilesConfig` is the ``profiles:`` section of a pipeline config,
which restricts the library to a subset or overrides contrast ranges.

The module also states the physics that the profiles imply:
:func:`relative_snr` (SNR against field strength and acceleration),
:func:`kernel_frequency_response` (reconstruction filters) and
:func:`flair_null_inversion_time_ms` (CSF nulling).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = [
    "Reference",
    "FieldStrengthProfile",
    "CoilProfile",
    "ContrastProfile",
    "KernelProfile",
    "CtProfile",
    "MriProfile",
    "ProfileLibrary",
    "ProfilesConfig",
    "load_profile_library",
    "relative_snr",
    "kernel_frequency_response",
    "flair_null_inversion_time_ms",
    "classify_contrast",
    "format_validation_error",
    "GYROMAGNETIC_RATIO_MHZ_PER_T",
]

#: Proton gyromagnetic ratio over 2 pi (MHz/T), CODATA 2018.
GYROMAGNETIC_RATIO_MHZ_PER_T = 42.577478


def _check_range(value: tuple[float, float]) -> tuple[float, float]:
    low, high = value
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"range must be finite, got [{low}, {high}]")
    if low > high:
        raise ValueError(f"range must be [min, max] with min <= max, got [{low}, {high}]")
    return (float(low), float(high))


#: A closed interval ``[min, max]`` written as a two-item YAML list.
Range = Annotated[tuple[float, float], AfterValidator(_check_range)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reference(_Strict):
    """Published source of a profile value."""

    citation: str
    doi: str | None = None


class FieldStrengthProfile(_Strict):
    """MR main field strength (T) and its proton Larmor frequency (MHz)."""

    field_strength_t: float = Field(gt=0)
    larmor_mhz: float = Field(gt=0)
    use: str = ""
    source: str


class CoilProfile(_Strict):
    """Receive array: channel count and element layout (head helmet or body planes)."""

    channels: int = Field(ge=1, le=128)
    geometry: Literal["head", "body"]
    radius_mm: float | None = Field(default=None, gt=0)
    rings: int | None = Field(default=None, ge=1)
    separation_mm: float | None = Field(default=None, gt=0)
    rows: int | None = Field(default=None, ge=1)
    columns: int | None = Field(default=None, ge=1)
    source: str


class ContrastProfile(_Strict):
    """MR contrast: sequence type and TR, TE, TI, flip angle ranges (ms, degrees).

    TE must stay below TR over the whole ranges, and so must TI; inversion
    recovery sequences need a TI range and the others must not have one.
    """

    weighting: Literal["T1", "T2", "PD"]
    sequence: Literal[
        "spin_echo",
        "fast_spin_echo",
        "gradient_echo",
        "inversion_recovery_gradient_echo",
        "inversion_recovery_spin_echo",
    ]
    tr_ms: Range
    te_ms: Range
    ti_ms: Range | None = None
    flip_deg: Range
    resolution_mm: Range
    slice_thickness_mm: Range
    acceleration: Range = (1.0, 1.0)
    source: str

    @field_validator("tr_ms", "te_ms", "resolution_mm", "slice_thickness_mm")
    @classmethod
    def _positive(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] <= 0:
            raise ValueError(f"range must be > 0, got [{value[0]}, {value[1]}]")
        return value

    @field_validator("te_ms")
    @classmethod
    def _te_below_tr(cls, value: tuple[float, float], info: Any) -> tuple[float, float]:
        tr = info.data.get("tr_ms")
        if tr is not None and value[1] >= tr[0]:
            raise ValueError(
                f"TE must be shorter than TR: max TE {value[1]} ms >= min TR {tr[0]} ms"
            )
        return value

    @field_validator("ti_ms")
    @classmethod
    def _ti_matches_sequence(cls, value: tuple[float, float] | None, info: Any) -> Any:
        sequence = info.data.get("sequence", "")
        if sequence.startswith("inversion_recovery") and value is None:
            raise ValueError(f"sequence {sequence!r} needs a `ti_ms` range")
        if value is None:
            return value
        if not sequence.startswith("inversion_recovery"):
            raise ValueError(f"sequence {sequence!r} has no inversion; remove `ti_ms`")
        tr = info.data.get("tr_ms")
        if value[0] <= 0:
            raise ValueError(f"range must be > 0, got [{value[0]}, {value[1]}]")
        if tr is not None and value[1] >= tr[0]:
            raise ValueError(
                f"TI must be shorter than TR: max TI {value[1]} ms >= min TR {tr[0]} ms"
            )
        return value

    @field_validator("flip_deg")
    @classmethod
    def _flip_angle(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] <= 0 or value[1] > 180:
            raise ValueError(f"flip angle range must lie in (0, 180] degrees, got {list(value)}")
        return value

    @field_validator("acceleration")
    @classmethod
    def _acceleration(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] < 1:
            raise ValueError(f"acceleration must be >= 1, got {list(value)}")
        return value


class KernelProfile(_Strict):
    """CT reconstruction kernel: filter window and its rank from smooth (1) to sharp."""

    window: Literal["ramp", "shepp-logan", "cosine", "hann"]
    sharpness_rank: int = Field(ge=1)
    use: str = ""
    source: str


class _ValuesWithSource(_Strict):
    values: tuple[float, ...]
    source: str


class _DoseProfile(_Strict):
    mas: Range
    ctdivol_mgy: Range
    source: str


class MriProfile(_Strict):
    """Contents of ``mri.yaml``."""

    references: dict[str, Reference]
    field_strengths: tuple[FieldStrengthProfile, ...]
    coils: dict[str, CoilProfile]
    contrasts: dict[str, ContrastProfile]


class CtProfile(_Strict):
    """Contents of ``ct.yaml``."""

    references: dict[str, Reference]
    tube_voltage_kvp: _ValuesWithSource
    dose: dict[Literal["head", "body"], _DoseProfile]
    filtration_mm_al: Range
    filtration_source: str
    slice_thickness_mm: _ValuesWithSource
    kernels: dict[str, KernelProfile]


class ProfileLibrary(_Strict):
    """All acquisition profiles plus the raw population table (see :mod:`.population`)."""

    mri: MriProfile
    ct: CtProfile
    population: dict[str, Any]

    @property
    def field_strengths_t(self) -> tuple[float, ...]:
        """Known field strengths (T), ascending."""
        return tuple(sorted(p.field_strength_t for p in self.mri.field_strengths))

    def reference(self, key: str) -> Reference:
        """Return the reference ``key`` from any of the profile files."""
        for table in (self.mri.references, self.ct.references, self.population["references"]):
            if key in table:
                value = table[key]
                return value if isinstance(value, Reference) else Reference(**value)
        raise KeyError(f"reference {key!r} not found in the profile library")


def format_validation_error(error: ValidationError, *, prefix: str = "") -> str:
    """Write a pydantic error as ``key.path: message`` lines a YAML user can act on."""
    lines = []
    for item in error.errors():
        parts = [prefix] if prefix else []
        for part in item["loc"]:
            if isinstance(part, int):
                parts[-1:] = [f"{parts[-1]}[{part}]" if parts else f"[{part}]"]
            else:
                parts.append(str(part))
        key = ".".join(parts) or "<top level>"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"`{key}`: {message}")
    return "\n".join(lines)


def _check_sources(name: str, entries: Mapping[str, Any], references: Mapping[str, Any]) -> None:
    for key, entry in entries.items():
        source = entry.source if hasattr(entry, "source") else entry.get("source")
        if source not in references:
            raise ValueError(f"`{name}.{key}.source` names unknown reference {source!r}")


def _read_yaml(name: str) -> Any:
    import yaml

    text = resources.files("medaug.data").joinpath("profiles", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@functools.lru_cache(maxsize=1)
def load_profile_library() -> ProfileLibrary:
    """Read and validate the profile files shipped with medaug (cached).

    Raises
    ------
    ValueError
        If a file breaks its schema or names a reference it does not list;
        the message names the file and the YAML key.

    Examples
    --------
    >>> library = load_profile_library()
    >>> library.field_strengths_t
    (0.55, 1.5, 3.0, 7.0)
    """
    models = {"mri": MriProfile, "ct": CtProfile}
    parsed: dict[str, Any] = {}
    for name, model in models.items():
        try:
            parsed[name] = model.model_validate(_read_yaml(f"{name}.yaml"))
        except ValidationError as error:
            raise ValueError(f"{name}.yaml:\n{format_validation_error(error)}") from None
    parsed["population"] = _read_yaml("population.yaml")

    mri, ct = parsed["mri"], parsed["ct"]
    _check_sources("coils", mri.coils, mri.references)
    _check_sources("contrasts", mri.contrasts, mri.references)
    _check_sources(
        "field_strengths", {str(i): p for i, p in enumerate(mri.field_strengths)}, mri.references
    )
    _check_sources("kernels", ct.kernels, ct.references)
    _check_sources("dose", ct.dose, ct.references)
    return ProfileLibrary(**parsed)


class ContrastOverride(_Strict):
    """Partial contrast profile for ``profiles.contrasts``: only the keys to change."""

    weighting: Literal["T1", "T2", "PD"] | None = None
    sequence: str | None = None
    tr_ms: Range | None = None
    te_ms: Range | None = None
    ti_ms: Range | None = None
    flip_deg: Range | None = None
    resolution_mm: Range | None = None
    slice_thickness_mm: Range | None = None
    acceleration: Range | None = None
    source: str | None = None


class ProfilesConfig(_Strict):
    """The ``profiles:`` section of a pipeline config.

    Each list restricts the built-in library to the named entries (``None``
    keeps them all). ``contrasts`` overrides ranges of built-in contrasts or
    adds new ones, which then need every key of :class:`ContrastProfile`.

    Examples
    --------
    >>> config = ProfilesConfig(field_strengths_t=[1.5, 3.0], contrasts={"t2": {"te_ms": [90, 110]}})
    >>> config.resolve().mri.contrasts["t2"].te_ms
    (90.0, 110.0)
    """

    field_strengths_t: tuple[float, ...] | None = None
    coils: tuple[str, ...] | None = None
    contrasts: dict[str, ContrastOverride] = Field(default_factory=dict)
    kvp: tuple[float, ...] | None = None
    kernels: tuple[str, ...] | None = None

    @field_validator("field_strengths_t")
    @classmethod
    def _known_fields(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is None:
            return value
        known = load_profile_library().field_strengths_t
        for index, field in enumerate(value):
            if not any(math.isclose(field, k, abs_tol=1e-6) for k in known):
                raise ValueError(
                    f"item {index}: unknown field strength {field} T; "
                    f"known field strengths are {', '.join(f'{k:g}' for k in known)} T"
                )
        if not value:
            raise ValueError("must list at least one field strength, got []")
        return value

    @field_validator("coils", "kernels")
    @classmethod
    def _known_names(cls, value: tuple[str, ...] | None, info: Any) -> tuple[str, ...] | None:
        if value is None:
            return value
        library = load_profile_library()
        known = library.mri.coils if info.field_name == "coils" else library.ct.kernels
        for index, name in enumerate(value):
            if name not in known:
                raise ValueError(f"item {index}: unknown {info.field_name[:-1]} {name!r}; known: {sorted(known)}")
        if not value:
            raise ValueError("must list at least one name, got []")
        return value

    @field_validator("kvp")
    @classmethod
    def _known_kvp(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is None:
            return value
        known = load_profile_library().ct.tube_voltage_kvp.values
        for index, kvp in enumerate(value):
            if kvp not in known:
                raise ValueError(f"item {index}: unknown tube voltage {kvp} kVp; known: {list(known)}")
        return value

    @field_validator("contrasts")
    @classmethod
    def _merge_contrasts(cls, value: dict[str, ContrastOverride]) -> dict[str, ContrastOverride]:
        library = load_profile_library()
        for name, override in value.items():
            base = library.mri.contrasts.get(name)
            merged = base.model_dump() if base is not None else {}
            merged.update(override.model_dump(exclude_none=True))
            try:
                ContrastProfile.model_validate(merged)
            except ValidationError as error:
                raise ValueError(format_validation_error(error, prefix=f"contrasts.{name}")) from None
        return value

    def resolve(self) -> ProfileLibrary:
        """Return the built-in library restricted and overridden by this section."""
        library = load_profile_library()
        mri, ct = library.mri, library.ct
        fields = mri.field_strengths
        if self.field_strengths_t is not None:
            fields = tuple(
                p for p in fields
                if any(math.isclose(p.field_strength_t, f, abs_tol=1e-6) for f in self.field_strengths_t)
            )
        coils = {k: v for k, v in mri.coils.items() if self.coils is None or k in self.coils}
        contrasts = dict(mri.contrasts)
        for name, override in self.contrasts.items():
            merged = contrasts[name].model_dump() if name in contrasts else {}
            merged.update(override.model_dump(exclude_none=True))
            contrasts[name] = ContrastProfile.model_validate(merged)
        kernels = {k: v for k, v in ct.kernels.items() if self.kernels is None or k in self.kernels}
        kvp = ct.tube_voltage_kvp
        if self.kvp is not None:
            kvp = kvp.model_copy(update={"values": tuple(self.kvp)})
        return library.model_copy(
            update={
                "mri": mri.model_copy(
                    update={"field_strengths": fields, "coils": coils, "contrasts": contrasts}
                ),
                "ct": ct.model_copy(update={"kernels": kernels, "tube_voltage_kvp": kvp}),
            }
        )


def relative_snr(
    field_strength_t: float | np.ndarray,
    acceleration: float | np.ndarray = 1.0,
    *,
    g_factor: float | np.ndarray = 1.0,
    voxel_volume_ratio: float | np.ndarray = 1.0,
    field_exponent: float = 1.0,
    reference_field_t: float = 1.5,
) -> np.ndarray | float:
    """Return the image SNR relative to a fully sampled scan at ``reference_field_t``.

    Parameters
    ----------
    field_strength_t : float or ndarray
        Main field strength B0 (T), > 0.
    acceleration : float or ndarray, default 1
        Parallel-imaging acceleration R >= 1 (fraction of k-space lines skipped).
    g_factor : float or ndarray, default 1
        Coil geometry factor g >= 1 of the parallel-imaging reconstruction.
    voxel_volume_ratio : float or ndarray, default 1
        Voxel volume relative to the reference scan (> 0).
    field_exponent : float, default 1
        Exponent of B0. 1 is the sample-noise-dominated regime of clinical
        fields; Pohmann et al. measured about 1.65 between 3 and 9.4 T.
    reference_field_t : float, default 1.5
        Field strength (T) whose SNR is 1.

    Returns
    -------
    float or ndarray
        ``(B0 / B0_ref) ** field_exponent * voxel_volume_ratio / (g * sqrt(R))``.

    Notes
    -----
    The ratio of two :func:`medaug.physics.mri.snr_scale` factors, which
    holds the model and its references: SNR grows as B0 where body noise
    dominates (Hoult and Lauterbur 1979), and a SENSE reconstruction at
    acceleration R divides it by ``g sqrt(R)`` (Pruessmann et al. 1999).

    References
    ----------
    Hoult DI, Lauterbur PC. The sensitivity of the zeugmatographic experiment
    involving human samples. J Magn Reson. 1979;34(2):425-433.
    DOI 10.1016/0022-2364(79)90019-2.
    Pruessmann KP, Weiger M, Scheidegger MB, Boesiger P. SENSE: sensitivity
    encoding for fast MRI. Magn Reson Med. 1999;42(5):952-962.
    Pohmann R, Speck O, Scheffler K. Signal-to-noise ratio and MR tissue
    parameters in human brain imaging at 3, 7, and 9.4 tesla using current
    receive coil arrays. Magn Reson Med. 2016;75(2):801-809.
    DOI 10.1002/mrm.25677.

    Examples
    --------
    >>> float(relative_snr(3.0, 4.0))
    1.0
    """
    from medaug.physics.mri.snr import snr_scale

    # The two arguments that snr_scale names differently are checked here,
    # so their errors name the argument the caller passed.
    volume = np.asarray(voxel_volume_ratio, dtype=np.float64)
    if np.any(~(volume > 0)):
        raise ValueError(f"`voxel_volume_ratio` must be > 0, got {voxel_volume_ratio}")
    if not reference_field_t > 0:
        raise ValueError(f"`reference_field_t` must be > 0 T, got {reference_field_t}")

    scale = snr_scale(
        field_strength_t, acceleration, g_factor=g_factor, voxel_volume_mm3=volume,
        field_exponent=field_exponent,
    )
    return scale / snr_scale(reference_field_t, field_exponent=field_exponent)


def kernel_frequency_response(
    kernel: str, frequency: np.ndarray | Sequence[float], *, library: ProfileLibrary | None = None
) -> np.ndarray:
    """Return the filter response ``|x| W(x)`` of a reconstruction kernel profile.

    Parameters
    ----------
    kernel : str
        Kernel name from ``ct.yaml`` (``hann``, ``cosine``, ``shepp_logan``,
        ``ram_lak``).
    frequency : array_like
        Spatial frequency as a fraction x of the Nyquist frequency; the
        response is zero above 1.
    library : ProfileLibrary, optional
        Profiles to look the kernel up in (default: the shipped ones).

    Returns
    -------
    ndarray
        Filter response, same shape as ``frequency``.

    Notes
    -----
    The window ``W`` is the one :mod:`medaug.physics.ct.filters` applies in
    filtered backprojection, so the stated response is the applied one.

    References
    ----------
    Kak AC, Slaney M. Principles of Computerized Tomographic Imaging. IEEE
    Press; 1988. DOI 10.1137/1.9780898719277.

    Examples
    --------
    >>> kernel_frequency_response("hann", [0.0, 0.5, 1.0]).round(3).tolist()
    [0.0, 0.25, 0.0]
    """
    from medaug.physics.ct.filters import filter_window

    kernels = (library or load_profile_library()).ct.kernels
    if kernel not in kernels:
        raise ValueError(f"`kernel` must be one of {sorted(kernels)}, got {kernel!r}")
    x = np.abs(np.asarray(frequency, dtype=np.float64))
    return x * filter_window(kernels[kernel].window, x)


def flair_null_inversion_time_ms(t1_ms: float, tr_ms: float) -> float:
    """Return the inversion time (ms) that nulls a tissue of longitudinal relaxation ``t1_ms``.

    Notes
    -----
    After an inversion at steady state with full recovery between
    repetitions except for the TR term, ``Mz(TI) = M0 (1 - 2 exp(-TI/T1) +
    exp(-TR/T1))``, which is zero at
    ``TI = T1 (ln 2 - ln(1 + exp(-TR / T1)))``.

    References
    ----------
    Bernstein MA, King KF, Zhou XJ. Handbook of MRI Pulse Sequences.
    Elsevier Academic Press; 2004 (inversion recovery chapter).

    Examples
    --------
    >>> round(flair_null_inversion_time_ms(4000.0, 1e9), 1)  # TR >> T1: T1 ln 2
    2772.6
    """
    if not (t1_ms > 0 and tr_ms > 0):
        raise ValueError(f"`t1_ms` and `tr_ms` must be > 0, got {t1_ms} and {tr_ms}")
    return float(t1_ms * (math.log(2.0) - math.log1p(math.exp(-tr_ms / t1_ms))))


def classify_contrast(
    tr_ms: float | None,
    te_ms: float | None,
    ti_ms: float | None = None,
    *,
    library: ProfileLibrary | None = None,
) -> str | None:
    """Return the name of the contrast profile whose TR, TE and TI ranges contain the values.

    Used to place a real scan, known only by its DICOM timing, in a
    stratum. Returns ``None`` when no profile matches or TR/TE is missing.
    A scan without ``ti_ms`` matches only profiles without inversion.

    Examples
    --------
    >>> classify_contrast(2300.0, 2.98, 900.0)
    't1_ir_gre'
    >>> classify_contrast(500.0, 15.0)
    't1_se'
    """
    if tr_ms is None or te_ms is None:
        return None
    library = library or load_profile_library()
    for name, profile in library.mri.contrasts.items():
        inside = profile.tr_ms[0] <= tr_ms <= profile.tr_ms[1] and (
            profile.te_ms[0] <= te_ms <= profile.te_ms[1]
        )
        if profile.ti_ms is None:
            inside = inside and not ti_ms
        else:
            inside = inside and ti_ms is not None and profile.ti_ms[0] <= ti_ms <= profile.ti_ms[1]
        if inside:
            return name
    return None
