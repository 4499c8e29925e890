"""Distances between image distributions: Fréchet, kernel, PRDC, spectra, histograms.

Every function takes two sets (features ``(N, F)`` or images
``(N, *spatial)``) and returns plain floats, so they are easy to test on
constructed cases: identical sets, shifted Gaussians, disjoint clusters.

References
----------
Dowson, D. C., Landau, B. V. "The Fréchet distance between multivariate
normal distributions." Journal of Multivariate Analysis 12(3):450-455,
1982. DOI 10.1016/0047-259X(82)90077-X.

Heusel, M., Ramsauer, H., Unterthiner, T., Nessler, B., Hochreiter, S. "GANs
trained by a two time-scale update rule converge to a local Nash
equilibrium." NeurIPS 2017. arXiv:1706.08500.

Bińkowski, M., Sutherland, D. J., Arbel, M., Gretton, A. "Demystifying MMD
GANs." ICLR 2018. arXiv:1801.01401.

Naeem, M. F., Oh, S. J., Uh, Y., Choi, Y., Yoo, J. "Reliable fidelity and
diversity metrics for generative models." ICML 2020, PMLR 119:7176-7185.
arXiv:2002.09797.
"""

from __future__ import annotations

import numpy as np
import scipy.spatial.distance
import scipy.stats

from medaug.generative.errors import TooFewImagesError
from medaug.generative.features import radial_power_spectrum

__all__ = [
    "frechet_distance",
    "kernel_distance",
    "precision_recall_density_coverage",
    "intensity_distance",
    "power_spectrum_distance",
]


def _check_features(features: np.ndarray, name: str, min_count: int = 2) -> np.ndarray:
    array = np.asarray(features, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"`{name}` must be shaped (N, F), got shape {array.shape}")
    if len(array) < min_count:
        raise TooFewImagesError(f"`{name}` must contain at least {min_count} rows, got {len(array)}")
    if not np.isfinite(array).all():
        raise ValueError(f"`{name}` must be finite")
    return array


def _check_pair(a: np.ndarray, b: np.ndarray, min_count: int = 2) -> tuple[np.ndarray, np.ndarray]:
    a = _check_features(a, "features_a", min_count)
    b = _check_features(b, "features_b", min_count)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets differ in width: {a.shape[1]} vs {b.shape[1]}")
    return a, b


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Return the Fréchet distance between Gaussians fitted to two feature sets.

    Notes
    -----
    ``d = |mu_a - mu_b|**2 + tr(S_a + S_b - 2 (S_a S_b)**(1/2))`` with sample
    means ``mu`` and covariances ``S`` (Dowson and Landau 1982); computed on
    Inception features this is the FID of Heusel et al. 2017. The value is a
    squared distance in feature units and is biased upwards for small sets,
    so compare it with a real-versus-real baseline of the same size.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.random.default_rng(0).normal(size=(500, 2))
    >>> round(frechet_distance(a, a + [3.0, 4.0]), 6)  # |shift|**2, covariances equal
    25.0
    """
    a, b = _check_pair(features_a, features_b)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    # tr (S_a S_b)^(1/2) equals the sum of square roots of the eigenvalues of
    # the symmetric matrix S_a^(1/2) S_b S_a^(1/2), which eigh computes stably.
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    middle = root_a @ cov_b @ root_a
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2.0), 0.0, None)).sum()
    distance = float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_root)
    return max(distance, 0.0)


def _polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int) -> np.ndarray:
    return (x @ y.T / x.shape[1] + 1.0) ** degree


def kernel_distance(features_a: np.ndarray, features_b: np.ndarray, *, degree: int = 3) -> float:
    """Return the unbiased squared MMD with a polynomial kernel (the KID estimator).

    Notes
    -----
    ``k(x, y) = (x . y / F + 1) ** degree`` for ``F`` features (Bińkowski et
    al. 2018). The unbiased estimator excludes the diagonal within each set,
    so it can be slightly negative when both sets come from one distribution.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = np.zeros((4, 2)), np.ones((4, 2))
    >>> kernel_distance(a, b)  # k(0,0) + k(1,1) - 2 k(0,1) = 1 + 8 - 2
    7.0
    """
    a, b = _check_pair(features_a, features_b)
    if degree < 1:
        raise ValueError(f"`degree` must be >= 1, got {degree}")
    m, n = len(a), len(b)
    k_aa = _polynomial_kernel(a, a, degree)
    k_bb = _polynomial_kernel(b, b, degree)
    k_ab = _polynomial_kernel(a, b, degree)
    within_a = (k_aa.sum() - np.trace(k_aa)) / (m * (m - 1))
    within_b = (k_bb.sum() - np.trace(k_bb)) / (n * (n - 1))
    return float(within_a + within_b - 2.0 * k_ab.mean())


def precision_recall_density_coverage(
    real_features: np.ndarray, fake_features: np.ndarray, *, k: int = 5
) -> dict[str, float]:
    """Return precision, recall, density and coverage of a synthetic set (Naeem et al. 2020).

    Parameters
    ----------
    real_features, fake_features : numpy.ndarray, (N, F) and (M, F)
    k : int
        Neighbourhood size: each point's ball reaches its ``k``-th nearest
        neighbour within its own set (default 5, as in the paper).

    Returns
    -------
    dict
        ``precision`` (fraction of fake points inside some real ball),
        ``recall`` (fraction of real points inside some fake ball),
        ``density`` (mean count of real balls holding a fake point, over
        ``k``; 1 on average for matching distributions) and ``coverage``
        (fraction of real balls that hold a fake point).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(50, 3))
    >>> scores = precision_recall_density_coverage(x, x, k=5)
    >>> scores["precision"], scores["coverage"], round(scores["density"], 3)  # (k+1)/k
    (1.0, 1.0, 1.2)
    """
    real, fake = _check_pair(real_features, fake_features, min_count=2)
    if not 1 <= k < min(len(real), len(fake)):
        raise ValueError(f"`k` must be in [1, {min(len(real), len(fake)) - 1}] for these sets, got {k}")
    real_radius = _kth_neighbour_distance(real, k)
    fake_radius = _kth_neighbour_distance(fake, k)
    real_to_fake = scipy.spatial.distance.cdist(real, fake)
    inside_real = real_to_fake <= real_radius[:, None]
    inside_fake = real_to_fake <= fake_radius[None, :]
    return {
        "precision": float(inside_real.any(axis=0).mean()),
        "recall": float(inside_fake.any(axis=1).mean()),
        "density": float(inside_real.sum() / (k * len(fake))),
        "coverage": float((real_to_fake.min(axis=1) <= real_radius).mean()),
    }


def _kth_neighbour_distance(points: np.ndarray, k: int) -> np.ndarray:
    distances = scipy.spatial.distance.cdist(points, points)
    # Column 0 of the sorted rows is the point itself (distance 0).
    return np.sort(distances, axis=1)[:, k]


def intensity_distance(images_a: np.ndarray, images_b: np.ndarray) -> float:
    """Return the Wasserstein-1 distance between the pooled intensities of two sets.

    The unit is the images' intensity unit: shifting every image by ``c``
    gives ``|c|``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.random.default_rng(0).normal(size=(4, 8, 8))
    >>> round(intensity_distance(a, a + 2.5), 6)
    2.5
    """
    a = np.asarray(images_a, dtype=np.float64).reshape(-1)
    b = np.asarray(images_b, dtype=np.float64).reshape(-1)
    if a.size == 0 or b.size == 0:
        raise ValueError("`images_a` and `images_b` must not be empty")
    return float(scipy.stats.wasserstein_distance(a, b))


def power_spectrum_distance(images_a: np.ndarray, images_b: np.ndarray) -> float:
    """Return the RMS difference of the mean radial log10 power spectra of two sets.

    The unit is decades of power: scaling every image by ``a`` gives
    ``2 * |log10(a)|``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.random.default_rng(0).normal(size=(4, 16, 16))
    >>> round(power_spectrum_distance(a, 10 * a), 6)
    2.0
    """
    a = np.asarray(images_a, dtype=np.float64)
    b = np.asarray(images_b, dtype=np.float64)
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"image shapes differ: {a.shape[1:]} vs {b.shape[1:]}")
    spectrum_a = radial_power_spectrum(a, log=False).mean(axis=0)
    spectrum_b = radial_power_spectrum(b, log=False).mean(axis=0)
    difference = np.log10(spectrum_a + 1e-12) - np.log10(spectrum_b + 1e-12)
    return float(np.sqrt(np.mean(difference**2)))
