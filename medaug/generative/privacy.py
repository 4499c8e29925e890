"""Privacy checks of a synthetic set against the training set it was learnt from.

All functions compare images on a common intensity scale. Distances are
root-mean-square differences per pixel (the Euclidean distance divided by
the square root of the pixel count), in the images' intensity unit.

References
----------
Hilprecht, B., Härterich, M., Bernau, D. "Monte Carlo and reconstruction
membership inference attacks against generative models." Proceedings on
Privacy Enhancing Technologies 2019(4):232-249. DOI 10.2478/popets-2019-0067.

Carlini, N., Chien, S., Nasr, M., Song, S., Terzis, A., Tramèr, F.
"Membership inference attacks from first principles." IEEE Symposium on
Security and Privacy 2022, pp. 1897-1914. DOI 10.1109/SP46214.2022.9833649
(reporting true-positive rate at a low false-positive rate).

Good, P. I. "Permutation, Parametric, and Bootstrap Tests of Hypotheses",
3rd ed. Springer, 2005. DOI 10.1007/b138696 (exact permutation tests under
exchangeability).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "pairwise_rms_distance",
    "nearest_distances",
    "tpr_at_fpr",
    "roc_auc",
    "group_max",
    "top_rank_p_value",
    "membership_leakage_test",
]


def pairwise_rms_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the RMS pixel difference between every image of ``a`` and of ``b``, ``(Na, Nb)``.

    Examples
    --------
    >>> import numpy as np
    >>> pairwise_rms_distance(np.zeros((1, 2, 2)), np.full((2, 2, 2), 3.0)).tolist()
    [[3.0, 3.0]]
    """
    a_rows = np.asarray(a, dtype=np.float64).reshape(len(a), -1)
    b_rows = np.asarray(b, dtype=np.float64).reshape(len(b), -1)
    if a_rows.shape[1] != b_rows.shape[1]:
        raise ValueError(f"image sizes differ: {a_rows.shape[1]} vs {b_rows.shape[1]} pixels")
    squared = (
        (a_rows**2).sum(axis=1)[:, None] + (b_rows**2).sum(axis=1)[None, :] - 2.0 * a_rows @ b_rows.T
    )
    return np.sqrt(np.maximum(squared, 0.0) / a_rows.shape[1])


def nearest_distances(
    distances: np.ndarray,
    *,
    query_groups: Sequence[str] | None = None,
    reference_groups: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return each query's distance to its nearest reference and that reference's index.

    Parameters
    ----------
    distances : numpy.ndarray, (Nq, Nr)
    query_groups, reference_groups : sequence of str, optional
        Patient ids. When both are given, references of the query's own
        patient are skipped (a training image is not its own neighbour).

    Raises
    ------
    ValueError
        If a query has no reference left after skipping its own patient.
    """
    distances = np.array(distances, dtype=np.float64)
    if query_groups is not None and reference_groups is not None:
        same = np.asarray(query_groups)[:, None] == np.asarray(reference_groups)[None, :]
        distances[same] = np.inf
        if np.isinf(distances).all(axis=1).any():
            raise ValueError("a query has no reference from another patient because the set contains one patient only")
    index = distances.argmin(axis=1)
    return distances[np.arange(len(distances)), index], index


def tpr_at_fpr(member_scores: np.ndarray, nonmember_scores: np.ndarray, *, fpr: float = 0.01) -> float:
    """Return the true-positive rate of a score threshold whose false-positive rate is at most ``fpr``.

    Higher scores mean "member". The threshold is the smallest one that
    flags at most ``floor(fpr * n_nonmembers)`` non-members, so with fewer
    than ``1 / fpr`` non-members it flags none of them and the estimate is
    conservative.

    Examples
    --------
    >>> import numpy as np
    >>> tpr_at_fpr(np.array([5.0, 6.0, 0.5]), np.linspace(0, 1, 100))
    0.6666666666666666
    """
    members = np.asarray(member_scores, dtype=np.float64)
    nonmembers = np.sort(np.asarray(nonmember_scores, dtype=np.float64))[::-1]
    if members.size == 0 or nonmembers.size == 0:
        raise ValueError("`member_scores` and `nonmember_scores` must not be empty")
    if not 0 <= fpr < 1:
        raise ValueError(f"`fpr` must be in [0, 1), got {fpr}")
    allowed = int(np.floor(fpr * nonmembers.size))
    # Flag scores strictly above the (allowed + 1)-th highest non-member score.
    threshold = nonmembers[allowed]
    return float((members > threshold).mean())


def roc_auc(member_scores: np.ndarray, nonmember_scores: np.ndarray) -> float:
    """Return the area under the ROC curve (ties count one half).

    Examples
    --------
    >>> roc_auc([2.0, 3.0], [1.0, 2.0])
    0.875
    """
    members = np.asarray(member_scores, dtype=np.float64)[:, None]
    nonmembers = np.asarray(nonmember_scores, dtype=np.float64)[None, :]
    return float((members > nonmembers).mean() + 0.5 * (members == nonmembers).mean())


def group_max(values: np.ndarray, groups: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Return the maximum of ``values`` within each group, and the group ids in first-seen order."""
    values = np.asarray(values, dtype=np.float64)
    order: list[str] = []
    best: dict[str, float] = {}
    for value, group in zip(values, groups):
        if group not in best:
            order.append(group)
            best[group] = value
        else:
            best[group] = max(best[group], value)
    return np.array([best[g] for g in order]), order


def top_rank_p_value(k: int, members: int, nonmembers: int) -> float:
    """Return ``C(members, k) / C(members + nonmembers, k)``, the chance that the ``k`` top scores are all members.

    Under the null hypothesis that the generator is independent of its
    training set, member and non-member scores are exchangeable, so every
    ranking of the ``members + nonmembers`` records is equally likely and
    this ratio is the exact probability that the ``k`` highest-ranked
    records are all members. ``k = 0`` gives 1.

    Examples
    --------
    >>> top_rank_p_value(2, 3, 4)  # C(3, 2) / C(7, 2) = 3 / 21
    0.14285714285714285
    """
    for name, value in (("k", k), ("members", members), ("nonmembers", nonmembers)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"`{name}` must be an int, got {type(value).__name__}")
    if members < 1 or nonmembers < 0:
        raise ValueError(f"`members` must be >= 1 and `nonmembers` >= 0, got {members} and {nonmembers}")
    if not 0 <= k <= members:
        raise ValueError(f"`k` must be in [0, members={members}], got {k}")
    # Exact integers first; the ratio is rounded once.
    return math.comb(int(members), int(k)) / math.comb(int(members) + int(nonmembers), int(k))


def membership_leakage_test(member_scores: np.ndarray, nonmember_scores: np.ndarray) -> dict[str, float | int]:
    """Return the one-sided exact test of members ranking above every non-member.

    ``k`` counts members scoring strictly above the highest non-member
    score (a tie with it does not count). ``p_value`` is
    :func:`top_rank_p_value` of ``k``: small when more members lead the
    ranking than chance allows.

    Returns
    -------
    dict
        ``{"k": int, "members": m, "nonmembers": n, "p_value": float}``.

    Examples
    --------
    >>> membership_leakage_test([5.0, 4.0, 0.1], [1.0, 0.5])["k"]
    2
    """
    members = np.asarray(member_scores, dtype=np.float64).ravel()
    nonmembers = np.asarray(nonmember_scores, dtype=np.float64).ravel()
    if members.size == 0 or nonmembers.size == 0:
        raise ValueError("`member_scores` and `nonmember_scores` must not be empty")
    k = int((members > nonmembers.max()).sum())
    return {
        "k": k,
        "members": int(members.size),
        "nonmembers": int(nonmembers.size),
        "p_value": top_rank_p_value(k, int(members.size), int(nonmembers.size)),
    }
