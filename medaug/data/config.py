"""Pipeline configs: one YAML file from source to writer, validated with line numbers.

A config reads::

    name: brain-seg            # set name (nnU-Net dataset name, HDF5 attributes)
    seed: 1234                 # sample i draws from SeedSequence(seed, spawn_key=(i,))
    size: 100                  # default number of samples `medaug generate` writes
    source: {type: shapes, shape: [64, 64]}
    sampling: {...}            # optional: acquisition/population profiles
    simulation: [{type: ..., ...}, ...]
    augmentation: [{type: ..., ...}, ...]
    outputs: {image: float32, label: uint8}   # fields to keep, with dtype or null
    writer: {type: nnunet, labels: {background: 0, foreground: 1}}

Every step mapping is validated by the model registered for its ``type``
(:mod:`medaug.data.registry`), and the expected fields are propagated
through the chain before anything runs, so a missing field or an
impossible shape is reported against the key that causes it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic

from medaug.data.errors import ConfigError, ConfigIssue
from medaug.data.registry import (
    BuildContext,
    FieldSpec,
    SpecError,
    StepConfig,
    issues_from_validation_error,
    validate_step,
)
from medaug.data.yaml_lines import YamlDocument, format_path, load_yaml

__all__ = ["PipelineConfig", "load_config", "parse_config", "OUTPUT_DTYPES"]

#: dtype names accepted in ``outputs``.
OUTPUT_DTYPES = (
    "float16", "float32", "float64", "complex64", "complex128",
    "uint8", "int8", "int16", "int32", "int64",
)


class _TopLevel(pydantic.BaseModel):
    """Top-level keys; step mappings are validated separately by their registered type."""

    model_config = pydantic.ConfigDict(extra="forbid")

    name: str = pydantic.Field("medaug-set", min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    description: str = ""
    seed: int = pydantic.Field(0, ge=0)
    size: int = pydantic.Field(16, ge=1)
    source: dict[str, Any]
    sampling: dict[str, Any] | None = None
    simulation: list[Any] = []
    augmentation: list[Any] = []
    outputs: dict[str, str | None] | None = None
    writer: dict[str, Any] | None = None

    @pydantic.field_validator("outputs")
    @classmethod
    def _check_dtypes(cls, value: dict[str, str | None] | None) -> dict[str, str | None] | None:
        for name, dtype in (value or {}).items():
            if dtype is not None and dtype not in OUTPUT_DTYPES:
                raise ValueError(
                    f"dtype of output {name!r} must be one of {', '.join(OUTPUT_DTYPES)} or null, got {dtype!r}"
                )
        return value


class PipelineConfig(pydantic.BaseModel):
    """A validated pipeline config (build it with :func:`load_config` or :func:`parse_config`).

    Attributes
    ----------
    source, simulation, augmentation, writer : StepConfig
        Validated step options, each an instance of its registered model.
    sampling : object or None
        The validated ``sampling`` section (see :mod:`medaug.data.sampling`).
    outputs : dict or None
        Field name to dtype name (None keeps the dtype); None keeps all fields.
    base_dir : Path
        Folder that relative paths in the config resolve against.
    """

    model_config = pydantic.ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    description: str = ""
    seed: int
    size: int
    source: pydantic.SerializeAsAny[StepConfig]
    sampling: Any = None
    simulation: tuple[pydantic.SerializeAsAny[StepConfig], ...] = ()
    augmentation: tuple[pydantic.SerializeAsAny[StepConfig], ...] = ()
    outputs: dict[str, str | None] | None = None
    writer: pydantic.SerializeAsAny[StepConfig] | None = None
    base_dir: Path = Path(".")

    # The YAML file name and the line of each key path, when the config came from a file.
    _source: str | None = pydantic.PrivateAttr(None)
    _lines: dict[tuple[str | int, ...], int] = pydantic.PrivateAttr(default_factory=dict)

    @property
    def context(self) -> BuildContext:
        """The build context of every step (base folder for relative paths)."""
        return BuildContext(base_dir=self.base_dir, set_name=self.name, config_hash=self.config_hash(),
                            seed=self.seed)

    def to_dict(self) -> dict[str, Any]:
        """Return the config as plain data (what a YAML file would hold, defaults filled)."""
        data = self.model_dump(mode="json", exclude={"base_dir"})
        if self.sampling is not None and hasattr(self.sampling, "model_dump"):
            data["sampling"] = self.sampling.model_dump(mode="json")
        return data

    def config_hash(self) -> str:
        """Return the SHA-256 of the canonical JSON of everything but ``size``.

        Two configs with the same hash produce the same sample *i* (given
        the same input files), whatever number of samples is requested.
        """
        data = self.to_dict()
        data.pop("size", None)
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def source_file(self) -> str | None:
        """The YAML file the config was read from, or None for a config built from plain data."""
        return self._source

    @property
    def key_lines(self) -> dict[tuple[str | int, ...], int]:
        """The 1-based YAML line of each key path (empty for a config built from plain data)."""
        return dict(self._lines)

    def locate(self, path: tuple[str | int, ...]) -> str:
        """Return ``"file:line: `key`"`` for a key path, or ``"`key`"`` when the line is unknown.

        Examples
        --------
        >>> config = parse_config({"source": {"type": "shapes", "shape": [8, 8]}})
        >>> config.locate(("source", "shape"))
        '`source.shape`'
        """
        key = f"`{format_path(path)}`"
        if self._source is None:
            return key
        # A key that the YAML does not spell out (a default) takes the line of its nearest parent.
        prefix = tuple(path)
        while prefix and prefix not in self._lines:
            prefix = prefix[:-1]
        line = self._lines.get(prefix)
        return f"{self._source}:{line}: {key}" if line is not None else f"{self._source}: {key}"

    def with_overrides(self, **changes: Any) -> PipelineConfig:
        """Return a copy with top-level values replaced (``seed``, ``size``, ``writer``...)."""
        return self.model_copy(update=changes)

    def with_options(self, changes: Mapping[str, Any]) -> PipelineConfig:
        """Return the config with ``changes`` merged into its data and validated again.

        Mappings merge key by key (``{"source": {"anatomies": 64}}`` changes
        one source option); any other value replaces the old one. The result
        is checked like a loaded file, so a bad value raises
        :class:`~medaug.data.errors.ConfigError` naming its key, and the
        config's file with "(with options)", since the changes have no line.

        Examples
        --------
        >>> config = parse_config({"source": {"type": "shapes", "shape": [8, 8]}})
        >>> config.with_options({"source": {"num_shapes": 2}, "seed": 5}).source.num_shapes
        2
        """
        try:
            return parse_config(_merged(self.to_dict(), changes), base_dir=self.base_dir)
        except ConfigError as error:
            if self._source is None:
                raise
            raise ConfigError(error.issues, f"{self._source} (with options)") from None

    def fields_spec(self) -> dict[str, FieldSpec]:
        """Return the fields the pipeline produces (after ``outputs``), as :class:`FieldSpec`."""
        return _propagate_spec(self)


def _merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        old = merged.get(key)
        merged[key] = _merged(old, value) if isinstance(old, Mapping) and isinstance(value, Mapping) else value
    return merged


def load_config(path: str | os.PathLike[str]) -> PipelineConfig:
    """Read and validate a pipeline config YAML file.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ConfigError
        If the config is invalid; every issue names its key and line.
    """
    document = load_yaml(path)
    return parse_config(document, base_dir=Path(path).resolve().parent)


def parse_config(
    data: YamlDocument | Mapping[str, Any], *, base_dir: str | os.PathLike[str] | None = None
) -> PipelineConfig:
    """Validate config data (a :class:`YamlDocument` for line numbers, or a plain dict).

    Examples
    --------
    >>> config = parse_config({"seed": 3, "source": {"type": "shapes", "shape": [32, 32]}})
    >>> config.source.type, config.seed, config.size
    ('shapes', 3, 16)
    """
    document = data if isinstance(data, YamlDocument) else None
    raw = document.data if document is not None else data
    context = BuildContext(base_dir=Path(base_dir) if base_dir is not None else Path.cwd())
    try:
        config = _parse(raw, context)
        _propagate_spec(config)
        _check_sampling_use(config)
    except ConfigError as error:
        raise (error.with_document(document) if document is not None else error) from None
    if document is not None:
        config._source = document.source
        config._lines = dict(document.lines)
    return config


def _parse(raw: Any, context: BuildContext) -> PipelineConfig:
    if not isinstance(raw, Mapping):
        raise ConfigError([ConfigIssue((), f"config must be a mapping of keys, got {type(raw).__name__}")])
    try:
        top = _TopLevel.model_validate(dict(raw))
    except pydantic.ValidationError as error:
        raise ConfigError(issues_from_validation_error(error, (), _TopLevel)) from None

    issues: list[ConfigIssue] = []

    def step(kind: str, value: Any, path: tuple[str | int, ...]) -> StepConfig | None:
        try:
            return validate_step(kind, value, path, context)
        except ConfigError as error:
            issues.extend(error.issues)
            return None

    source = step("source", top.source, ("source",))
    simulation = [step("simulation", item, ("simulation", i)) for i, item in enumerate(top.simulation)]
    augmentation = [step("augmentation", item, ("augmentation", i)) for i, item in enumerate(top.augmentation)]
    writer = step("writer", top.writer, ("writer",)) if top.writer is not None else None
    sampling = _parse_sampling(top.sampling, issues)
    if issues:
        raise ConfigError(issues)
    return PipelineConfig(
        name=top.name, description=top.description, seed=top.seed, size=top.size,
        source=source, sampling=sampling, simulation=tuple(simulation),
        augmentation=tuple(augmentation), outputs=top.outputs, writer=writer,
        base_dir=context.base_dir,
    )


def _parse_sampling(value: dict[str, Any] | None, issues: list[ConfigIssue]) -> Any:
    """Validate the ``sampling`` section with the model of :mod:`medaug.data.sampling`."""
    if value is None:
        return None
    try:
        from medaug.data.sampling import SamplingConfig
    except ImportError:
        issues.append(ConfigIssue(("sampling",), "sampling profiles are not available in this install"))
        return None
    try:
        return SamplingConfig.model_validate(value)
    except pydantic.ValidationError as error:
        issues.extend(issues_from_validation_error(error, ("sampling",), SamplingConfig))
        return None


def _propagate_spec(config: PipelineConfig) -> dict[str, FieldSpec]:
    """Run every step's ``output_spec`` in order; report the first step that cannot work."""
    spec: dict[str, FieldSpec] = {}
    stages: list[tuple[tuple[str | int, ...], StepConfig]] = [(("source",), config.source)]
    stages += [(("simulation", i), s) for i, s in enumerate(config.simulation)]
    stages += [(("augmentation", i), s) for i, s in enumerate(config.augmentation)]
    for path, step in stages:
        spec = _apply_spec(step, spec, path)
    if config.outputs is not None:
        for name in config.outputs:
            if name not in spec:
                raise ConfigError([ConfigIssue(
                    ("outputs", name),
                    f"the pipeline produces no field {name!r}; it produces {', '.join(sorted(spec)) or 'nothing'}",
                )])
        spec = {name: spec[name] for name in config.outputs}
        _check_output_dtypes(config.outputs, spec)
    if config.writer is not None:
        _apply_spec(config.writer, spec, ("writer",))
    return spec


def _check_output_dtypes(outputs: Mapping[str, str | None], spec: Mapping[str, FieldSpec]) -> None:
    """Reject the casts that :func:`medaug.data.pipeline.cast_field` rejects for every sample."""
    issues = []
    for name, dtype in outputs.items():
        if dtype is None:
            continue
        kind = spec[name].kind
        if kind == "KSpace" and not dtype.startswith("complex"):
            issues.append(ConfigIssue(("outputs", name), f"{name!r} is complex k-space and cannot be stored "
                                      f"as {dtype}; use complex64 or complex128, or null to keep its dtype"))
        elif kind == "LabelMap" and dtype.startswith(("float", "complex")):
            issues.append(ConfigIssue(("outputs", name), f"{name!r} is a label map and needs an integer dtype "
                                      f"(uint8, int16, int32, ...), got {dtype}"))
    if issues:
        raise ConfigError(issues)


def _check_sampling_use(config: PipelineConfig) -> None:
    """Ask every step with a ``check_sampling`` method whether it can use the sampled factors.

    The method is called as ``check_sampling(sampling, path)``, with
    ``spec=`` (the fields the step receives) added when it takes that
    keyword, and returns ``(key path, message)`` pairs.
    """
    if config.sampling is None:
        return
    stages: list[tuple[tuple[str | int, ...], StepConfig]] = [(("source",), config.source)]
    stages += [(("simulation", i), s) for i, s in enumerate(config.simulation)]
    stages += [(("augmentation", i), s) for i, s in enumerate(config.augmentation)]
    issues = []
    spec: dict[str, FieldSpec] = {}
    for path, step in stages:
        check = getattr(step, "check_sampling", None)
        if check is not None:
            options = {"spec": dict(spec)} if "spec" in inspect.signature(check).parameters else {}
            issues += [ConfigIssue(key, message) for key, message in check(config.sampling, path, **options)]
        spec = _apply_spec(step, spec, path)
    if issues:
        raise ConfigError(issues)


def _apply_spec(step: StepConfig, spec: dict[str, FieldSpec], path: tuple[str | int, ...]) -> dict[str, FieldSpec]:
    try:
        return dict(step.output_spec(dict(spec)))
    except SpecError as error:
        raise ConfigError([ConfigIssue((*path, *error.key), str(error))]) from None
