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
    "LabelToImageSynthesis": "medaug.generative",
    "RandomLabelToImage": "medaug.generative",
    "GeneratorSource": "medaug.generative",
    "load_generator": "medaug.generative",
    "evaluate_synthetic": "medaug.generative",
    "CopyDetector": "medaug.generative",
    "layered_head": "medaug.phantoms",
    "ProceduralHead": "medaug.phantoms",
    "snr_scale": "medaug.physics.mri",
    "RicianNoise": "medaug.physics.noise",
    "AddNoise": "medaug.transforms",
    "RandomRicianNoise": "medaug.transforms",
    "RandomPoissonNoise": "medaug.transforms",
    "RandomPoissonGaussianNoise": "medaug.transforms",
    "RandomSpeckleNoise": "medaug.transforms",
    "RandomSaltAndPepperNoise": "medaug.transforms",
    "gaussian_filter": "medaug.physics.optics",
    "PipelineDataset": "medaug.data",
    "ImageDataset": "medaug.data",
    "Pipeline": "medaug.data",
    "load_config": "medaug.data",
    "generate_set": "medaug.data",
    "verify_set": "medaug.data",
    "Compose": "medaug.transforms",
    "OneOf": "medaug.transforms",
    "SomeOf": "medaug.transforms",
    "RandomApply": "medaug.transforms",
    "Transform": "medaug.transforms",
    "RandomTransform": "medaug.transforms",
    "IntensityTransform": "medaug.transforms",
    "SpatialTransform": "medaug.transforms",
    "replay": "medaug.transforms",
    "invert": "medaug.transforms",
    "to_yaml": "medaug.transforms",
    "from_yaml": "medaug.transforms",
    "worker_init_fn": "medaug.transforms",
    "RandomAffine": "medaug.transforms",
    "RandomElasticDeformation": "medaug.transforms",
    "RandomFlip": "medaug.transforms",
    "RandomGamma": "medaug.transforms",
    "RandomGaussianNoise": "medaug.transforms",
    "RandomBiasField": "medaug.transforms",
    "Phantom": "medaug.phantoms",
    "shepp_logan": "medaug.phantoms",
    "procedural_head": "medaug.phantoms",
    "random_ellipses": "medaug.phantoms",
    "mr_parameters": "medaug.phantoms",
    "linear_attenuation": "medaug.phantoms",
    "MRIAcquisition": "medaug.physics.mri",
    "fftnc": "medaug.physics.mri",
    "ifftnc": "medaug.physics.mri",
    "real_to_complex": "medaug.physics.mri",
    "complex_to_real": "medaug.physics.mri",
    "ParallelBeamProjector": "medaug.physics.ct",
    "FanBeamProjector": "medaug.physics.ct",
    "ConeBeamProjector": "medaug.physics.ct",
    "fbp": "medaug.physics.ct",
    "fdk": "medaug.physics.ct",
    "simulate_low_dose": "medaug.physics.ct",
    "GaussianNoise": "medaug.physics.noise",
    "PoissonNoise": "medaug.physics.noise",
    "PoissonGaussianNoise": "medaug.physics.noise",
    "SpeckleNoise": "medaug.physics.noise",
    "SaltAndPepperNoise": "medaug.physics.noise",
    "psf_blur": "medaug.physics.optics",
    "degrade_resolution": "medaug.physics.optics",
    "SamplingConfig": "medaug.data.sampling",
    "factors_for_index": "medaug.data.sampling",
    "load_profile_library": "medaug.data.profiles",
    "coverage_report": "medaug.data.report",
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
