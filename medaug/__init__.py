"""medaug: medical image augmentation, acquisition simulation and dataset pipelines.

``import medaug`` is light: subpackages (and torch, SimpleITK, matplotlib)
load on first use of a name, so command-line tools start fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name -> module that defines it. Each subpackage adds its names here.
_EXPORTS: dict[str, str] = {
    "Boxes": "medaug.core",
    "Field": "medaug.core",
    "Geometry": "medaug.core",
    "Image": "medaug.core",
    "KSpace": "medaug.core",
    "LabelMap": "medaug.core",
    "Points": "medaug.core",
    "Sample": "medaug.core",
    "Sinogram": "medaug.core",
    "TransformRecord": "medaug.core",
    "collate": "medaug.core",
    "collate_tensors": "medaug.core",
    "sample_rng": "medaug.core",
    "to_sample": "medaug.core",
    "uncollate": "medaug.core",
    "read_image": "medaug.io",
    "read_sample": "medaug.io",
    "write_image": "medaug.io",
    "read_dicom_series": "medaug.io",
    "write_dicom_series": "medaug.io",
}

_SUBPACKAGES = ("core", "io", "transforms", "physics", "phantoms", "generative", "data")

__all__ = sorted(_EXPORTS) + list(_SUBPACKAGES) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"medaug.{name}")
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'medaug' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
