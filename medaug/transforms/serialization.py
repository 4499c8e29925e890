"""Write a transform pipeline to YAML and build it again.

The document has a format version and one transform config::

    medaug_transform_format: 1
    transform:
      name: Compose
      config:
        transforms:
        - name: RandomAffine
          config: {rotation_range_deg: [-15.0, 15.0], ...}

Names are registry names (see :mod:`medaug.transforms.base`); a transform
defined outside medaug must be imported before its pipeline is loaded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from medaug.transforms.base import Transform
from medaug.transforms.compose import build_transform

__all__ = ["FORMAT_VERSION", "from_yaml", "to_yaml"]

#: Version of the YAML layout written by :func:`to_yaml`.
FORMAT_VERSION = 1


def to_yaml(transform: Transform, path: str | os.PathLike[str] | None = None) -> str:
    """Return ``transform`` as a YAML document, and write it to ``path`` when given.

    Examples
    --------
    >>> from medaug.transforms import Flip
    >>> print(to_yaml(Flip(axes="x")).strip())
    medaug_transform_format: 1
    transform:
      name: Flip
      config:
        axes:
        - x
    """
    if not isinstance(transform, Transform):
        raise TypeError(f"`transform` must be a medaug Transform, got {type(transform).__name__}")
    document = {"medaug_transform_format": FORMAT_VERSION, "transform": transform.to_config()}
    text = yaml.safe_dump(document, sort_keys=False)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def from_yaml(source: str | os.PathLike[str]) -> Transform:
    """Build a transform from YAML text or from the path of a YAML file.

    Raises
    ------
    ValueError
        If the document lacks the format version or a transform, or names an
        unknown transform.
    """
    text = str(source)
    if isinstance(source, os.PathLike) or ("\n" not in text and Path(text).is_file()):
        text = Path(source).read_text(encoding="utf-8")
    document: Any = yaml.safe_load(text)
    if not isinstance(document, dict) or "transform" not in document:
        raise ValueError("a medaug pipeline YAML must be a mapping with a 'transform' key")
    version = document.get("medaug_transform_format")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"`medaug_transform_format` must be {FORMAT_VERSION}, got {version!r}"
        )
    return build_transform(document["transform"])
