"""Classical augmentation: base classes, composition, spatial and intensity transforms.

Conventions (details in each module):

- Random transforms take ``rng`` (a ``numpy.random.Generator``) at call time,
  ``t(x, rng=rng)``, and record their parameters on the output sample, so
  :func:`replay` reproduces any output and :func:`invert` undoes its
  spatial part.
- Spatial transforms work in physical space (mm, degrees, LPS axes); a
  rotation by ``+theta`` about z turns +x towards +y.
- Fields are dispatched by type: images interpolate, label maps keep their
  classes, points and boxes move with the image, intensity transforms touch
  images only.
"""

from medaug.transforms.base import (
    IntensityTransform,
    NotInvertibleError,
    RandomTransform,
    SpatialTransform,
    Transform,
    get_transform_class,
    promote_intensity,
    registered_transforms,
    to_plain,
)
from medaug.transforms.blur import (
    Blur,
    BlurParameters,
    RandomBlur,
    RandomSharpen,
    Sharpen,
    SharpenParameters,
)
from medaug.transforms.compose import (
    Compose,
    OneOf,
    RandomApply,
    SomeOf,
    build_transform,
    invert,
    replay,
    run_leaves,
)
from medaug.transforms.crop import (
    CenterCropOrPad,
    CropOrPad,
    CropParameters,
    RandomCrop,
    RandomLabelCrop,
)
from medaug.transforms.elastic import (
    ElasticDeformation,
    ElasticParameters,
    RandomElasticDeformation,
)
from medaug.transforms.execution import worker_init_fn
from medaug.transforms.foreign import ForeignTransform
from medaug.transforms.functional.coordinates import (
    AffineMap,
    DisplacementMap,
    Grid,
    SpatialPlan,
)
from medaug.transforms.functional.resample import (
    Resampling,
)
from medaug.transforms.intensity import (
    BiasField,
    BiasFieldParameters,
    BrightnessContrast,
    BrightnessContrastParameters,
    CurveParameters,
    Gamma,
    GammaParameters,
    IntensityCurve,
    RandomBiasField,
    RandomBrightnessContrast,
    RandomGamma,
    RandomHistogramShift,
    RandomIntensityCurve,
)
from medaug.transforms.noise import (
    AddNoise,
    NoiseModel,
    NoiseParameters,
    RandomGaussianNoise,
    RandomPoissonGaussianNoise,
    RandomPoissonNoise,
    RandomRicianNoise,
    RandomSaltAndPepperNoise,
    RandomSpeckleNoise,
)
from medaug.transforms.normalize import (
    Clip,
    CTWindow,
    RescalePercentiles,
    ZScoreNormalize,
)
from medaug.transforms.resample import (
    RandomThickSlices,
    Resample,
    ResampleParameters,
    ThickSlices,
    ThickSlicesParameters,
)
from medaug.transforms.serialization import (
    FORMAT_VERSION,
    from_yaml,
    to_yaml,
)
from medaug.transforms.spatial import (
    Affine,
    AffineParameters,
    Flip,
    FlipParameters,
    InterpolatingTransform,
    RandomAffine,
    RandomFlip,
    RandomRot90,
    Rot90,
    Rot90Parameters,
    physical_axis,
)
from medaug.transforms.validation import (
    check_choice,
    check_nonnegative,
    check_positive,
    check_probability,
    check_range,
    check_vector,
)

__all__ = [
    "AlbumentationsTransform",
    "MedaugAlbumentations",
    "MedaugDictTransform",
    "MonaiTransform",
    "worker_init_fn",
    "AddNoise",
    "Affine",
    "AffineMap",
    "AffineParameters",
    "BiasField",
    "BiasFieldParameters",
    "Blur",
    "BlurParameters",
    "BrightnessContrast",
    "BrightnessContrastParameters",
    "CTWindow",
    "CenterCropOrPad",
    "Clip",
    "Compose",
    "CropOrPad",
    "CropParameters",
    "CurveParameters",
    "DisplacementMap",
    "ElasticDeformation",
    "ElasticParameters",
    "FORMAT_VERSION",
    "Flip",
    "FlipParameters",
    "ForeignTransform",
    "Gamma",
    "GammaParameters",
    "Grid",
    "IntensityCurve",
    "IntensityTransform",
    "InterpolatingTransform",
    "NoiseModel",
    "NoiseParameters",
    "NotInvertibleError",
    "OneOf",
    "RandomAffine",
    "RandomApply",
    "RandomBiasField",
    "RandomBlur",
    "RandomBrightnessContrast",
    "RandomCrop",
    "RandomElasticDeformation",
    "RandomFlip",
    "RandomGamma",
    "RandomGaussianNoise",
    "RandomHistogramShift",
    "RandomIntensityCurve",
    "RandomLabelCrop",
    "RandomPoissonGaussianNoise",
    "RandomPoissonNoise",
    "RandomRicianNoise",
    "RandomRot90",
    "RandomSaltAndPepperNoise",
    "RandomSharpen",
    "RandomSpeckleNoise",
    "RandomThickSlices",
    "RandomTransform",
    "Resample",
    "ResampleParameters",
    "Resampling",
    "RescalePercentiles",
    "Rot90",
    "Rot90Parameters",
    "Sharpen",
    "SharpenParameters",
    "SomeOf",
    "SpatialPlan",
    "SpatialTransform",
    "ThickSlices",
    "ThickSlicesParameters",
    "Transform",
    "ZScoreNormalize",
    "build_transform",
    "check_choice",
    "check_nonnegative",
    "check_positive",
    "check_probability",
    "check_range",
    "check_vector",
    "from_yaml",
    "get_transform_class",
    "invert",
    "physical_axis",
    "promote_intensity",
    "registered_transforms",
    "replay",
    "run_leaves",
    "to_plain",
    "to_yaml",
]

# Interoperability classes import MONAI or albumentations, so they load on first use.
_LAZY = {
    "AlbumentationsTransform": "medaug.transforms.interop_albumentations",
    "MedaugAlbumentations": "medaug.transforms.interop_albumentations",
    "MedaugDictTransform": "medaug.transforms.interop_monai",
    "MonaiTransform": "medaug.transforms.interop_monai",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'medaug.transforms' has no attribute {name!r}")
