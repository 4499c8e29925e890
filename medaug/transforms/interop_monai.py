"""MONAI interoperability: medaug pipelines as MONAI dictionary transforms and back.

:class:`MedaugDictTransform` runs a medaug pipeline inside MONAI's
``Compose`` and ``DataLoader``. It is ``Randomizable``, so MONAI's
``set_random_state`` and its worker seeding give reproducible draws, and it
reads and writes the geometry of ``MetaTensor`` values (MONAI stores arrays
in NIfTI (i, j, k) axis order with a RAS index-to-world ``affine``).

:class:`MonaiTransform` runs a MONAI dictionary transform as a step of a
medaug :class:`~medaug.transforms.compose.Compose`.

This module imports MONAI, so ``import medaug.transforms`` does not load it
until one of these names is used.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from monai.data import MetaTensor
from monai.transforms import MapTransform, Randomizable

from medaug.core.convert import DEFAULT_LABEL_KEYS
from medaug.core.fields import GridField, Image, LabelMap, as_tensor
from medaug.core.geometry import Geometry
from medaug.core.sample import Sample
from medaug.transforms.base import Transform
from medaug.transforms.compose import build_transform
from medaug.transforms.foreign import ForeignTransform

__all__ = ["MedaugDictTransform", "MonaiTransform", "geometry_from_monai_affine", "monai_affine"]

# MONAI affines map to RAS; medaug's Geometry maps to LPS (x and y negated).
_RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


def geometry_from_monai_affine(affine: Any, spatial_dims: int) -> Geometry:
    """Return the Geometry of a MONAI array from its RAS index-to-world ``affine``."""
    if isinstance(affine, torch.Tensor):
        affine = affine.detach().cpu().numpy()
    array = np.asarray(affine, dtype=np.float64)
    if array.shape != (4, 4):
        raise ValueError(f"MONAI `affine` must be 4x4, got shape {array.shape}")
    matrix = _RAS_TO_LPS @ array
    if spatial_dims == 2:
        keep = [0, 1, 3]
        return Geometry.from_affine(matrix[np.ix_(keep, keep)])
    return Geometry.from_affine(matrix)


def monai_affine(geometry: Geometry) -> np.ndarray:
    """Return the 4x4 RAS index-to-world affine MONAI uses for ``geometry``."""
    matrix = np.eye(4)
    affine = geometry.affine
    if geometry.ndim == 2:
        matrix[np.ix_([0, 1, 3], [0, 1, 3])] = affine
    else:
        matrix = affine
    return _RAS_TO_LPS @ matrix


def _plain(value: Any) -> torch.Tensor:
    if isinstance(value, MetaTensor):
        return value.as_tensor()
    return as_tensor(value)


class MedaugDictTransform(Randomizable, MapTransform):
    """Run a medaug pipeline on the ``keys`` of a MONAI data dictionary.

    Parameters
    ----------
    pipeline : Transform or config dict
        The medaug transform or Compose to run.
    keys : str or sequence of str
        Dictionary keys holding channel-first arrays ``(C, *spatial)``.
    label_keys : sequence of str, keyword-only
        Keys read as label maps (they must hold integers); others are images.
    allow_missing_keys : bool, keyword-only
        As in MONAI's ``MapTransform``.

    Notes
    -----
    Each call draws one seed from ``self.R`` (MONAI's random state) and
    feeds ``numpy.random.default_rng(seed)`` to the pipeline.
    """

    def __init__(
        self,
        pipeline: Transform | Mapping[str, Any],
        keys: str | Sequence[str],
        *,
        label_keys: Sequence[str] = DEFAULT_LABEL_KEYS,
        allow_missing_keys: bool = False,
    ) -> None:
        MapTransform.__init__(self, keys, allow_missing_keys)
        self.pipeline = build_transform(pipeline)
        self.label_keys = tuple(label_keys)
        self._seed = 0

    def randomize(self, data: Any = None) -> None:
        self._seed = int(self.R.randint(0, 2**31 - 1))

    def _field(self, key: Hashable, value: Any) -> GridField:
        data = _plain(value)
        spatial_dims = data.ndim - 1
        geometry = None
        if isinstance(value, MetaTensor):
            geometry = geometry_from_monai_affine(value.affine, spatial_dims)
        kind = LabelMap if key in self.label_keys else Image
        if kind is LabelMap and data.is_floating_point():
            raise TypeError(
                f"MONAI key {key!r} is a label map but contains {data.dtype} values; cast it first with "
                "monai.transforms.CastToTyped(keys=..., dtype=numpy.int16)"
            )
        return kind(data=data, geometry=geometry)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        self.randomize()
        output = dict(data)
        fields = {str(key): self._field(key, output[key]) for key in self.key_iterator(output)}
        result = self.pipeline.transform(Sample(fields), rng=np.random.default_rng(self._seed))
        for key in self.key_iterator(output):
            field = result[str(key)]
            original = output[key]
            if isinstance(original, MetaTensor):
                meta = {name: value for name, value in original.meta.items() if name != "affine"}
                affine = torch.as_tensor(monai_affine(field.geometry))
                output[key] = MetaTensor(field.data, affine=affine, meta=meta)
            elif isinstance(original, np.ndarray):
                output[key] = field.numpy()
            else:
                output[key] = field.data
        return output


class MonaiTransform(ForeignTransform):
    """Run a MONAI dictionary transform on a sample's grid fields, keyed by field name.

    Random MONAI transforms are reseeded from ``rng`` on every call
    (``set_random_state``), so a medaug pipeline that contains them is still
    reproducible from its seed. The record contains that seed and the
    transform's ``repr`` but cannot rebuild a MONAI object, so
    :func:`~medaug.transforms.compose.replay` rejects it.

    Parameters
    ----------
    transform : callable
        A MONAI dictionary transform (or Compose) taking ``{name: tensor}``.
    """

    library = "MONAI"

    def apply(self, sample: Sample, parameters: int) -> Sample:
        if hasattr(self.transform_, "set_random_state"):
            self.transform_.set_random_state(seed=int(parameters))
        grid_fields = {name: field for name, field in sample.items() if isinstance(field, (Image, LabelMap))}
        data = {
            name: MetaTensor(field.data, affine=torch.as_tensor(monai_affine(field.geometry)))
            for name, field in grid_fields.items()
        }
        output = self.transform_(data)
        changed = {}
        for name, field in grid_fields.items():
            value = output[name]
            tensor = _plain(value)
            geometry = field.geometry
            if isinstance(value, MetaTensor):
                geometry = geometry_from_monai_affine(value.affine, field.spatial_ndim)
            if isinstance(field, LabelMap) and tensor.is_floating_point():
                rounded = tensor.round()
                if not torch.equal(rounded, tensor):
                    raise ValueError(
                        f"MONAI transform {self.transform_!r} made label map {name!r} non-integer; "
                        "use nearest-neighbour interpolation for label keys"
                    )
                tensor = rounded.to(field.data.dtype)
            changed[name] = field.replace(data=tensor, geometry=geometry)
        return sample.replace(changed)
