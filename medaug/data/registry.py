"""Registry of pipeline step types, so every subpackage's pieces plug in by name.

A config names each step by ``type``: ``{type: mri, coils: 8}``. The type
maps to a :class:`StepConfig` subclass, a pydantic model of the step's
options that builds the runtime step. Step kinds are ``source`` (makes
sample *i* from its generator), ``simulation`` and ``augmentation`` (map a
sample and a generator to a new sample) and ``writer`` (stores samples on
disk). Types register eagerly with :func:`register_step` or lazily by
``"module:Class"`` with :func:`register_lazy_step`, so a config that never
names a step never imports its module.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import pydantic

from medaug.data.errors import ConfigError, ConfigIssue, suggest

__all__ = [
    "STEP_KINDS",
    "BuildContext",
    "FieldSpec",
    "SpecError",
    "StepConfig",
    "available_steps",
    "get_step_model",
    "register_lazy_step",
    "register_step",
    "validate_step",
    "issues_from_validation_error",
]

STEP_KINDS = ("source", "simulation", "augmentation", "writer")

_REGISTRY: dict[str, dict[str, type[StepConfig] | str]] = {kind: {} for kind in STEP_KINDS}


class FieldSpec(NamedTuple):
    """Description of one output field, known before the pipeline runs.

    ``kind`` is the field class name (``"Image"``, ``"LabelMap"``,
    ``"KSpace"``, ``"Sinogram"``); ``channels`` and ``spatial_shape``
    (array order) are None when a step cannot tell in advance.
    """

    kind: str
    channels: int | None = None
    spatial_shape: tuple[int, ...] | None = None


Spec = dict[str, FieldSpec]


class SpecError(ValueError):
    """A step cannot accept the fields it would receive; ``key`` names the option at fault."""

    def __init__(self, message: str, *, key: str | tuple[str | int, ...] | None = None) -> None:
        super().__init__(message)
        if key is None:
            self.key: tuple[str | int, ...] = ()
        elif isinstance(key, str):
            self.key = (key,)
        else:
            self.key = tuple(key)


@dataclasses.dataclass(frozen=True)
class BuildContext:
    """Facts about the config a step came from.

    Attributes
    ----------
    base_dir : Path
        Folder of the config file; relative paths in options resolve here.
    set_name : str
        The config's ``name``.
    config_hash : str
        SHA-256 of the config (see :meth:`PipelineConfig.config_hash`), for writers to record.
    seed : int
        The config's ``seed``, for steps that draw something once per set
        (the anatomy pool of the ``phantom`` source).
    """

    base_dir: Path = Path(".")
    set_name: str = "medaug-set"
    config_hash: str = ""
    seed: int = 0

    def resolve(self, path: str | Path) -> Path:
        """Return ``path`` resolved against :attr:`base_dir` unless absolute."""
        path = Path(path).expanduser()
        return path if path.is_absolute() else (self.base_dir / path)


class StepConfig(pydantic.BaseModel):
    """Options of one pipeline step; subclasses add fields and :meth:`build`.

    Unknown keys are rejected (``extra="forbid"``) so a misspelt option is
    an error, never silently ignored.
    """

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    type: str

    #: Step kind ("source", "simulation", "augmentation" or "writer").
    kind: ClassVar[str] = ""

    def build(self, context: BuildContext) -> Callable[..., Any]:
        """Return the runtime step (a source, a sample map or a writer)."""
        raise NotImplementedError(f"step type {self.type!r} does not implement build()")

    def output_spec(self, spec: Spec) -> Spec:
        """Return the fields after this step, given the fields before it.

        The default passes ``spec`` through. Raise :class:`SpecError` when
        the input cannot work (a missing field, an impossible shape).
        """
        return spec


def register_step(kind: str, name: str) -> Callable[[type[StepConfig]], type[StepConfig]]:
    """Register a :class:`StepConfig` subclass as step ``type: name`` of ``kind`` (decorator)."""
    _check_kind(kind)

    def decorator(model: type[StepConfig]) -> type[StepConfig]:
        if not (isinstance(model, type) and issubclass(model, StepConfig)):
            raise TypeError(f"step model for {name!r} must subclass StepConfig, got {model!r}")
        model.kind = kind
        _REGISTRY[kind][name] = model
        return model

    return decorator


def register_lazy_step(kind: str, name: str, target: str) -> None:
    """Register step ``type: name`` of ``kind`` as ``"package.module:ClassName"``, imported on use."""
    _check_kind(kind)
    if ":" not in target:
        raise ValueError(f"`target` must look like 'package.module:ClassName', got {target!r}")
    _REGISTRY[kind].setdefault(name, target)


def available_steps(kind: str) -> list[str]:
    """Return the registered type names of ``kind``, sorted."""
    _check_kind(kind)
    _load_builtin_steps()
    return sorted(_REGISTRY[kind])


def get_step_model(kind: str, name: str) -> type[StepConfig]:
    """Return the model registered as ``type: name`` of ``kind``.

    Raises
    ------
    ValueError
        If no such type is registered; the message lists the known types.
    """
    _check_kind(kind)
    _load_builtin_steps()
    entry = _REGISTRY[kind].get(name)
    if entry is None:
        known = sorted(_REGISTRY[kind])
        raise ValueError(
            f"unknown {kind} type {name!r}{suggest(name, known)}; known types: {', '.join(known)}"
        )
    if isinstance(entry, str):
        module_name, _, class_name = entry.partition(":")
        model = getattr(importlib.import_module(module_name), class_name)
        model.kind = kind
        _REGISTRY[kind][name] = model
        return model
    return entry


def validate_step(
    kind: str, data: Any, path: tuple[str | int, ...], context: BuildContext
) -> StepConfig:
    """Validate one step mapping found at ``path`` of a config.

    Raises
    ------
    ConfigError
        With one issue per problem, each naming its key path.
    """
    if not isinstance(data, Mapping):
        raise ConfigError([ConfigIssue(path, f"must be a mapping with a `type` key, got {_describe(data)}")])
    name = data.get("type")
    if not isinstance(name, str):
        raise ConfigError([ConfigIssue((*path, "type"), f"missing or not a string; known {kind} types: "
                                       f"{', '.join(available_steps(kind))}")])
    if kind in ("simulation", "augmentation") and name not in available_steps(kind):
        from medaug.data.steps.transforms import is_transform_name, transform_step_issues

        if is_transform_name(name):
            step, issues = transform_step_issues(dict(data), path)
            if issues:
                raise ConfigError(issues)
            return step
    try:
        model = get_step_model(kind, name)
    except ValueError as error:
        message = str(error)
        if kind in ("simulation", "augmentation"):
            message += ", or a medaug.transforms name such as RandomAffine"
        raise ConfigError([ConfigIssue((*path, "type"), message)]) from None
    try:
        return model.model_validate(dict(data), context={"build_context": context})
    except pydantic.ValidationError as error:
        raise ConfigError(issues_from_validation_error(error, path, model)) from None


def issues_from_validation_error(
    error: pydantic.ValidationError, path: tuple[str | int, ...], model: type[pydantic.BaseModel]
) -> list[ConfigIssue]:
    """Turn pydantic's errors into issues whose paths are rooted at ``path``."""
    issues = []
    for item in error.errors(include_url=False):
        location = tuple(part for part in item["loc"] if not _is_pydantic_tag(part))
        full = (*path, *location)
        kind = item["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(model, location[:-1])
            message = f"unknown key{suggest(location[-1], allowed)}"
            if allowed:
                message += f". Allowed keys: {', '.join(allowed)}"
        elif kind == "missing":
            message = "required key is missing"
        elif kind == "value_error" and "error" in item.get("ctx", {}):
            # Our validators' messages already name the value and what is expected.
            message = str(item["ctx"]["error"])
        else:
            # Some pydantic messages already contain "got ..." (a number with a fractional part).
            separator = "; the value is" if ", got " in item["msg"] else ", got"
            message = f"{item['msg']}{separator} {_describe(item.get('input'))}"
        issues.append(ConfigIssue(full, message))
    return issues


def _allowed_keys(model: type[pydantic.BaseModel], location: tuple[str | int, ...]) -> list[str]:
    current: Any = model
    for part in location:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, pydantic.BaseModel)):
            continue
        field = current.model_fields.get(part)
        current = field.annotation if field is not None else None
    if isinstance(current, type) and issubclass(current, pydantic.BaseModel):
        return sorted(current.model_fields)
    return []


def _is_pydantic_tag(part: str | int) -> bool:
    # Union members add their type name to the location, e.g. "list[int]".
    return isinstance(part, str) and ("[" in part or part in ("function-after", "function-before"))


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_kind(kind: str) -> None:
    if kind not in STEP_KINDS:
        raise ValueError(f"`kind` must be one of {', '.join(STEP_KINDS)}, got {kind!r}")


_BUILTINS_LOADED = False


def _load_builtin_steps() -> None:
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _BUILTINS_LOADED = True
        importlib.import_module("medaug.data.steps")
