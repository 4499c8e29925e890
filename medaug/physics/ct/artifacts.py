"""Detector and object effects that cause CT artifacts: detector blur, scatter, metal.

Apply them to expected readings before noise is drawn: blur and scatter
act on the photon signal reaching the detector. Sparse-view and
limited-angle scans are geometries, see
:func:`medaug.physics.ct.geometry.sparse_view` and
:func:`~medaug.physics.ct.geometry.limited_angle`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from medaug.physics.optics import FWHM_PER_SIGMA, gaussian_filter

__all__ = ["detector_blur", "add_scatter", "disc_mask"]


def _gaussian_along_detector(signal: torch.Tensor, sigma_pixels: float) -> torch.Tensor:
    # Replicate padding keeps a flat signal flat at the detector edges.
    return gaussian_filter(signal, [sigma_pixels], edge="replicate")


def detector_blur(signal: torch.Tensor, fwhm_mm: float, detector_spacing_mm: float) -> torch.Tensor:
    """Blur readings ``(..., n_detectors)`` with a Gaussian of ``fwhm_mm`` along the detector.

    Models the detector's point spread (scintillator light spread, crosstalk).
    ``fwhm_mm = 0`` returns the input unchanged. The total signal is kept up
    to the edges, which are padded with their end values.
    """
    if not (math.isfinite(fwhm_mm) and fwhm_mm >= 0):
        raise ValueError(f"`fwhm_mm` must be >= 0 mm, got {fwhm_mm}")
    if not (math.isfinite(detector_spacing_mm) and detector_spacing_mm > 0):
        raise ValueError(f"`detector_spacing_mm` must be > 0 mm, got {detector_spacing_mm}")
    if fwhm_mm == 0:
        return signal
    return _gaussian_along_detector(signal, fwhm_mm / FWHM_PER_SIGMA / detector_spacing_mm)


def add_scatter(
    primary: torch.Tensor,
    scatter_to_primary_ratio: float,
    *,
    kernel_fwhm_mm: float = 100.0,
    detector_spacing_mm: float = 1.0,
) -> torch.Tensor:
    """Add scatter as a broad blur of the primary signal, ``(..., n_detectors)``.

    ``S = SPR * mean(P) * blur(P) / mean(blur(P))`` per view, so the scatter
    has the given ratio to the mean primary and varies slowly across the
    detector. The log transform of ``P + S`` under-estimates attenuation
    most behind dense objects, giving cupping and dark streaks between them.

    References
    ----------
    Ohnesorge B., Flohr T., Klingenbeck-Regn K., "Efficient object scatter
    correction algorithm for third and fourth generation CT scanners",
    European Radiology 9(3), 563-569, 1999. DOI: 10.1007/s003300050710
    """
    if not (math.isfinite(scatter_to_primary_ratio) and scatter_to_primary_ratio >= 0):
        raise ValueError(f"`scatter_to_primary_ratio` must be >= 0, got {scatter_to_primary_ratio}")
    if scatter_to_primary_ratio == 0:
        return primary
    blurred = detector_blur(primary, kernel_fwhm_mm, detector_spacing_mm)
    mean_primary = primary.mean(-1, keepdim=True)
    mean_blurred = blurred.mean(-1, keepdim=True).clamp_min(torch.finfo(primary.dtype).tiny)
    return primary + scatter_to_primary_ratio * mean_primary * blurred / mean_blurred


def disc_mask(
    image_shape: Sequence[int],
    centre_mm: Sequence[float],
    radius_mm: float,
    *,
    spacing_mm: float | Sequence[float] = 1.0,
    supersample: int = 4,
) -> torch.Tensor:
    """Return the fraction of each pixel inside a disc, ``(H, W)`` float64.

    Use it to place metal inserts (implants, fillings) as a material map:
    ``{"water": body * (1 - insert), "titanium": insert}``. ``centre_mm`` is
    ``(x, y)`` relative to the isocentre.
    """
    height, width = (int(n) for n in image_shape)
    spacing = torch.as_tensor(spacing_mm, dtype=torch.float64).broadcast_to((2,))
    offsets = (torch.arange(supersample, dtype=torch.float64) + 0.5) / supersample - 0.5
    y = (torch.arange(height, dtype=torch.float64)[:, None] - (height - 1) / 2 + offsets[None, :]) * spacing[0]
    x = (torch.arange(width, dtype=torch.float64)[:, None] - (width - 1) / 2 + offsets[None, :]) * spacing[1]
    dy = (y - centre_mm[1]) ** 2
    dx = (x - centre_mm[0]) ** 2
    inside = dy[:, None, :, None] + dx[None, :, None, :] <= radius_mm**2
    return inside.to(torch.float64).mean(dim=(2, 3))
