"""Synthetic images: label-to-image synthesis, trainable generators, evaluation.

Label-to-image synthesis (:mod:`~medaug.generative.label_to_image`) turns
label maps into images by domain randomisation. Generators
(:mod:`~medaug.generative.models`, :mod:`~medaug.generative.training`,
:mod:`~medaug.generative.sampling`) train on a CPU and act as sample
sources. Evaluation reports how useful a synthetic set is (distribution
distances beside real-versus-real baselines) and how private
(nearest-neighbour distances, augmentation-robust copy detection,
membership inference).
"""

from medaug.generative.copy_detection import CopyDetector, CopyMatches
from medaug.generative.errors import (
    EmptyImageSetError,
    ImageSetError,
    ImageShapeMismatchError,
    NonFiniteImageError,
    TooFewImagesError,
)
from medaug.generative.evaluation import evaluate_synthetic
from medaug.generative.features import handcrafted_features, random_conv_features
from medaug.generative.imagesets import ImageSet, as_image_set, read_image_folder
from medaug.generative.label_to_image import (
    LabelToImage,
    LabelToImageSynthesis,
    RandomLabelToImage,
)
from medaug.generative.metrics import (
    frechet_distance,
    intensity_distance,
    kernel_distance,
    power_spectrum_distance,
    precision_recall_density_coverage,
)
from medaug.generative.models import DiffusionGenerator, ModelSettings, VAEGenerator, build_model
from medaug.generative.sampling import GeneratorSource, load_generator
from medaug.generative.similarity import ms_ssim, ms_ssim_diversity
from medaug.generative.training import TrainConfig, load_train_config, train_generator

__all__ = [
    "CopyDetector",
    "CopyMatches",
    "DiffusionGenerator",
    "EmptyImageSetError",
    "GeneratorSource",
    "ImageSet",
    "ImageSetError",
    "ImageShapeMismatchError",
    "LabelToImage",
    "LabelToImageSynthesis",
    "ModelSettings",
    "NonFiniteImageError",
    "RandomLabelToImage",
    "TooFewImagesError",
    "TrainConfig",
    "VAEGenerator",
    "as_image_set",
    "build_model",
    "evaluate_synthetic",
    "frechet_distance",
    "handcrafted_features",
    "intensity_distance",
    "kernel_distance",
    "load_generator",
    "load_train_config",
    "ms_ssim",
    "ms_ssim_diversity",
    "power_spectrum_distance",
    "precision_recall_density_coverage",
    "random_conv_features",
    "read_image_folder",
    "train_generator",
]
