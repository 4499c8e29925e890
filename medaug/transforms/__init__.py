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
from medaug.transforms.functional.coordinates import (
    AffineMap,
    DisplacementMap,
    Grid,
    SpatialPlan,
)
from medaug.transforms.functional.resample import Resampling
from medaug.transforms.serialization import from_yaml, to_yaml
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
    "Affine",
    "AffineMap",
    "AffineParameters",
    "Compose",
    "DisplacementMap",
    "Flip",
    "FlipParameters",
    "Grid",
    "IntensityTransform",
    "InterpolatingTransform",
    "NotInvertibleError",
    "OneOf",
    "RandomAffine",
    "RandomApply",
    "RandomFlip",
    "RandomRot90",
    "RandomTransform",
    "Resampling",
    "Rot90",
    "Rot90Parameters",
    "SomeOf",
    "SpatialPlan",
    "SpatialTransform",
    "Transform",
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
    "promote_intensity",
    "registered_transforms",
    "replay",
    "run_leaves",
    "to_plain",
    "to_yaml",
]
