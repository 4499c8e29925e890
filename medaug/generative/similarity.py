"""Structural similarity across scales (MS-SSIM) and the diversity of an image set.

References
----------
Wang, Z., Simoncelli, E. P., Bovik, A. C. "Multiscale structural similarity
for image quality assessment." 37th Asilomar Conference on Signals, Systems
and Computers, 2003, pp. 1398-1402. DOI 10.1109/ACSSC.2003.1292216.

Odena, A., Olah, C., Shlens, J. "Conditional image synthesis with auxiliary
classifier GANs." ICML 2017, PMLR 70:2642-2651 (mean pairwise MS-SSIM as a
diversity score: lower means more diverse).
"""

from __future__ import annotations

import numpy as np
import torch

from medaug.generative.errors import TooFewImagesError

__all__ = ["ms_ssim", "ms_ssim_diversity", "MS_SSIM_WEIGHTS"]

#: Per-scale exponents of Wang et al. 2003, finest scale first.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)

_K1, _K2 = 0.01, 0.03
_WINDOW_SIGMA = 1.5
_WINDOW_SIZE = 7


def _gaussian_filter(x: torch.Tensor, spatial_dims: int) -> torch.Tensor:
    coordinates = torch.arange(_WINDOW_SIZE, dtype=x.dtype, device=x.device) - _WINDOW_SIZE // 2
    kernel = torch.exp(-(coordinates**2) / (2 * _WINDOW_SIGMA**2))
    kernel = kernel / kernel.sum()
    conv = torch.nn.functional.conv2d if spatial_dims == 2 else torch.nn.functional.conv3d
    for axis in range(spatial_dims):
        shape = [1, 1] + [1] * spatial_dims
        shape[2 + axis] = _WINDOW_SIZE
        x = conv(x, kernel.reshape(shape))
    return x


def _ssim_terms(x: torch.Tensor, y: torch.Tensor, data_range: float, spatial_dims: int):
    c1, c2 = (_K1 * data_range) ** 2, (_K2 * data_range) ** 2
    mu_x, mu_y = _gaussian_filter(x, spatial_dims), _gaussian_filter(y, spatial_dims)
    var_x = _gaussian_filter(x * x, spatial_dims) - mu_x**2
    var_y = _gaussian_filter(y * y, spatial_dims) - mu_y**2
    cov = _gaussian_filter(x * y, spatial_dims) - mu_x * mu_y
    luminance = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)
    contrast_structure = (2 * cov + c2) / (var_x + var_y + c2)
    return luminance.flatten(1).mean(dim=1), contrast_structure.flatten(1).mean(dim=1)


def ms_ssim(x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, *, data_range: float) -> np.ndarray:
    """Return MS-SSIM between paired images ``x[i]`` and ``y[i]``.

    Parameters
    ----------
    x, y : array, (N, H, W) or (N, D, H, W)
        Paired images of one shape; each side must be at least 7 pixels.
    data_range : float
        Intensity range ``L`` of the images (``max - min`` of the set), > 0.

    Returns
    -------
    numpy.ndarray, (N,)
        Values in [0, 1]; 1 for identical images.

    Notes
    -----
    Scales are halved by 2x2 averaging until the next one would be smaller
    than the 7-pixel Gaussian window (sigma 1.5 px), up to 5 scales. The
    exponents of Wang et al. 2003 for the scales used are renormalised to sum
    to 1. Negative contrast-structure terms (anti-correlated images) are set
    to 0 before the power, so the product stays real.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.random.default_rng(0).random((2, 32, 32))
    >>> ms_ssim(a, a, data_range=1.0).round(5).tolist()
    [1.0, 1.0]
    """
    # float32: torch's float64 convolutions on the CPU are several times slower.
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x, dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y, dtype=torch.float32)
    if x.shape != y.shape:
        raise ValueError(f"`x` and `y` must have one shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    if x.ndim not in (3, 4):
        raise ValueError(f"`x` must be shaped (N, H, W) or (N, D, H, W), got {tuple(x.shape)}")
    if not data_range > 0:
        raise ValueError(f"`data_range` must be > 0, got {data_range}")
    spatial_dims = x.ndim - 1
    smallest = min(x.shape[1:])
    if smallest < _WINDOW_SIZE:
        raise ValueError(f"images must be at least {_WINDOW_SIZE} pixels per side for MS-SSIM, got {tuple(x.shape[1:])}")
    n_scales = 1
    while n_scales < len(MS_SSIM_WEIGHTS) and smallest // 2**n_scales >= _WINDOW_SIZE:
        n_scales += 1
    weights = torch.tensor(MS_SSIM_WEIGHTS[:n_scales], dtype=torch.float32)
    weights = weights / weights.sum()
    pool = torch.nn.functional.avg_pool2d if spatial_dims == 2 else torch.nn.functional.avg_pool3d

    x, y = x[:, None], y[:, None]
    result = torch.ones(x.shape[0], dtype=torch.float32)
    for scale in range(n_scales):
        luminance, contrast_structure = _ssim_terms(x, y, float(data_range), spatial_dims)
        result = result * contrast_structure.clamp(min=0) ** weights[scale]
        if scale == n_scales - 1:
            result = result * luminance.clamp(min=0) ** weights[scale]
        else:
            x, y = pool(x, 2), pool(y, 2)
    return result.double().numpy()


def ms_ssim_diversity(
    images: np.ndarray, rng: np.random.Generator, *, max_pairs: int = 200, data_range: float | None = None
) -> float:
    """Return the mean MS-SSIM over distinct pairs of a set (lower means more diverse).

    Parameters
    ----------
    images : numpy.ndarray, (N, *spatial), N >= 2
    rng : numpy.random.Generator
        Chooses the pairs when there are more than ``max_pairs``.
    max_pairs : int
        Most pairs evaluated (default 200).
    data_range : float, optional
        Intensity range (default: ``max - min`` over the set).
    """
    images = np.asarray(images, dtype=np.float64)
    count = len(images)
    if count < 2:
        raise TooFewImagesError(f"`images` must contain at least 2 images for pairwise MS-SSIM, got {count}")
    first, second = np.triu_indices(count, k=1)
    if first.size > max_pairs:
        chosen = rng.choice(first.size, size=max_pairs, replace=False)
        first, second = first[chosen], second[chosen]
    if data_range is None:
        data_range = float(images.max() - images.min()) or 1.0
    return float(ms_ssim(images[first], images[second], data_range=data_range).mean())
