"""Test-only pipeline steps and small configs shared by the data tests."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from medaug.core.fields import Image, KSpace
from medaug.core.sample import Sample, TransformRecord
from medaug.data.registry import FieldSpec, SpecError, StepConfig, register_step


@register_step("simulation", "test_fft")
class FFTStep(StepConfig):
    """Test step: k-space of the image by a centred 2-D FFT, with ``coils`` constant copies.

    Adds ``kspace`` and ``reconstruction`` (the magnitude image, which the
    RSS of the inverse FFT recovers exactly for identical coils of weight
    1/sqrt(coils)).
    """

    type: Literal["test_fft"] = "test_fft"
    coils: int = 2
    keep_every: int = 1

    def output_spec(self, spec: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        image = spec.get("image")
        if image is None:
            raise SpecError("needs an image field")
        if image.spatial_shape is not None and len(image.spatial_shape) != 2:
            raise SpecError(f"needs a 2-D image, got shape {list(image.spatial_shape)}", key="coils")
        return {**spec, "kspace": FieldSpec("KSpace", self.coils, image.spatial_shape),
                "reconstruction": FieldSpec("Image", 1, image.spatial_shape)}

    def build(self, context):
        return self._apply

    def _apply(self, sample: Sample, rng: np.random.Generator) -> Sample:
        image = sample["image"].data.to(torch.float32)
        scale = float(rng.uniform(0.5, 1.5))
        coil_images = image.to(torch.complex64).expand(self.coils, *image.shape[1:]) * (scale / self.coils**0.5)
        kspace = torch.fft.fftshift(torch.fft.fft2(torch.fft.ifftshift(coil_images, dim=(-2, -1)), norm="ortho"), dim=(-2, -1))
        mask = torch.zeros(image.shape[-1], dtype=torch.bool)
        mask[:: self.keep_every] = True
        geometry = sample["image"].geometry
        fields = {
            "kspace": KSpace(kspace * mask, geometry=geometry, mask=mask),
            "reconstruction": Image((image * scale).abs(), geometry=geometry),
        }
        return sample.replace(fields, record=TransformRecord("test_fft", {"scale": scale}))


def seg_config(**changes):
    """A small 2-D segmentation config as a dict."""
    config = {
        "name": "test-seg",
        "seed": 11,
        "size": 4,
        "source": {"type": "shapes", "shape": [16, 12], "num_classes": 2},
        "outputs": {"image": "float32", "label": "uint8"},
        "writer": {"type": "nnunet", "labels": {"background": 0, "a": 1, "b": 2}},
    }
    config.update(changes)
    return config


def mri_config(**changes):
    """A small multicoil reconstruction config (test FFT step) as a dict."""
    config = {
        "name": "test-mri",
        "seed": 3,
        "size": 3,
        "source": {"type": "shapes", "shape": [16, 12], "spacing_mm": [0.5, 0.7]},
        "simulation": [{"type": "test_fft", "coils": 3, "keep_every": 2}],
        "writer": {"type": "fastmri", "acquisition": "AXT2"},
    }
    config.update(changes)
    return config


@register_step("simulation", "test_sleep")
class SleepStep(StepConfig):
    """Test step: wait ``seconds`` per sample, so a test can interrupt a run midway."""

    type: Literal["test_sleep"] = "test_sleep"
    seconds: float = 0.05

    def build(self, context):
        import time

        def step(sample, rng):
            time.sleep(self.seconds)
            return sample

        return step


@register_step("simulation", "test_fail")
class FailStep(StepConfig):
    """Test step: raise from sample ``at`` on (index read from the source metadata).

    ``error: value`` raises a ValueError, ``spec`` a SpecError that names
    the option ``at``, ``disk`` an OSError.
    """

    type: Literal["test_fail"] = "test_fail"
    at: int = 0
    error: Literal["value", "spec", "disk"] = "value"

    def build(self, context):
        import errno

        def step(sample, rng):
            index = sample.metadata["source"]["index"]
            if index < self.at:
                return sample
            if self.error == "spec":
                raise SpecError(f"sample {index} is at or past {self.at}", key="at")
            if self.error == "disk":
                raise OSError(errno.ENOSPC, "No space left on device")
            raise ValueError(f"sample {index} is at or past {self.at}")

        return step
