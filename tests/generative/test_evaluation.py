"""The utility and privacy report on constructed synthetic sets."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage

from medaug.generative.errors import ImageShapeMismatchError, NonFiniteImageError, TooFewImagesError
from medaug.generative.evaluation import evaluate_synthetic, utility_metrics


def memorising_stand_in(
    train: np.ndarray, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A generator that memorises by construction: training images, flipped, shifted and noisy.

    Returns the images and the indices of the training images they copy.
    """
    chosen = rng.integers(0, len(train), size=count)
    copies = []
    for index in chosen:
        image = np.flip(train[index], axis=1) if rng.random() < 0.5 else train[index]
        image = scipy.ndimage.shift(image, rng.integers(-3, 4, size=2), order=0)
        copies.append(image + rng.normal(0, 0.02, image.shape))
    return np.stack(copies), chosen


@pytest.fixture(scope="module")
def sets(heads):
    rng = np.random.default_rng(21)
    train, _ = heads(20, rng)
    real, _ = heads(20, rng)
    independent, _ = heads(20, rng)
    memorised, copied = memorising_stand_in(train, 20, rng)
    return train, real, independent, memorised, copied


@pytest.fixture(scope="module")
def reports(sets):
    train, real, independent, memorised, _ = sets
    return {
        "independent": evaluate_synthetic(real, independent, train, np.random.default_rng(0)),
        "memorised": evaluate_synthetic(real, memorised, train, np.random.default_rng(0)),
    }


def test_memorising_stand_in_is_reported(reports, sets):
    privacy = reports["memorised"]["privacy"]
    assert privacy["memorising"]
    assert privacy["copy_detection"]["flagged_fraction"] >= 0.95
    # Copied members match a synthetic image almost exactly, so the attack finds
    # them all; the other members look like non-members.
    covered = len(np.unique(sets[4])) / len(sets[0])
    assert privacy["membership_inference"]["tpr_at_1pct_fpr"] >= covered
    assert "copies" in privacy["memorising_criteria"]


def test_independent_generator_is_not_memorising(reports):
    privacy = reports["independent"]["privacy"]
    assert not privacy["memorising"]
    assert privacy["memorising_criteria"] == []
    assert privacy["copy_detection"]["flagged_fraction"] <= 0.05
    # Under independence the leakage p-value is uniform-ish; 0.001 is the default level.
    assert privacy["membership_inference"]["leakage_test"]["p_value"] >= privacy["membership_alpha"] == 0.001
    # Independent samples are as far from training images as held-out images are.
    assert privacy["distance_to_closest_record"]["ratio_of_medians"] == pytest.approx(1.0, abs=0.3)


def test_independent_scores_better_on_privacy(reports):
    good, bad = reports["independent"]["privacy"], reports["memorised"]["privacy"]
    assert good["copy_detection"]["flagged_fraction"] < bad["copy_detection"]["flagged_fraction"]
    assert good["membership_inference"]["tpr_at_1pct_fpr"] < bad["membership_inference"]["tpr_at_1pct_fpr"]
    assert good["membership_inference"]["auc"] < bad["membership_inference"]["auc"]


def test_utility_of_same_family_matches_baseline(reports):
    utility = reports["independent"]["utility"]
    for metric in ("frechet_random_conv", "frechet_handcrafted", "power_spectrum", "intensity_wasserstein"):
        values = utility[metric]
        distance_to_real = abs(values["synthetic"] - values["real_vs_real"])
        distance_to_noise = abs(values["synthetic"] - values["noise_baseline"])
        assert distance_to_real < distance_to_noise, metric
    assert utility["prdc_random_conv"]["synthetic"]["precision"] > 0.5


def test_identical_sets_give_zero_distances(sets):
    train, real = sets[0], sets[1]
    utility = utility_metrics(real, real.copy(), train, np.random.default_rng(0))
    assert utility["power_spectrum"]["synthetic"] == 0.0
    assert utility["intensity_wasserstein"]["synthetic"] == 0.0
    # sqrtm of equal covariances cancels to rounding error.
    assert utility["frechet_random_conv"]["synthetic"] == pytest.approx(0.0, abs=1e-6)


def test_bad_input(rng):
    images = rng.random((4, 32, 32))
    with pytest.raises(TooFewImagesError, match="at least 2 images"):
        evaluate_synthetic(images, images[:1], images, rng)
    with pytest.raises(ImageShapeMismatchError, match="share one image shape"):
        evaluate_synthetic(images, rng.random((4, 32, 30)), images, rng)
    bad = images.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(NonFiniteImageError, match="NaN"):
        evaluate_synthetic(images, bad, images, rng)
    with pytest.raises(ValueError, match=r"`membership_alpha` must be in \(0, 1\), got 0"):
        evaluate_synthetic(images, images, images, rng, membership_alpha=0)
