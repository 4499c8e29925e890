"""albumentations interoperability for 2D images: medaug pipelines inside A.Compose and back.

albumentations uses ``(H, W)`` or ``(H, W, C)`` numpy arrays. Images come
back from a medaug pipeline as float32 (interpolation promotes integers,
and medaug never casts back silently); masks keep their integer dtype.

This module imports albumentations, so ``import medaug.transforms`` does
not load it until one of these names is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import albumentations as A
import numpy as np

from medaug.core.fields import Image, LabelMap
from medaug.core.sample import Sample
from medaug.transforms.base import Transform
from medaug.transforms.compose import build_transform
from medaug.transforms.foreign import ForeignTransform

__all__ = ["AlbumentationsTransform", "MedaugAlbumentations"]


def _image_to_field(image: np.ndarray) -> Image:
    if image.ndim == 2:
        return Image(image[None])
    if image.ndim == 3:
        return Image(np.ascontiguousarray(np.moveaxis(image, -1, 0)))
    raise ValueError(f"albumentations `image` must be (H, W) or (H, W, C), got shape {image.shape}")


def _field_to_image(field: Image, like: np.ndarray) -> np.ndarray:
    array = field.numpy()
    return array[0] if like.ndim == 2 else np.moveaxis(array, 0, -1)


class MedaugAlbumentations(A.DualTransform):
    """Run a 2D medaug pipeline as an albumentations transform on ``image`` and ``mask``.

    The pipeline draws from albumentations' own generator
    (``A.Compose(..., seed=...)`` makes it reproducible), and image and mask
    go through it together with the same parameters.

    Parameters
    ----------
    pipeline : Transform or config dict
        A medaug transform for 2D samples.
    p : float
        albumentations' probability of applying the transform.
    """

    def __init__(self, pipeline: Transform | Mapping[str, Any], p: float = 1.0) -> None:
        super().__init__(p=p)
        self.pipeline = build_transform(pipeline)

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        image = data["image"]
        fields: dict[str, Any] = {"image": _image_to_field(image)}
        mask = data.get("mask")
        if mask is not None:
            if mask.shape[:2] != image.shape[:2]:
                raise ValueError(f"`mask` shape {mask.shape} does not match `image` shape {image.shape}")
            fields["mask"] = LabelMap(mask[None] if mask.ndim == 2 else np.moveaxis(mask, -1, 0))
        seed = int(self.random_generator.integers(0, 2**63 - 1))
        result = self.pipeline.transform(Sample(fields), rng=np.random.default_rng(seed))
        output = {"medaug_image": _field_to_image(result["image"], image)}
        if mask is not None:
            labels = result["mask"].numpy()
            output["medaug_mask"] = labels[0] if mask.ndim == 2 else np.moveaxis(labels, 0, -1)
        return output

    def apply(self, img: np.ndarray, medaug_image: np.ndarray | None = None, **params: Any) -> np.ndarray:
        return img if medaug_image is None else medaug_image

    def apply_to_mask(self, mask: np.ndarray, medaug_mask: np.ndarray | None = None, **params: Any) -> np.ndarray:
        return mask if medaug_mask is None else medaug_mask

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("pipeline",)


class AlbumentationsTransform(ForeignTransform):
    """Run an albumentations transform on a 2D sample inside a medaug pipeline.

    The first Image field is passed as ``image`` (channels last) and the
    first LabelMap as ``mask``; other fields are left alone. The transform
    is reseeded from ``rng`` on every call. Its record contains the seed and
    ``repr`` but cannot rebuild the object, so replay rejects it.

    Parameters
    ----------
    transform : albumentations transform or Compose
    """

    library = "albumentations"

    def apply(self, sample: Sample, parameters: int) -> Sample:
        images = sample.fields_of_type(Image)
        labels = sample.fields_of_type(LabelMap)
        if not images or sample.reference.spatial_ndim != 2 or sample.is_batched:
            raise ValueError("AlbumentationsTransform needs an unbatched 2D sample with an Image field")
        image_name = next(iter(images))
        image = images[image_name]
        self.transform_.set_random_seed(int(parameters))
        inputs: dict[str, Any] = {"image": np.ascontiguousarray(np.moveaxis(image.numpy(), 0, -1))}
        label_name = next(iter(labels), None)
        if label_name is not None:
            inputs["mask"] = labels[label_name].numpy()[0]
        output = self.transform_(**inputs)
        changed = {image_name: image.replace(data=np.ascontiguousarray(np.moveaxis(output["image"], -1, 0)))}
        if label_name is not None:
            changed[label_name] = labels[label_name].replace(data=np.ascontiguousarray(output["mask"][None]))
        return sample.replace(changed)
