"""Medical Segmentation Decathlon / nnU-Net v2 raw layout for segmentation sets.

The set folder (name it ``nnUNet_raw/DatasetXXX_Name`` for nnU-Net) contains

* ``imagesTr/<case>_<channel:04d>.nii.gz``: one file per image channel,
* ``labelsTr/<case>.nii.gz``: the label map, uint8, same geometry,
* ``dataset.json``: ``channel_names``, ``labels`` (name to value, with
  ``background: 0``), ``numTraining`` and ``file_ending``, as nnU-Net v2
  reads it (Isensee et al., "nnU-Net: a self-configuring method for deep
  learning-based biomedical image segmentation", Nature Methods 18, 2021,
  doi:10.1038/s41592-020-01008-z).

NIfTI files are written by :func:`medaug.io.write_image` with gzip compression.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pydantic

from medaug.core.fields import Image, LabelMap
from medaug.core.sample import Sample
from medaug.data.registry import BuildContext, FieldSpec, SpecError, StepConfig, register_step
from medaug.data.writers.base import require_field

__all__ = ["NnUNetWriterConfig", "NnUNetWriter"]


@register_step("writer", "nnunet")
class NnUNetWriterConfig(StepConfig):
    """Options of the nnU-Net v2 raw-layout writer.

    ``labels`` maps class names to label values and must contain
    ``background: 0``; every label value found in a sample must be listed.
    ``channel_names`` lists one name per image channel (nnU-Net uses
    ``CT`` to select its CT normalisation). ``image_field`` and
    ``label_field`` name the sample fields written.
    """

    type: Literal["nnunet"] = "nnunet"
    labels: dict[str, int]
    channel_names: tuple[str, ...] = ("image",)
    image_field: str = "image"
    label_field: str = "label"
    case_prefix: str = pydantic.Field("case", pattern=r"^[A-Za-z0-9-]+$")

    @pydantic.field_validator("labels")
    @classmethod
    def _check_labels(cls, value: dict[str, int]) -> dict[str, int]:
        if value.get("background") != 0:
            raise ValueError(f"`labels` must map 'background' to 0, got {value}")
        values = list(value.values())
        if len(set(values)) != len(values):
            raise ValueError(f"`labels` values must be distinct, got {value}")
        if sorted(values) != list(range(len(values))):
            raise ValueError(f"`labels` values must be consecutive from 0 (nnU-Net requires it), got {sorted(values)}")
        return value

    def output_spec(self, spec: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        image = spec.get(self.image_field)
        if image is None or image.kind != "Image":
            raise SpecError(f"the pipeline produces no Image field {self.image_field!r} "
                            f"(fields: {', '.join(sorted(spec))})", key="image_field")
        label = spec.get(self.label_field)
        if label is None or label.kind != "LabelMap":
            raise SpecError(f"the pipeline produces no LabelMap field {self.label_field!r} "
                            f"(fields: {', '.join(sorted(spec))})", key="label_field")
        if image.channels is not None and image.channels != len(self.channel_names):
            raise SpecError(f"the image has {image.channels} channels but {len(self.channel_names)} "
                            f"`channel_names` are given", key="channel_names")
        return spec

    def build(self, context: BuildContext) -> NnUNetWriter:
        return NnUNetWriter(self, context)


class NnUNetWriter:
    """Runtime nnU-Net writer (see the module docstring for the layout)."""

    layout = "nnunet"
    file_ending = ".nii.gz"

    def __init__(self, options: NnUNetWriterConfig, context: BuildContext) -> None:
        self.options = options
        self.set_name = context.set_name
        self.config_hash = context.config_hash

    def prepare(self, out: Path) -> None:
        (out / "imagesTr").mkdir(parents=True, exist_ok=True)
        (out / "labelsTr").mkdir(parents=True, exist_ok=True)

    def case_name(self, index: int) -> str:
        """Return the nnU-Net case identifier of sample ``index``."""
        return f"{self.options.case_prefix}_{index:06d}"

    def relative_paths(self, index: int) -> list[str]:
        case = self.case_name(index)
        images = [f"imagesTr/{case}_{c:04d}{self.file_ending}" for c in range(len(self.options.channel_names))]
        return images + [f"labelsTr/{case}{self.file_ending}"]

    def write(self, sample: Sample, index: int, staging: Path) -> None:
        from medaug.io import write_image

        image = require_field(sample, self.options.image_field, Image, "nnunet")
        label = require_field(sample, self.options.label_field, LabelMap, "nnunet")
        channels = len(self.options.channel_names)
        if image.num_channels != channels:
            raise ValueError(f"image has {image.num_channels} channels, `channel_names` lists {channels}")
        present = set(label.labels)
        unknown = sorted(present - set(self.options.labels.values()))
        if unknown:
            raise ValueError(f"sample {index} has label values {unknown} that `labels` does not list "
                             f"({self.options.labels}); add them to the writer's `labels`")
        if label.data.min() < 0 or label.data.max() > 255:
            raise ValueError(f"label values must lie in [0, 255] for uint8 files, got {sorted(present)}")
        paths = self.relative_paths(index)
        for folder in ("imagesTr", "labelsTr"):
            (staging / folder).mkdir(parents=True, exist_ok=True)
        for channel in range(channels):
            write_image(image.replace(data=image.data[channel : channel + 1]), staging / paths[channel])
        write_image(label.replace(data=label.data.to(_uint8())), staging / paths[-1])

    def finalize(self, staging: Path, count: int) -> list[str]:
        dataset = {
            "channel_names": {str(i): name for i, name in enumerate(self.options.channel_names)},
            "labels": dict(self.options.labels),
            "numTraining": int(count),
            "file_ending": self.file_ending,
            "name": self.set_name,
            "description": f"written by medaug from config {self.config_hash[:12]}",
        }
        (staging / "dataset.json").write_text(json.dumps(dataset, indent=2) + "\n", encoding="utf-8")
        return ["dataset.json"]


def _uint8():  # noqa: ANN202 - returns a torch dtype
    import torch

    return torch.uint8



