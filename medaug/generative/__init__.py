"""Synthetic images: label-to-image synthesis, trainable generators, evaluation.

Evaluation reports how useful a synthetic set is (distribution distances
beside real-versus-real baselines) and how private (nearest-neighbour
distances, augmentation-robust copy detection, membership inference).
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
from medaug.generative.metrics import (
    frechet_distance,
    intensity_distance,
    kernel_distance,
    power_spectrum_distance,
    precision_recall_density_coverage,
)
from medaug.generative.similarity import ms_ssim, ms_ssim_diversity

__all__ = [
    "CopyDetector",
    "CopyMatches",
    "EmptyImageSetError",
    "ImageSet",
    "ImageSetError",
    "ImageShapeMismatchError",
    "NonFiniteImageError",
    "TooFewImagesError",
    "as_image_set",
    "evaluate_synthetic",
    "frechet_distance",
    "handcrafted_features",
    "intensity_distance",
    "kernel_distance",
    "ms_ssim",
    "ms_ssim_diversity",
    "power_spectrum_distance",
    "precision_recall_density_coverage",
    "random_conv_features",
    "read_image_folder",
]
