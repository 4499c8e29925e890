"""Datasets, pipeline configs, benchmark-set writers, acquisition and population profiles, coverage reports.

Names load on first use, so ``import medaug.data`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

# Public name -> module that defines it.
_EXPORTS = {
    "ConfigError": "medaug.data.errors",
    "GenerationError": "medaug.data.errors",
    "ImageDataset": "medaug.data.dataset",
    "Pipeline": "medaug.data.pipeline",
    "PipelineConfig": "medaug.data.config",
    "PipelineDataset": "medaug.data.dataset",
    "StepConfig": "medaug.data.registry",
    "generate_set": "medaug.data.runner",
    "load_config": "medaug.data.config",
    "parse_config": "medaug.data.config",
    "read_manifest": "medaug.data.manifest",
    "register_lazy_step": "medaug.data.registry",
    "register_step": "medaug.data.registry",
    "render_preview": "medaug.data.preview",
    "verify_set": "medaug.data.manifest",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'medaug.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
