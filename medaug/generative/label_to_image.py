"""Label-to-image synthesis by domain randomisation, in the style of SynthSeg.

:class:`RandomLabelToImage` paints every label of a label map with its own
Gaussian intensity distribution, ``N(mean_k, std_k)`` independently per
voxel, with ``mean_k`` and ``std_k`` drawn uniformly per sample. With
``tissues`` given, the means instead come from the MR spin-echo signal
equation ``PD (1 - exp(-TR/T1)) exp(-TE/T2)`` of each label's tissue, with
TR and TE drawn per sample, so the contrast is physically plausible.

:class:`LabelToImageSynthesis` chains the full generative model: random
affine and elastic deformation of the label map, the Gaussian mixture,
bias field, gamma, loss of resolution (thick slices) and noise. Every step
is a medaug transform, so the output label map is the deformed input label
map, voxel for voxel, and every sample can be replayed from its history.

Default ranges and their sources
--------------------------------
From the defaults of ``BrainGenerator`` in the SynthSeg reference
implementation (github.com/BBillot/SynthSeg, ``SynthSeg/brain_generator.py``).
Gaussian means are uniform in [25, 225] and standard deviations in [5, 25].
Rotations are within +-15 degrees, scaling within 1 +- 0.15 and shearing
within +-0.012. The largest elastic standard deviation is 3 (voxels there,
mm here, which agree on a 1 mm grid), and resolution drops to 8 mm along one axis.

Chosen here, because medaug's transforms parameterise them differently:
a smooth polynomial bias field (order 3, coefficients within +-0.3) in
place of SynthSeg's exponentiated smooth Gaussian field, gamma
``exp(u)`` with ``u`` within +-0.4, and Gaussian noise with a standard
deviation up to 10 intensity units.

References
----------
Billot, B., Greve, D. N., Puonti, O., Thielscher, A., Van Leemput, K.,
Fischl, B., Dalca, A. V., Iglesias, J. E. "SynthSeg: Segmentation of brain
MRI scans of any contrast and resolution without retraining." Medical Image
Analysis 86:102789, 2023. DOI 10.1016/j.media.2023.102789.

Haacke, E. M. et al. "Magnetic Resonance Imaging: Physical Principles and
Sequence Design." Wiley, 1999. DOI 10.1002/9781118633953 (spin-echo signal).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from medaug.core.fields import Image, LabelMap, present_labels
from medaug.core.sample import Sample
from medaug.transforms import (
    Compose,
    RandomAffine,
    RandomBiasField,
    RandomElasticDeformation,
    RandomGamma,
    RandomGaussianNoise,
    RandomThickSlices,
    RandomTransform,
    Transform,
)
from medaug.transforms.base import to_plain
from medaug.transforms.validation import check_range

__all__ = [
    "LabelIntensityParameters",
    "LabelToImage",
    "RandomLabelToImage",
    "LabelToImageSynthesis",
    "paint_labels",
    "SYNTHSEG_MEAN_RANGE",
    "SYNTHSEG_STD_RANGE",
]

#: Range of the per-label Gaussian means (SynthSeg ``prior_means`` default).
SYNTHSEG_MEAN_RANGE = (25.0, 225.0)
#: Range of the per-label Gaussian standard deviations (SynthSeg ``prior_stds`` default).
SYNTHSEG_STD_RANGE = (5.0, 25.0)


def paint_labels(
    labels: torch.Tensor, values: Mapping[int, tuple[float, float]], generator: torch.Generator
) -> torch.Tensor:
    """Return float32 intensities drawn from ``N(mean, std)`` of each voxel's label.

    Parameters
    ----------
    labels : tensor, integer, any shape
    values : mapping of int to (float, float)
        ``label -> (mean, std)``; every label present must be listed.
    generator : torch.Generator
        Draws the voxel-wise noise (one standard normal per voxel).

    Examples
    --------
    >>> import torch
    >>> labels = torch.tensor([[0, 1], [1, 1]])
    >>> paint_labels(labels, {0: (5.0, 0.0), 1: (2.0, 0.0)}, torch.Generator()).tolist()
    [[5.0, 2.0], [2.0, 2.0]]
    """
    present = present_labels(labels)
    missing = [v for v in present if v not in values]
    if missing:
        raise ValueError(f"labels {missing} have no (mean, std); listed labels are {sorted(values)}")
    size = max(present) + 1 if present else 1
    means = torch.zeros(size, dtype=torch.float64)
    stds = torch.zeros(size, dtype=torch.float64)
    for label in present:
        means[label], stds[label] = values[label]
    index = labels.long().cpu()
    noise = torch.randn(index.shape, generator=generator, dtype=torch.float64)
    painted = means[index] + stds[index] * noise
    return painted.to(torch.float32).to(labels.device)


@dataclasses.dataclass(frozen=True)
class LabelIntensityParameters:
    """Per-label Gaussian intensities: ``means[i]`` and ``stds[i]`` of ``labels[i]``, plus the noise seed."""

    labels: tuple[int, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]
    seed: int
    sequence: Mapping[str, float] | None = None


class LabelToImage(Transform):
    """Write an image painted from a label map with fixed per-label Gaussians.

    Parameters
    ----------
    labels, means, stds : sequence
        Label values with their intensity mean and standard deviation (>= 0).
    seed : int
        Seed of the voxel-wise draws.
    label_field : str, optional
        Label-map field to paint; default the sample's only label map.
    image_field : str
        Image field written (replaced when present), default ``"image"``.
    """

    def __init__(
        self,
        labels: Sequence[int],
        means: Sequence[float],
        stds: Sequence[float],
        seed: int = 0,
        *,
        label_field: str | None = None,
        image_field: str = "image",
    ) -> None:
        self.labels = [int(v) for v in labels]
        self.means = [float(v) for v in means]
        self.stds = [float(v) for v in stds]
        if not (len(self.labels) == len(self.means) == len(self.stds)):
            raise ValueError(
                f"`labels`, `means` and `stds` must have one entry per label, got "
                f"{len(self.labels)}, {len(self.means)} and {len(self.stds)}"
            )
        if any(not np.isfinite(v) for v in self.means + self.stds) or any(s < 0 for s in self.stds):
            raise ValueError(f"`means` must be finite and `stds` finite and >= 0, got {self.means} and {self.stds}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"`seed` must be an int >= 0, got {seed!r}")
        self.seed = int(seed)
        self.label_field = label_field
        self.image_field = image_field

    def sample_parameters(self, rng: np.random.Generator | None, sample: Sample) -> LabelIntensityParameters:
        return LabelIntensityParameters(tuple(self.labels), tuple(self.means), tuple(self.stds), self.seed)

    def apply(self, sample: Sample, parameters: LabelIntensityParameters) -> Sample:
        name, field = _label_field(sample, self.label_field)
        generator = torch.Generator().manual_seed(parameters.seed)
        values = dict(zip(parameters.labels, zip(parameters.means, parameters.stds)))
        data = paint_labels(field.data, values, generator)
        return sample.replace({self.image_field: Image(data=data, geometry=field.geometry)})


def _label_field(sample: Sample, name: str | None) -> tuple[str, LabelMap]:
    if name is not None:
        field = sample[name]
        if not isinstance(field, LabelMap):
            raise TypeError(f"field {name!r} must be a LabelMap, got {type(field).__name__}")
        return name, field
    label_maps = sample.fields_of_type(LabelMap)
    if len(label_maps) != 1:
        raise ValueError(
            f"the sample must hold exactly one LabelMap (or pass `label_field`), got {sorted(label_maps)}"
        )
    return next(iter(label_maps.items()))


class RandomLabelToImage(RandomTransform):
    """Paint a label map with per-label Gaussians drawn per sample (the twin is :class:`LabelToImage`).

    Parameters
    ----------
    mean_range : (float, float)
        Range of each label's mean intensity (default SynthSeg's [25, 225]).
    std_range : (float, float)
        Range of each label's standard deviation (default SynthSeg's [5, 25]).
    tissues : mapping of int to str, optional
        Label value to tissue name of :func:`medaug.phantoms.mr_parameter`
        (``"white_matter"``, ...). When given, means follow the spin-echo
        equation with TR and TE drawn from ``tr_range_ms`` and
        ``te_range_ms``. The signal maps linearly onto ``mean_range``, so a
        tissue with PD 1 and no relaxation loss would get ``mean_range[1]``.
        Each label's std is ``relative_std`` times its mean.
    tr_range_ms, te_range_ms : (float, float)
        Repetition and echo time ranges in ms (defaults 400-4000 and 10-120,
        spanning T1-, PD- and T2-weighting).
    relative_std : (float, float)
        Range of the std as a fraction of the mean in physics mode (default
        0.02-0.1).
    field_strength_t : float
        Field at which tissue parameters are looked up (default 3 T).
    label_field, image_field : str
        See :class:`LabelToImage`.
    """

    def __init__(
        self,
        mean_range: Any = SYNTHSEG_MEAN_RANGE,
        std_range: Any = SYNTHSEG_STD_RANGE,
        *,
        tissues: Mapping[int, str] | None = None,
        tr_range_ms: Any = (400.0, 4000.0),
        te_range_ms: Any = (10.0, 120.0),
        relative_std: Any = (0.02, 0.1),
        field_strength_t: float = 3.0,
        label_field: str | None = None,
        image_field: str = "image",
    ) -> None:
        self.mean_range = check_range(mean_range, "mean_range")
        self.std_range = check_range(std_range, "std_range", minimum=0.0)
        self.tissues = None if tissues is None else {int(k): str(v) for k, v in dict(tissues).items()}
        self.tr_range_ms = check_range(tr_range_ms, "tr_range_ms", minimum=1e-6)
        self.te_range_ms = check_range(te_range_ms, "te_range_ms", minimum=0.0)
        if self.te_range_ms[1] > self.tr_range_ms[0]:
            raise ValueError(
                f"`te_range_ms` {self.te_range_ms} must end at or before `tr_range_ms` starts ({self.tr_range_ms[0]})"
            )
        self.relative_std = check_range(relative_std, "relative_std", minimum=0.0)
        self.field_strength_t = float(field_strength_t)
        if self.tissues is not None:
            from medaug.phantoms import mr_parameter

            for tissue in set(self.tissues.values()):
                mr_parameter(tissue, "t1_ms", self.field_strength_t)
        self.label_field = label_field
        self.image_field = image_field

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> LabelIntensityParameters:
        _, field = _label_field(sample, self.label_field)
        labels = tuple(field.labels)
        seed = int(rng.integers(0, 2**62))
        if self.tissues is None:
            means = rng.uniform(*self.mean_range, size=len(labels))
            stds = rng.uniform(*self.std_range, size=len(labels))
            return LabelIntensityParameters(labels, tuple(means.tolist()), tuple(stds.tolist()), seed)
        return self._physics_parameters(rng, labels, seed)

    def _physics_parameters(self, rng: np.random.Generator, labels: tuple[int, ...], seed: int):
        from medaug.phantoms import mr_parameter
        from medaug.physics.mri.signal import spin_echo

        missing = [v for v in labels if v not in self.tissues]
        if missing:
            raise ValueError(f"labels {missing} have no tissue in `tissues` (listed: {sorted(self.tissues)})")
        tr, te = float(rng.uniform(*self.tr_range_ms)), float(rng.uniform(*self.te_range_ms))
        means, stds = [], []
        for label in labels:
            tissue = self.tissues[label]
            pd, t1, t2 = (mr_parameter(tissue, key, self.field_strength_t) for key in ("proton_density", "t1_ms", "t2_ms"))
            if not pd or t1 is None or t2 is None:
                # No protons (background, air): no signal, only the noise step adds intensity.
                means.append(0.0)
                stds.append(0.0)
                continue
            signal = float(spin_echo(pd, t1, t2, tr_ms=tr, te_ms=te))
            mean = self.mean_range[0] + (self.mean_range[1] - self.mean_range[0]) * signal
            means.append(mean)
            stds.append(mean * float(rng.uniform(*self.relative_std)))
        return LabelIntensityParameters(labels, tuple(means), tuple(stds), seed, {"tr_ms": tr, "te_ms": te})

    def deterministic(self, parameters: LabelIntensityParameters) -> LabelToImage:
        return LabelToImage(
            parameters.labels, parameters.means, parameters.stds, parameters.seed,
            label_field=self.label_field, image_field=self.image_field,
        )


class LabelToImageSynthesis(Compose):
    """The SynthSeg-style generative chain from a label map to an image/label pair.

    Runs, in order: random affine and elastic deformation (fused into one
    resampling of the label map, nearest neighbour), :class:`RandomLabelToImage`,
    a bias field, gamma, thick slices along a random axis (loss of
    resolution) and Gaussian noise. Ranges default to the values listed in
    the module notes; set a strength to 0 (or a range to ``(0, 0)``) to
    switch its step off.

    Parameters
    ----------
    mean_range, std_range, tissues : see :class:`RandomLabelToImage`
    rotation_deg : float
        Rotations within +-``rotation_deg`` degrees.
    scaling : float
        Scale factors within 1 +- ``scaling``.
    shearing : float
        Shears within +-``shearing``.
    elastic_std_mm : float
        Largest standard deviation of elastic control-point displacements, mm.
    elastic_spacing_mm : float
        Distance between elastic control points, mm (default 25: SynthSeg
        samples its velocity field at 0.04 of the image size).
    bias_coefficient : float
        Polynomial bias-field coefficients within +-``bias_coefficient``.
    log_gamma : float
        Gamma ``exp(u)`` with ``u`` within +-``log_gamma``.
    max_slice_thickness_mm : float
        Largest slice thickness (FWHM, mm) of the resolution loss; thickness
        is drawn from [1, max] mm. Values <= 1 switch it off.
    noise_std : float
        Largest standard deviation of the additive Gaussian noise (intensity units).
    spatial_dims : {2, 3}
        Whether the chain is built for 2D or 3D label maps.
    """

    def __init__(
        self,
        mean_range: Any = SYNTHSEG_MEAN_RANGE,
        std_range: Any = SYNTHSEG_STD_RANGE,
        *,
        tissues: Mapping[int, str] | None = None,
        rotation_deg: float = 15.0,
        scaling: float = 0.15,
        shearing: float = 0.012,
        elastic_std_mm: float = 3.0,
        elastic_spacing_mm: float = 25.0,
        bias_coefficient: float = 0.3,
        log_gamma: float = 0.4,
        max_slice_thickness_mm: float = 8.0,
        noise_std: float = 10.0,
        spatial_dims: int = 3,
    ) -> None:
        if spatial_dims not in (2, 3):
            raise ValueError(f"`spatial_dims` must be 2 or 3, got {spatial_dims}")
        for name, value in (("rotation_deg", rotation_deg), ("shearing", shearing), ("elastic_std_mm", elastic_std_mm),
                            ("bias_coefficient", bias_coefficient), ("log_gamma", log_gamma), ("noise_std", noise_std)):
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"`{name}` must be finite and >= 0, got {value}")
        if not 0 <= scaling < 1:
            raise ValueError(f"`scaling` must be in [0, 1), got {scaling}")
        self.mean_range, self.std_range, self.tissues = mean_range, std_range, tissues
        self.rotation_deg, self.scaling, self.shearing = float(rotation_deg), float(scaling), float(shearing)
        self.elastic_std_mm, self.elastic_spacing_mm = float(elastic_std_mm), float(elastic_spacing_mm)
        self.bias_coefficient, self.log_gamma = float(bias_coefficient), float(log_gamma)
        self.max_slice_thickness_mm, self.noise_std = float(max_slice_thickness_mm), float(noise_std)
        self.spatial_dims = spatial_dims
        shear_count = 1 if spatial_dims == 2 else 3
        steps: list[Transform] = [
            RandomAffine(
                rotation_range_deg=self.rotation_deg,
                scale_range=(1 - self.scaling, 1 + self.scaling),
                shear_range=[(-self.shearing, self.shearing)] * shear_count,
                isotropic_scale=False,
            ),
            RandomElasticDeformation(self.elastic_spacing_mm, (0.0, self.elastic_std_mm), diffeomorphic=True),
            RandomLabelToImage(mean_range, std_range, tissues=tissues),
            RandomBiasField(self.bias_coefficient),
            RandomGamma((-self.log_gamma, self.log_gamma)),
        ]
        if self.max_slice_thickness_mm > 1.0:
            axes = ("x", "y") if spatial_dims == 2 else ("x", "y", "z")
            steps.append(RandomThickSlices(axes, (1.0, self.max_slice_thickness_mm)))
        steps.append(RandomGaussianNoise((0.0, self.noise_std)))
        super().__init__(steps)

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments (the chain is rebuilt from them)."""
        return {
            "mean_range": to_plain(self.mean_range), "std_range": to_plain(self.std_range),
            "tissues": to_plain(self.tissues), "rotation_deg": self.rotation_deg, "scaling": self.scaling,
            "shearing": self.shearing, "elastic_std_mm": self.elastic_std_mm,
            "elastic_spacing_mm": self.elastic_spacing_mm, "bias_coefficient": self.bias_coefficient,
            "log_gamma": self.log_gamma, "max_slice_thickness_mm": self.max_slice_thickness_mm,
            "noise_std": self.noise_std, "spatial_dims": self.spatial_dims,
        }
