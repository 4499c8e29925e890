"""Image features for distribution distances that need no downloaded weights.

Two families are offered, and the evaluation reports both:

* :func:`random_conv_features`: a fixed convolutional network whose weights
  are drawn from a seeded ``torch.Generator`` (seed 0 by default) and never
  trained. Random convolutional features separate image distributions well
  enough for Fréchet and kernel distances while being reproducible
  everywhere without a weight download (Naeem et al. 2020 show that
  randomly initialised embeddings already rank generative models).
* :func:`handcrafted_features`: intensity quantiles (the histogram in
  inverse-CDF form, so it needs no bin range), gradient-magnitude
  statistics and the radially averaged log power spectrum.

References
----------
Naeem, M. F., Oh, S. J., Uh, Y., Choi, Y., Yoo, J. "Reliable fidelity and
diversity metrics for generative models." ICML 2020, PMLR 119:7176-7185.
arXiv:2002.09797.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = [
    "RANDOM_FEATURE_SEED",
    "random_conv_features",
    "handcrafted_features",
    "radial_power_spectrum",
    "intensity_quantiles",
    "gradient_statistics",
]

#: Seed of the weights of :func:`random_conv_features` unless another is given.
RANDOM_FEATURE_SEED = 0

# Channels of the four convolution layers; features are the spatial mean and
# standard deviation of the last two layers' activations (2 * (64 + 128) values).
_CHANNELS = (16, 32, 64, 128)
_QUANTILES = np.linspace(0.01, 0.99, 11)


def _random_network(spatial_dims: int, seed: int) -> torch.nn.ModuleList:
    conv = torch.nn.Conv2d if spatial_dims == 2 else torch.nn.Conv3d
    generator = torch.Generator().manual_seed(seed)
    layers = torch.nn.ModuleList()
    in_channels = 1
    for index, out_channels in enumerate(_CHANNELS):
        layer = conv(in_channels, out_channels, kernel_size=3, stride=1 if index == 0 else 2, padding=1)
        fan_in = in_channels * 3**spatial_dims
        # He initialisation for leaky ReLU with slope 0.2 keeps activations O(1) in depth.
        std = float(np.sqrt(2.0 / ((1 + 0.2**2) * fan_in)))
        with torch.no_grad():
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator) * std)
            layer.bias.zero_()
        layers.append(layer)
        in_channels = out_channels
    return layers


def random_conv_features(
    images: np.ndarray,
    *,
    seed: int = RANDOM_FEATURE_SEED,
    batch_size: int = 64,
) -> np.ndarray:
    """Embed images with a fixed random-weight convolutional network.

    Parameters
    ----------
    images : numpy.ndarray, (N, H, W) or (N, D, H, W)
        Images on a common intensity scale (the evaluation maps every set with
        the real set's 0.5 and 99.5 percentiles to about [0, 1]).
    seed : int
        Seed of the weights (default :data:`RANDOM_FEATURE_SEED`). Features
        are only comparable between calls with the same seed.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    numpy.ndarray, (N, 384), float64
        Spatial mean and standard deviation of the activations of the last two
        layers (64 and 128 channels).

    Examples
    --------
    >>> import numpy as np
    >>> random_conv_features(np.zeros((2, 16, 16))).shape
    (2, 384)
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"`images` must be shaped (N, H, W) or (N, D, H, W), got {images.shape}")
    if batch_size < 1:
        raise ValueError(f"`batch_size` must be >= 1, got {batch_size}")
    layers = _random_network(images.ndim - 1, seed)
    outputs = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            x = torch.as_tensor(images[start : start + batch_size], dtype=torch.float32)[:, None]
            pooled = []
            for index, layer in enumerate(layers):
                x = torch.nn.functional.leaky_relu(layer(x), 0.2)
                if index >= len(layers) - 2:
                    flat = x.flatten(2)
                    pooled += [flat.mean(dim=2), flat.std(dim=2, unbiased=False)]
            outputs.append(torch.cat(pooled, dim=1).double().numpy())
    return np.concatenate(outputs)


def radial_power_spectrum(images: np.ndarray, *, log: bool = True) -> np.ndarray:
    """Return the radially averaged power spectrum of each image.

    Parameters
    ----------
    images : numpy.ndarray, (N, H, W) or (N, D, H, W)
    log : bool
        Return ``log10`` of the power (default), with 1e-12 added so that
        empty rings stay finite.

    Returns
    -------
    numpy.ndarray, (N, min(spatial) // 2)
        Mean of ``|FFT|**2 / n_pixels`` over rings (shells in 3D) of integer
        radius 0, 1, ... in cycles per field of view along the shortest axis.

    Examples
    --------
    >>> import numpy as np
    >>> spectrum = radial_power_spectrum(np.ones((1, 8, 8)), log=False)
    >>> spectrum.round(3).tolist()  # all power of a constant image sits at radius 0
    [[64.0, 0.0, 0.0, 0.0]]
    """
    images = np.asarray(images, dtype=np.float64)
    spatial = images.shape[1:]
    axes = tuple(range(1, images.ndim))
    power = np.abs(np.fft.fftn(images, axes=axes)) ** 2 / float(np.prod(spatial))
    frequencies = np.meshgrid(*[np.fft.fftfreq(n) * min(spatial) for n in spatial], indexing="ij")
    radius = np.rint(np.sqrt(sum(f**2 for f in frequencies))).astype(int).reshape(-1)
    n_bins = min(spatial) // 2
    keep = radius < n_bins
    counts = np.bincount(radius[keep], minlength=n_bins)
    flat = power.reshape(len(images), -1)[:, keep]
    spectrum = np.stack([np.bincount(radius[keep], weights=row, minlength=n_bins) for row in flat])
    spectrum = spectrum / counts
    return np.log10(spectrum + 1e-12) if log else spectrum


def intensity_quantiles(images: np.ndarray) -> np.ndarray:
    """Return 11 intensity quantiles (1 % to 99 %) of each image, ``(N, 11)``."""
    images = np.asarray(images, dtype=np.float64)
    return np.quantile(images.reshape(len(images), -1), _QUANTILES, axis=1).T


def gradient_statistics(images: np.ndarray) -> np.ndarray:
    """Return mean, std and 50/90/99 % quantiles of the gradient magnitude per image, ``(N, 5)``.

    Gradients are central differences per pixel (``numpy.gradient``), so
    the unit is intensity per pixel.
    """
    images = np.asarray(images, dtype=np.float64)
    gradients = np.gradient(images, axis=tuple(range(1, images.ndim)))
    magnitude = np.sqrt(sum(g**2 for g in gradients)).reshape(len(images), -1)
    quantiles = np.quantile(magnitude, [0.5, 0.9, 0.99], axis=1).T
    return np.column_stack([magnitude.mean(axis=1), magnitude.std(axis=1), quantiles])


def handcrafted_features(images: np.ndarray) -> np.ndarray:
    """Concatenate intensity quantiles, gradient statistics and the log power spectrum.

    Returns
    -------
    numpy.ndarray, (N, 16 + min(spatial) // 2)
    """
    return np.column_stack(
        [intensity_quantiles(images), gradient_statistics(images), radial_power_spectrum(images)]
    )
