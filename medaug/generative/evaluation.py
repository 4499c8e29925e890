"""One offline report on how useful and how private a synthetic image set is.

:func:`evaluate_synthetic` compares three sets of one image shape:

* ``train``: the images the generator learnt from,
* ``real``: held-out real images the generator never saw,
* ``synthetic``: the generator's samples.

Utility compares ``synthetic`` with ``real`` and reports each value beside
the same metric for ``train`` against ``real`` (the real-versus-real
baseline) and for independent Gaussian noise with the training set's mean
and standard deviation (the noise baseline). Privacy compares ``synthetic``
with ``train`` and reports each value beside the same quantity for
``real`` against ``train``.

All sets are mapped to a common intensity scale first: ``(x - p0.5) /
(p99.5 - p0.5)`` with the 0.5 and 99.5 percentiles of the real set, the
same map for every set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from medaug.generative import metrics
from medaug.generative.copy_detection import CopyDetector, calibrate_threshold
from medaug.generative.features import (
    RANDOM_FEATURE_SEED,
    handcrafted_features,
    random_conv_features,
)
from medaug.generative.imagesets import ImageSet, as_image_set, check_comparable
from medaug.generative.privacy import (
    group_max,
    membership_leakage_test,
    nearest_distances,
    pairwise_rms_distance,
    roc_auc,
    tpr_at_fpr,
)
from medaug.generative.similarity import ms_ssim_diversity

__all__ = ["evaluate_synthetic", "utility_metrics", "privacy_metrics", "intensity_scale"]

logger = logging.getLogger(__name__)


def intensity_scale(real: np.ndarray) -> tuple[float, float]:
    """Return the 0.5 and 99.5 percentiles of ``real`` (or min and max when they coincide)."""
    low, high = np.percentile(real, [0.5, 99.5])
    if high <= low:
        low, high = float(np.min(real)), float(np.max(real))
    if high <= low:
        raise ValueError(f"`real` images are constant ({low}); intensity scale is undefined")
    return float(low), float(high)


def _metric_table(
    compare: Callable[[np.ndarray, np.ndarray], Any],
    real: np.ndarray,
    synthetic: np.ndarray,
    train: np.ndarray,
    noise: np.ndarray,
) -> dict[str, Any]:
    return {
        "synthetic": compare(synthetic, real),
        "real_vs_real": compare(train, real),
        "noise_baseline": compare(noise, real),
    }


def utility_metrics(
    real: np.ndarray,
    synthetic: np.ndarray,
    train: np.ndarray,
    rng: np.random.Generator,
    *,
    feature_seed: int = RANDOM_FEATURE_SEED,
    k: int = 5,
) -> dict[str, Any]:
    """Return utility metrics of ``synthetic`` against ``real`` beside their baselines.

    ``synthetic`` and ``train`` are subsampled to a common count (the
    smaller one) so that the small-sample bias of the Fréchet and kernel
    distances is the same for the synthetic set and its baselines.
    """
    count = min(len(synthetic), len(train))
    synthetic = synthetic[np.sort(rng.choice(len(synthetic), count, replace=False))]
    train = train[np.sort(rng.choice(len(train), count, replace=False))]
    noise = train.mean() + train.std() * rng.standard_normal(train.shape)

    conv = {name: random_conv_features(x, seed=feature_seed) for name, x in
            (("real", real), ("synthetic", synthetic), ("train", train), ("noise", noise))}
    crafted = {name: handcrafted_features(x) for name, x in
               (("real", real), ("synthetic", synthetic), ("train", train), ("noise", noise))}
    # Handcrafted features mix units, so each is standardised with the real set's spread.
    centre, spread = crafted["real"].mean(axis=0), crafted["real"].std(axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    crafted = {name: (value - centre) / spread for name, value in crafted.items()}

    def on_features(table: dict[str, np.ndarray], function: Callable) -> dict[str, Any]:
        return {
            "synthetic": function(table["real"], table["synthetic"]),
            "real_vs_real": function(table["real"], table["train"]),
            "noise_baseline": function(table["real"], table["noise"]),
        }

    k_used = min(k, count - 1, len(real) - 1)
    pair_rng = np.random.default_rng(rng.integers(1 << 62))
    return {
        "count_compared": count,
        "frechet_random_conv": on_features(conv, metrics.frechet_distance),
        "kernel_random_conv": on_features(conv, metrics.kernel_distance),
        "frechet_handcrafted": on_features(crafted, metrics.frechet_distance),
        "kernel_handcrafted": on_features(crafted, metrics.kernel_distance),
        "prdc_random_conv": on_features(
            conv, lambda a, b: metrics.precision_recall_density_coverage(a, b, k=k_used)
        ),
        "intensity_wasserstein": _metric_table(metrics.intensity_distance, real, synthetic, train, noise),
        "power_spectrum": _metric_table(metrics.power_spectrum_distance, real, synthetic, train, noise),
        "ms_ssim_diversity": {
            "synthetic": ms_ssim_diversity(synthetic, pair_rng, max_pairs=100, data_range=1.0),
            "real": ms_ssim_diversity(real, pair_rng, max_pairs=100, data_range=1.0),
            "train": ms_ssim_diversity(train, pair_rng, max_pairs=100, data_range=1.0),
        },
    }


def privacy_metrics(
    synthetic: ImageSet,
    train: ImageSet,
    real: ImageSet,
    *,
    detector: CopyDetector,
    memorisation_fraction: float = 0.05,
    membership_alpha: float = 0.001,
) -> dict[str, Any]:
    """Return nearest-neighbour, copy-detection and membership-inference results.

    Parameters
    ----------
    synthetic, train, real : ImageSet
        Images on the common intensity scale; ``real`` is the holdout.
    detector : CopyDetector
        Copy detector; its threshold is calibrated on ``real`` against ``train``.
    memorisation_fraction : float
        The generator is reported as memorising when more than this fraction
        of synthetic images are flagged as copies (default 0.05).
    membership_alpha : float
        The generator is also reported as memorising when the exact
        membership-leakage p-value (:func:`~medaug.generative.privacy.membership_leakage_test`
        on patient-level scores) is below this level (default 0.001).
        ``privacy["memorising_criteria"]`` names the criteria that fired:
        ``"copies"`` and/or ``"membership leakage"``.
    """
    if not 0 <= memorisation_fraction < 1:
        raise ValueError(f"`memorisation_fraction` must be in [0, 1), got {memorisation_fraction}")
    if not 0 < membership_alpha < 1:
        raise ValueError(f"`membership_alpha` must be in (0, 1), got {membership_alpha}")
    shared_patients = sorted(set(train.patients) & set(real.patients))
    if shared_patients:
        logger.warning(
            "%d patient(s) appear in both the training and the holdout set (%s); "
            "their holdout images are compared only with other patients' training images",
            len(shared_patients), ", ".join(shared_patients[:5]),
        )

    synthetic_dcr, _ = nearest_distances(pairwise_rms_distance(synthetic.images, train.images))
    holdout_dcr, _ = nearest_distances(
        pairwise_rms_distance(real.images, train.images),
        query_groups=real.patients, reference_groups=train.patients,
    )
    low_holdout = float(np.percentile(holdout_dcr, 5))

    matches = detector.match(synthetic.images, train.images)
    holdout_matches = detector.match(real.images, train.images)
    # NOTE: a holdout image whose best match is its own patient's training image
    # still calibrates the threshold; only nearest distances skip own patients.
    threshold = calibrate_threshold(holdout_matches.similarity, margin=detector.margin)
    best, match = matches.similarity, matches.index
    flagged = np.flatnonzero(best > threshold)
    copy_fraction = float(flagged.size / len(synthetic))

    # Membership inference: a record that some synthetic image copies (highest
    # augmentation-robust similarity) is guessed a member.
    member_scores, _ = group_max(detector.match(train.images, synthetic.images).similarity, train.patients)
    nonmember_scores, _ = group_max(detector.match(real.images, synthetic.images).similarity, real.patients)
    leakage = membership_leakage_test(member_scores, nonmember_scores)
    criteria = [
        name for name, fired in (
            ("copies", copy_fraction > memorisation_fraction),
            ("membership leakage", leakage["p_value"] < membership_alpha),
        ) if fired
    ]

    return {
        "distance_to_closest_record": {
            "unit": "RMS intensity difference per pixel on the common scale",
            "synthetic_to_train_median": float(np.median(synthetic_dcr)),
            "synthetic_to_train_p5": float(np.percentile(synthetic_dcr, 5)),
            "holdout_to_train_median": float(np.median(holdout_dcr)),
            "holdout_to_train_p5": low_holdout,
            "ratio_of_medians": float(np.median(synthetic_dcr) / max(np.median(holdout_dcr), 1e-12)),
            "fraction_below_holdout_p5": float((synthetic_dcr < low_holdout).mean()),
        },
        "copy_detection": {
            "threshold": float(threshold),
            "holdout_max_similarity": float(holdout_matches.similarity.max()),
            "flagged_fraction": copy_fraction,
            "flagged": [
                {
                    "synthetic": synthetic.names[i],
                    "nearest_train": train.names[int(match[i])],
                    "patient": train.patients[int(match[i])],
                    "similarity": float(best[i]),
                    "distance_to_closest_record": float(synthetic_dcr[i]),
                }
                for i in flagged
            ],
            "flagged_patients": sorted({train.patients[int(match[i])] for i in flagged}),
        },
        "membership_inference": {
            "attack": "largest augmentation-robust similarity of each record to a synthetic image",
            "unit": "patients" if len(set(train.patients)) < len(train) else "images",
            "tpr_at_1pct_fpr": tpr_at_fpr(member_scores, nonmember_scores, fpr=0.01),
            "auc": roc_auc(member_scores, nonmember_scores),
            "members": int(member_scores.size),
            "nonmembers": int(nonmember_scores.size),
            "leakage_test": {
                "statistic": "k = members scoring above the highest non-member",
                "null": "generator independent of the training set (scores exchangeable)",
                **leakage,
                "alpha": membership_alpha,
            },
        },
        "memorising": bool(criteria),
        "memorising_criteria": criteria,
        "memorisation_fraction": memorisation_fraction,
        "membership_alpha": membership_alpha,
        "_flagged_pairs": [(int(i), int(match[i])) for i in flagged],
    }


def evaluate_synthetic(
    real: Any,
    synthetic: Any,
    train: Any,
    rng: np.random.Generator,
    *,
    detector: CopyDetector | None = None,
    memorisation_fraction: float = 0.05,
    membership_alpha: float = 0.001,
    feature_seed: int = RANDOM_FEATURE_SEED,
) -> dict[str, Any]:
    """Evaluate the utility and privacy of a synthetic set.

    Parameters
    ----------
    real, synthetic, train : ImageSet or array (N, *spatial)
        Held-out real images, synthetic images and training images, all of
        one shape, at least 2 images each.
    rng : numpy.random.Generator
        Draws subsamples, the noise baseline and MS-SSIM pairs.
    detector : CopyDetector, optional
        Default: ``CopyDetector()``.
    memorisation_fraction, membership_alpha : float
        See :func:`privacy_metrics`.
    feature_seed : int
        Seed of the random convolutional features.

    Returns
    -------
    dict
        ``{"utility": ..., "privacy": ..., "intensity_scale": ..., "counts": ...}``;
        the key ``privacy["_flagged_pairs"]`` lists ``(synthetic, train)``
        index pairs for figures and is dropped when written to JSON.

    Raises
    ------
    EmptyImageSetError, TooFewImagesError, ImageShapeMismatchError, NonFiniteImageError
    """
    if not 0 < membership_alpha < 1:
        raise ValueError(f"`membership_alpha` must be in (0, 1), got {membership_alpha}")
    real_set = as_image_set(real, "real")
    synthetic_set = as_image_set(synthetic, "synthetic")
    train_set = as_image_set(train, "train")
    check_comparable(("real", real_set), ("synthetic", synthetic_set), ("train", train_set))
    detector = detector or CopyDetector()

    low, high = intensity_scale(real_set.images)
    scaled = {
        name: ImageSet((s.images - low) / (high - low), s.names, s.patients)
        for name, s in (("real", real_set), ("synthetic", synthetic_set), ("train", train_set))
    }
    utility = utility_metrics(
        scaled["real"].images, scaled["synthetic"].images, scaled["train"].images, rng,
        feature_seed=feature_seed,
    )
    privacy = privacy_metrics(
        scaled["synthetic"], scaled["train"], scaled["real"],
        detector=detector, memorisation_fraction=memorisation_fraction,
        membership_alpha=membership_alpha,
    )
    return {
        "counts": {"real": len(real_set), "synthetic": len(synthetic_set), "train": len(train_set)},
        "intensity_scale": {"low": low, "high": high, "source": "0.5 and 99.5 percentiles of the real set"},
        "feature_seed": feature_seed,
        "utility": utility,
        "privacy": privacy,
    }
