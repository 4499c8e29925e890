"""Copy detection that survives the augmentations used in training.

A synthetic image is compared with every training image after undoing the
alterations a training pipeline applies: flips, shifts of a few pixels,
small rotations, noise and blur. Matching runs in two stages:

1. Retrieval: both sides are low-pass filtered and block-averaged to about
   32 pixels per side; each query is expanded into flipped and rotated
   variants, and the normalised cross-correlation (NCC), maximised over
   variants and small shifts, ranks the training images. The best few are
   kept as candidates, each with its best flip.
2. Verification at full resolution on band-passed images (a difference of
   Gaussians, which removes noise and the smooth anatomy that all images
   share): the NCC is maximised over integer shifts up to ``max_shift_px``,
   rotations in steps of half the retrieval step, and blurred
   copies of each candidate (so a blurred copy meets an equally blurred
   original).

NCC is invariant to affine intensity changes, so brightness and contrast
changes do not hide a copy either. The threshold is calibrated on images
known to be independent of the training set (a holdout set): a query is a
copy when its similarity exceeds the largest similarity among ``n``
independent images, raised by a margin towards 1. By exchangeability an
independent image exceeds the maximum of ``n`` independent similarities
with probability at most ``1 / (n + 1)``, so with 100 calibration images
the false-positive rate is at most about 1 %.

References
----------
Carlini, N., Hayes, J., Nasr, M., Jagielski, M., Sehwag, V., Tramèr, F.,
Balle, B., Ippolito, D., Wallace, E. "Extracting training data from
diffusion models." 32nd USENIX Security Symposium, 2023, pp. 5253-5270.
arXiv:2301.13188.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import scipy.ndimage

__all__ = [
    "CopyDetector",
    "CopyMatches",
    "prepare_for_retrieval",
    "band_pass",
    "calibrate_threshold",
]


def prepare_for_retrieval(images: np.ndarray, *, blur_sigma_px: float, factor: int) -> np.ndarray:
    """Low-pass filter images with a Gaussian and block-average them by ``factor``.

    Parameters
    ----------
    images : numpy.ndarray, (N, *spatial)
    blur_sigma_px : float
        Gaussian standard deviation in input pixels, >= 0.
    factor : int
        Block size, >= 1; trailing pixels that do not fill a block are dropped.

    Examples
    --------
    >>> import numpy as np
    >>> prepare_for_retrieval(np.arange(16.0).reshape(1, 4, 4), blur_sigma_px=0, factor=2).tolist()
    [[[2.5, 4.5], [10.5, 12.5]]]
    """
    if blur_sigma_px < 0:
        raise ValueError(f"`blur_sigma_px` must be >= 0, got {blur_sigma_px}")
    if factor < 1:
        raise ValueError(f"`factor` must be >= 1, got {factor}")
    images = np.asarray(images, dtype=np.float64)
    if blur_sigma_px > 0:
        images = scipy.ndimage.gaussian_filter(images, (0,) + (blur_sigma_px,) * (images.ndim - 1), mode="nearest")
    if factor == 1:
        return images
    spatial = [n // factor for n in images.shape[1:]]
    cropped = images[(slice(None),) + tuple(slice(0, n * factor) for n in spatial)]
    shape = [len(images)]
    for n in spatial:
        shape += [n, factor]
    return cropped.reshape(shape).mean(axis=tuple(range(2, 2 + 2 * len(spatial), 2)))


def band_pass(images: np.ndarray, *, low_sigma_px: float, high_sigma_px: float) -> np.ndarray:
    """Return the difference of two Gaussian-filtered copies of each image (axis 0 is the batch)."""
    if not 0 < low_sigma_px < high_sigma_px:
        raise ValueError(
            f"band-pass sigmas must satisfy 0 < low < high, got {low_sigma_px} and {high_sigma_px}"
        )
    images = np.asarray(images, dtype=np.float64)
    spatial = images.ndim - 1
    low = scipy.ndimage.gaussian_filter(images, (0,) + (low_sigma_px,) * spatial, mode="nearest")
    high = scipy.ndimage.gaussian_filter(images, (0,) + (high_sigma_px,) * spatial, mode="nearest")
    return low - high


def _flip_rotate(image: np.ndarray, flip_axes: tuple[int, ...], angle_deg: float) -> np.ndarray:
    """Flip ``image`` (no batch axis) on ``flip_axes`` and turn it in the plane of its last two axes."""
    if flip_axes:
        image = np.flip(image, axis=flip_axes)
    if angle_deg:
        image = scipy.ndimage.rotate(
            image, angle_deg, axes=(image.ndim - 2, image.ndim - 1), reshape=False, order=1, mode="nearest"
        )
    return np.ascontiguousarray(image)


def _normalise_rows(rows: np.ndarray) -> np.ndarray:
    centred = rows - rows.mean(axis=1, keepdims=True)
    norm = np.sqrt(np.einsum("ij,ij->i", centred, centred))[:, None]
    return centred / np.where(norm > 0, norm, 1.0)


def _shifted_rows(images: np.ndarray, max_shift: int, border: int) -> tuple[np.ndarray, np.ndarray]:
    """Return crops of ``images`` (N, *spatial) for every shift and their centred norms.

    The crop for shift ``s`` starts at ``border - s`` on each axis, which
    equals the centre crop (``border`` pixels left out at each side) of the
    image moved by ``s``; ``border >= max_shift`` keeps every crop inside.
    Rows are returned uncentred, ``(S*N, P)`` float32, with the norms of the
    centred rows ``(S*N,)``: against a zero-mean reference row the dot
    product over that norm is the NCC, so centring a copy is not needed.
    """
    spatial = images.shape[1:]
    images = images.astype(np.float32)
    crops = []
    for shift in itertools.product(range(-max_shift, max_shift + 1), repeat=len(spatial)):
        window = tuple(slice(border - d, n - border - d) for d, n in zip(shift, spatial))
        crops.append(images[(slice(None),) + window].reshape(len(images), -1))
    rows = np.concatenate(crops)
    count = rows.shape[1]
    sums = rows.sum(axis=1, dtype=np.float64)
    squares = np.einsum("ij,ij->i", rows, rows, dtype=np.float64)
    norms = np.sqrt(np.maximum(squares - sums**2 / count, 0.0))
    return rows, np.where(norms > 0, norms, 1.0).astype(np.float32)


def _centre_rows(images: np.ndarray, border: int) -> np.ndarray:
    centre = (slice(None),) + tuple(slice(border, n - border) for n in images.shape[1:])
    return _normalise_rows(images[centre].reshape(len(images), -1)).astype(np.float32)


def calibrate_threshold(independent_similarity: np.ndarray, *, margin: float) -> float:
    """Return ``s_max + margin * (1 - s_max)`` for the largest independent similarity ``s_max``.

    Examples
    --------
    >>> calibrate_threshold([0.5, 0.8], margin=0.5)
    0.9
    """
    values = np.asarray(independent_similarity, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError("`independent_similarity` must not be empty")
    if not 0 <= margin < 1:
        raise ValueError(f"`margin` must be in [0, 1), got {margin}")
    top = float(values.max())
    return round(top + margin * (1.0 - top), 12)


@dataclasses.dataclass(frozen=True)
class CopyMatches:
    """Best training match of each query: ``similarity`` (NCC in [-1, 1]) and ``index``."""

    similarity: np.ndarray
    index: np.ndarray


@dataclasses.dataclass(frozen=True)
class CopyDetector:
    """Flag synthetic images that are altered copies of training images.

    Parameters
    ----------
    max_shift_px : int
        Largest shift per axis, in pixels, that is undone (default 4).
    rotation_step_deg : float
        Step of the rotations tried during retrieval, in degrees (default 5);
        verification uses half this step.
    max_rotation_deg : float
        Largest rotation undone, in degrees (default 10).
    flips : bool
        Try flips of both in-plane axes (default True).
    blur_sigmas_px : tuple of float
        Gaussian blurs, in pixels, applied to each candidate during
        verification (default 0 to 2 in steps of 0.5).
    band_sigmas_px : tuple of float
        ``(low, high)`` sigmas of the difference-of-Gaussians band-pass, in
        pixels (default ``(0.7, 2.5)``).
    candidates : int
        (training image, flip) pairs kept per query after retrieval (default 4).
    working_size : int
        Pixels per side after block averaging for retrieval (default 32).
    margin : float
        Fraction of the gap between the largest independent similarity and
        1 added to the threshold (default 0.25).

    Examples
    --------
    >>> import numpy as np
    >>> train = np.random.default_rng(0).random((6, 32, 32))
    >>> matches = CopyDetector().match(np.flip(train[:2], axis=2), train)
    >>> matches.index.tolist(), bool(matches.similarity.min() > 0.99)
    ([0, 1], True)
    """

    max_shift_px: int = 4
    rotation_step_deg: float = 5.0
    max_rotation_deg: float = 10.0
    flips: bool = True
    blur_sigmas_px: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5, 2.0)
    band_sigmas_px: tuple[float, float] = (0.7, 2.5)
    candidates: int = 4
    working_size: int = 32
    margin: float = 0.25

    def __post_init__(self) -> None:
        if self.max_shift_px < 0:
            raise ValueError(f"`max_shift_px` must be >= 0, got {self.max_shift_px}")
        if not self.rotation_step_deg > 0:
            raise ValueError(f"`rotation_step_deg` must be > 0, got {self.rotation_step_deg}")
        if self.max_rotation_deg < 0:
            raise ValueError(f"`max_rotation_deg` must be >= 0, got {self.max_rotation_deg}")
        if self.candidates < 1:
            raise ValueError(f"`candidates` must be >= 1, got {self.candidates}")
        if self.working_size < 8:
            raise ValueError(f"`working_size` must be >= 8, got {self.working_size}")
        if not 0 <= self.margin < 1:
            raise ValueError(f"`margin` must be in [0, 1), got {self.margin}")
        if any(sigma < 0 for sigma in self.blur_sigmas_px) or not self.blur_sigmas_px:
            raise ValueError(f"`blur_sigmas_px` must be a non-empty tuple of values >= 0, got {self.blur_sigmas_px}")
        band_pass(np.zeros((1, 4, 4)), low_sigma_px=self.band_sigmas_px[0], high_sigma_px=self.band_sigmas_px[1])

    def _flip_sets(self) -> list[tuple[int, ...]]:
        return [(), (-2,), (-1,), (-2, -1)] if self.flips else [()]

    def _angles(self, step: float) -> list[float]:
        steps = int(math.floor(self.max_rotation_deg / step))
        return [k * step for k in range(-steps, steps + 1)]

    def _retrieve(self, queries: np.ndarray, references: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return candidate reference indices ``(Nq, K)`` and the flip number of each.

        Candidates are the ``K`` best (reference, flip) pairs, because nearly
        symmetric anatomy can make the wrong flip of the right image score
        best at low resolution.
        """
        factor = max(1, min(references.shape[1:]) // self.working_size)
        shift = math.ceil(self.max_shift_px / factor)
        flip_sets = self._flip_sets()
        angles = self._angles(self.rotation_step_deg)
        reference_rows = _centre_rows(prepare_for_retrieval(references, blur_sigma_px=1.0, factor=factor), shift)
        scores = np.empty((len(flip_sets), len(angles), len(queries), len(references)), dtype=np.float32)
        for number, axes in enumerate(flip_sets):
            for step, angle in enumerate(angles):
                turned = np.stack([_flip_rotate(q, axes, angle) for q in queries])
                prepared = prepare_for_retrieval(turned, blur_sigma_px=1.0, factor=factor)
                rows, norms = _shifted_rows(prepared, shift, shift)
                ncc = (rows @ reference_rows.T) / norms[:, None]
                scores[number, step] = ncc.reshape(-1, len(queries), len(references)).max(axis=0)
        pairs = scores.max(axis=1).transpose(1, 0, 2).reshape(len(queries), -1)
        count = min(self.candidates, pairs.shape[1])
        chosen = np.argsort(-pairs, axis=1)[:, :count]
        return chosen % len(references), chosen // len(references)

    def match(self, queries: np.ndarray, references: np.ndarray) -> CopyMatches:
        """Return the best training match of every query (see the module notes for the method).

        Parameters
        ----------
        queries : numpy.ndarray, (Nq, *spatial)
        references : numpy.ndarray, (Nr, *spatial)
            Same spatial shape as ``queries``; each side must be at least
            ``2 * (max_shift_px + ceil(2 * band_sigmas_px[1])) + 4`` (22 pixels
            with the defaults).
        """
        queries = np.asarray(queries, dtype=np.float64)
        references = np.asarray(references, dtype=np.float64)
        if queries.shape[1:] != references.shape[1:]:
            raise ValueError(f"query images {queries.shape[1:]} and references {references.shape[1:]} differ in shape")
        low, high = self.band_sigmas_px
        # Pixels near a border cut by a shift differ after the band-pass up to
        # about 2 high sigmas inwards, so they are left out as well.
        border = self.max_shift_px + math.ceil(2 * high)
        if 2 * border + 4 > min(references.shape[1:]):
            raise ValueError(
                f"images of shape {references.shape[1:]} are too small for `max_shift_px`="
                f"{self.max_shift_px} and band-pass sigma {high} px: each side must be at least {2 * border + 4}"
            )
        candidates, flips = self._retrieve(queries, references)
        blurred = [
            references if sigma == 0 else scipy.ndimage.gaussian_filter(
                references, (0,) + (sigma,) * (references.ndim - 1), mode="nearest")
            for sigma in self.blur_sigmas_px
        ]
        reference_rows = np.stack([
            _centre_rows(band_pass(b, low_sigma_px=low, high_sigma_px=high), border) for b in blurred
        ])
        flip_sets = self._flip_sets()
        # The best coarse angle is unreliable for shifted copies (an odd shift
        # is a half pixel after block averaging), so every half step is tried.
        angles = self._angles(self.rotation_step_deg / 2)
        similarity = np.empty(len(queries))
        index = np.empty(len(queries), dtype=np.int64)
        for q, query in enumerate(queries):
            scores = np.full(len(candidates[q]), -1.0)
            for flip in np.unique(flips[q]):
                turned = np.stack([_flip_rotate(query, flip_sets[flip], angle) for angle in angles])
                band = band_pass(turned, low_sigma_px=low, high_sigma_px=high)
                rows, norms = _shifted_rows(band, self.max_shift_px, border)
                chosen = np.flatnonzero(flips[q] == flip)
                # (rows, blur, candidate) correlations, then the best row per candidate.
                dots = rows @ reference_rows[:, candidates[q, chosen]].reshape(-1, rows.shape[1]).T
                best = (dots / norms[:, None]).max(axis=0)
                scores[chosen] = best.reshape(len(self.blur_sigmas_px), len(chosen)).max(axis=0)
            best_candidate = int(np.argmax(scores))
            similarity[q] = scores[best_candidate]
            index[q] = candidates[q, best_candidate]
        return CopyMatches(similarity=similarity, index=index)

    def threshold(self, references: np.ndarray, independent: np.ndarray) -> float:
        """Calibrate the copy threshold on images independent of ``references``."""
        return calibrate_threshold(self.match(independent, references).similarity, margin=self.margin)
