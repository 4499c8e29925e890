"""Intensity normalisation: z-score, percentile rescaling, CT windows and clipping.

Only :class:`CTWindow` and :class:`Clip` bound their output, because that
is what a window and a clip are. The others are linear maps and keep
outliers.

Examples
--------
>>> import numpy as np
>>> hu = np.array([[-1000.0, 40.0, 80.0, 2000.0]], np.float32)
>>> CTWindow(center_hu=40, width_hu=80)(hu).tolist()
[[0.0, 0.5, 1.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from medaug.core.fields import Image
from medaug.core.sample import Sample
from medaug.transforms.base import IntensityTransform
from medaug.transforms.functional.intensity import clip, rescale_percentiles, window, z_score
from medaug.transforms.validation import check_positive, check_range

__all__ = ["CTWindow", "Clip", "RescalePercentiles", "ZScoreNormalize"]


class ZScoreNormalize(IntensityTransform):
    """Subtract each channel's mean and divide by its standard deviation.

    Parameters
    ----------
    nonzero : bool
        Compute statistics over non-zero voxels and leave zeros at 0
        (skull-stripped MR).
    """

    def __init__(self, nonzero: bool = False) -> None:
        self.nonzero = bool(nonzero)

    def apply_to_image(self, data: torch.Tensor, parameters: Any, field: Image) -> torch.Tensor:
        return z_score(data, nonzero=self.nonzero)


class RescalePercentiles(IntensityTransform):
    """Map each channel's ``percentiles`` linearly onto ``output_range`` (values beyond are kept).

    Parameters
    ----------
    percentiles : (low, high)
        Percentiles in [0, 100], for example (0.5, 99.5).
    output_range : (low, high)
        Values that the two percentiles map to.
    nonzero : bool
        Compute percentiles over non-zero voxels only.
    """

    def __init__(
        self,
        percentiles: Sequence[float] = (0.5, 99.5),
        output_range: Sequence[float] = (0.0, 1.0),
        nonzero: bool = False,
    ) -> None:
        self.percentiles = list(check_range(percentiles, "percentiles", minimum=0.0, maximum=100.0))
        self.output_range = list(check_range(output_range, "output_range"))
        self.nonzero = bool(nonzero)

    def apply_to_image(self, data: torch.Tensor, parameters: Any, field: Image) -> torch.Tensor:
        return rescale_percentiles(data, self.percentiles, self.output_range, nonzero=self.nonzero)


class CTWindow(IntensityTransform):
    """Apply a CT display window in Hounsfield units, clipped to ``output_range``.

    Parameters
    ----------
    center_hu : float
        Window level in HU (40 for soft tissue, 600 for bone).
    width_hu : float
        Window width in HU (> 0), for example 400 for soft tissue.
    output_range : (low, high)
        Values for HU at or below the window's lower edge and at or above its upper edge.
    """

    def __init__(self, center_hu: float = 40.0, width_hu: float = 400.0, output_range: Sequence[float] = (0.0, 1.0)) -> None:
        self.center_hu = check_range(center_hu, "center_hu")[0]
        self.width_hu = check_positive(width_hu, "width_hu")
        self.output_range = list(check_range(output_range, "output_range"))

    def apply_to_image(self, data: torch.Tensor, parameters: Any, field: Image) -> torch.Tensor:
        return window(data, self.center_hu, self.width_hu, self.output_range)


class Clip(IntensityTransform):
    """Clip image values to ``[minimum, maximum]``; either bound may be None.

    Clipping is never implicit in medaug: a pipeline that needs it includes
    this transform.
    """

    def __init__(self, minimum: float | None = None, maximum: float | None = None) -> None:
        if minimum is not None and maximum is not None:
            check_range((minimum, maximum), "(minimum, maximum)")
        self.minimum = None if minimum is None else float(minimum)
        self.maximum = None if maximum is None else float(maximum)

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> None:
        return None

    def apply_to_image(self, data: torch.Tensor, parameters: Any, field: Image) -> torch.Tensor:
        return clip(data, self.minimum, self.maximum)
