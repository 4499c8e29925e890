"""MRI artifacts and k-space noise as random transforms of magnitude images and k-space.

Each deterministic transform takes its parameters in the constructor and
each ``Random*`` twin draws them from a ``numpy.random.Generator``. On an
:class:`~medaug.core.fields.Image` field ``(C, *spatial)`` the transform
treats the intensities as a magnitude image: it takes the centred FFT of
each channel, corrupts the k-space and returns the magnitude of the inverse
FFT, so negative intensities lose their sign. On a
:class:`~medaug.core.fields.KSpace` field the k-space-native artifacts
(ghosting, spikes, truncation, partial Fourier, noise) act on the data
directly; motion leaves k-space fields alone because it needs the object.
At zero strength every transform returns the sample unchanged.

Examples
--------
>>> import numpy as np
>>> image = np.ones((32, 32), np.float32)
>>> out = RandomKSpaceGhosting(phase_range_deg=(10.0, 20.0))(image, rng=0)
>>> out.shape, out.dtype
((32, 32), dtype('float32'))
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import torch

from medaug.core.fields import Image, KSpace
from medaug.core.sample import Sample
from medaug.core.seeding import spawn_seed
from medaug.physics.mri import artifacts
from medaug.physics.mri.fft import fftnc, ifftnc
from medaug.physics.mri.motion import rigid_motion_kspace, shot_schedule
from medaug.physics.mri.noise import add_kspace_noise, sigma_from_snr
from medaug.transforms.base import RandomTransform, Transform, promote_intensity
from medaug.transforms.validation import check_range

__all__ = [
    "KSpaceMotion",
    "RandomKSpaceMotion",
    "KSpaceGhosting",
    "RandomKSpaceGhosting",
    "KSpaceSpikes",
    "RandomKSpaceSpikes",
    "GibbsTruncation",
    "RandomGibbsTruncation",
    "PartialFourier",
    "RandomPartialFourier",
    "KSpaceNoise",
    "RandomKSpaceNoise",
]


def _check_count_range(value: Any, name: str, minimum: int) -> tuple[int, int]:
    """Parse an int or an inclusive ``(low, high)`` range of ints, each >= ``minimum``."""
    low, high = (value, value) if isinstance(value, int) else tuple(value)
    if not (isinstance(low, int) and isinstance(high, int) and minimum <= low <= high):
        raise ValueError(f"`{name}` must be an int >= {minimum} or a range of them, got {value!r}")
    return low, high


def _as_rows(array: np.ndarray) -> tuple[tuple[float, ...], ...]:
    """Return a 2-D array as nested tuples of floats, the form parameters are recorded in."""
    return tuple(tuple(float(v) for v in row) for row in array)


class _KSpaceTransform(Transform):
    """Corrupt k-space of Image fields (via FFT) and of KSpace fields."""

    kind = "intensity"
    acts_on_kspace = True

    def is_identity(self) -> bool:
        raise NotImplementedError

    def corrupt(self, kspace: torch.Tensor, spatial_ndim: int, field: Any, position: int) -> torch.Tensor:
        """Return corrupted k-space ``(C, *spatial)``."""
        raise NotImplementedError

    def apply(self, sample: Sample, parameters: Any) -> Sample:
        if self.is_identity():
            return sample
        changed = {}
        position = 0
        for name, field in sample.items():
            if isinstance(field, Image):
                changed[name] = field.replace(data=self._corrupt_image(field, position))
                position += 1
            elif isinstance(field, KSpace) and self.acts_on_kspace:
                data = self.corrupt(field.data, field.spatial_ndim, field, position)
                changed[name] = field.replace(data=data)
                position += 1
        return sample.replace(changed)

    def acquire(self, image: torch.Tensor, spatial_ndim: int, field: Any, position: int) -> torch.Tensor:
        """Return corrupted k-space ``(C, *spatial)`` of a complex image ``(C, *spatial)``.

        Transforms that model the object (motion, off-resonance) override
        this and skip the FFT that :meth:`corrupt` would undo.
        """
        return self.corrupt(fftnc(image, tuple(range(-spatial_ndim, 0))), spatial_ndim, field, position)

    def _corrupt_image(self, field: Image, position: int) -> torch.Tensor:
        data = promote_intensity(field.data)
        complex_dtype = torch.complex128 if data.dtype == torch.float64 else torch.complex64
        corrupted = self.acquire(data.to(complex_dtype), field.spatial_ndim, field, position)
        return ifftnc(corrupted, tuple(range(-field.spatial_ndim, 0))).abs().to(data.dtype)


# Motion -------------------------------------------------------------------


class KSpaceMotion(_KSpaceTransform):
    """Rigid motion between shots of a Cartesian acquisition.

    Parameters
    ----------
    rotations_deg : list
        Per shot: one angle (2-D) or three angles (3-D) in degrees, see
        :func:`~medaug.physics.mri.motion.rigid_motion_kspace`.
    translations_mm : list of list of float
        Per shot translation in mm, array-axis order.
    interleaved : bool, default False
        Shot ordering of the phase-encode lines (see :func:`shot_schedule`).
    phase_axis : int, default -1
        Phase-encode axis (negative index among the spatial axes).
    """

    acts_on_kspace = False

    def __init__(
        self, rotations_deg: Any, translations_mm: Any, *, interleaved: bool = False, phase_axis: int = -1
    ) -> None:
        self.rotations_deg = [list(np.atleast_1d(np.asarray(r, dtype=float))) for r in rotations_deg]
        self.translations_mm = [list(np.asarray(t, dtype=float)) for t in translations_mm]
        if not self.rotations_deg or len(self.rotations_deg) != len(self.translations_mm):
            raise ValueError(
                "`rotations_deg` and `translations_mm` must list the same number (>= 1) of shots, "
                f"got {len(self.rotations_deg)} and {len(self.translations_mm)}"
            )
        self.interleaved = bool(interleaved)
        self.phase_axis = int(phase_axis)

    def is_identity(self) -> bool:
        return not any(any(r) for r in self.rotations_deg) and not any(any(t) for t in self.translations_mm)

    def corrupt(self, kspace: torch.Tensor, spatial_ndim: int, field: Any, position: int) -> torch.Tensor:
        return self.acquire(ifftnc(kspace, tuple(range(-spatial_ndim, 0))), spatial_ndim, field, position)

    def acquire(self, image: torch.Tensor, spatial_ndim: int, field: Any, position: int) -> torch.Tensor:
        lines = image.shape[self.phase_axis]
        shots = shot_schedule(lines, min(len(self.rotations_deg), lines), interleaved=self.interleaved)
        rotations = torch.tensor(self.rotations_deg, dtype=torch.float64)
        translations = torch.tensor(self.translations_mm, dtype=torch.float64)
        if translations.shape[1] != spatial_ndim:
            raise ValueError(
                f"`translations_mm` has {translations.shape[1]} columns but the image has "
                f"{spatial_ndim} spatial axes"
            )
        # Geometry.spacing is in array-axis order, like the translations.
        spacing = tuple(float(s) for s in field.geometry.spacing)
        return rigid_motion_kspace(
            image, rotations.squeeze(-1) if spatial_ndim == 2 else rotations, translations, shots,
            axis=self.phase_axis, spacing_mm=spacing,
        )


@dataclasses.dataclass(frozen=True)
class MotionParameters:
    """Per-shot rotations (degrees) and translations (mm)."""

    rotations_deg: tuple
    translations_mm: tuple


class RandomKSpaceMotion(RandomTransform):
    """Rigid motion with a random pose per shot; the first shot keeps the reference pose.

    Parameters
    ----------
    num_shots : int or (int, int), default (2, 6)
        Number of shots (inclusive range).
    rotation_range_deg : float or (float, float), default 5
        Range of each rotation angle in degrees (a number x means (-x, x)).
    translation_range_mm : float or (float, float), default 5
        Range of each translation component in mm.
    interleaved : bool, default False
    phase_axis : int, default -1
    """

    kind = "intensity"

    def __init__(
        self,
        num_shots: Any = (2, 6),
        rotation_range_deg: Any = 5.0,
        translation_range_mm: Any = 5.0,
        *,
        interleaved: bool = False,
        phase_axis: int = -1,
    ) -> None:
        self.num_shots = _check_count_range(num_shots, "num_shots", 1)
        self.rotation_range_deg = check_range(rotation_range_deg, "rotation_range_deg", minimum=-89.0, maximum=89.0, symmetric=True)
        self.translation_range_mm = check_range(translation_range_mm, "translation_range_mm", symmetric=True)
        self.interleaved = bool(interleaved)
        self.phase_axis = int(phase_axis)

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> MotionParameters:
        ndim = sample.reference.spatial_ndim
        shots = int(rng.integers(self.num_shots[0], self.num_shots[1] + 1))
        angles = 1 if ndim == 2 else 3
        rotations = rng.uniform(*self.rotation_range_deg, size=(shots, angles))
        translations = rng.uniform(*self.translation_range_mm, size=(shots, ndim))
        rotations[0] = 0.0
        translations[0] = 0.0
        return MotionParameters(_as_rows(rotations), _as_rows(translations))

    def deterministic(self, parameters: MotionParameters) -> KSpaceMotion:
        return KSpaceMotion(
            [list(r) for r in parameters.rotations_deg], [list(t) for t in parameters.translations_mm],
            interleaved=self.interleaved, phase_axis=self.phase_axis,
        )


# Ghosting -------------------------------------------------------------------


class KSpaceGhosting(_KSpaceTransform):
    """N/2 ghosting from an odd/even line phase error, see :func:`~medaug.physics.mri.artifacts.nyquist_ghosting`."""

    def __init__(self, phase_deg: float, *, readout_shift_px: float = 0.0, phase_axis: int = -2) -> None:
        self.phase_deg = float(phase_deg)
        self.readout_shift_px = float(readout_shift_px)
        self.phase_axis = int(phase_axis)
        if not (math.isfinite(self.phase_deg) and math.isfinite(self.readout_shift_px)):
            raise ValueError("`phase_deg` and `readout_shift_px` must be finite")

    def is_identity(self) -> bool:
        return self.phase_deg == 0.0 and self.readout_shift_px == 0.0

    def corrupt(self, kspace: torch.Tensor, spatial_ndim: int, field: Any, position: int) -> torch.Tensor:
        readout = -1 if self.phase_axis != -1 else -2
        return artifacts.nyquist_ghosting(
            kspace, phase_deg=self.phase_deg, readout_shift_px=self.readout_shift_px,
            phase_axis=self.phase_axis, readout_axis=readout,
        )


@dataclasses.dataclass(frozen=True)
class GhostingParameters:
    """Odd-line phase error (degrees) and readout shift (pixels)."""

    phase_deg: float
    readout_shift_px: float


class RandomKSpaceGhosting(RandomTransform):
    """N/2 ghosting with the phase error drawn from ``phase_range_deg`` (random sign)."""

    kind = "intensity"

    def __init__(self, phase_range_deg: Any = (5.0, 30.0), readout_shift_range_px: Any = (0.0, 0.0), *, phase_axis: int = -2) -> None:
        self.phase_range_deg = check_range(phase_range_deg, "phase_range_deg", minimum=0.0, maximum=180.0)
        self.readout_shift_range_px = check_range(readout_shift_range_px, "readout_shift_range_px", minimum=0.0)
        self.phase_axis = int(phase_axis)

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> GhostingParameters:
        sign = 1.0 if rng.random() < 0.5 else -1.0
        return GhostingParameters(
            sign * float(rng.uniform(*self.phase_range_deg)), float(rng.uniform(*self.readout_shift_range_px))
        )

    def deterministic(self, parameters: GhostingParameters) -> KSpaceGhosting:
        return KSpaceGhosting(parameters.phase_deg, readout_shift_px=parameters.readout_shift_px, phase_axis=self.phase_axis)


# Spikes ---------------------------------------------------------------------


class KSpaceSpikes(_KSpaceTransform):
    """Spikes at relative k-space positions (fractions of each axis in [0, 1)).

    Parameters
    ----------
    positions : list of list of float
        Per spike, the position on each spatial axis as a fraction of its length.
    amplitudes : list of (float, float)
        Per spike, the (real, imaginary) value relative to the largest ``|k|``.
    """

    def __init__(self, positions: Any, amplitudes: Any) -> None:
        self.positions = [list(map(float, p)) for p in positions]
        self.amplitudes = [list(map(float, a)) for a in amplitudes]
        if len(self.positions) != len(self.amplitudes) or any(len(a) != 2 for a in self.amplitudes):
            raise ValueError("`amplitudes` must give one (real, imaginary) pair per position")
        if any(not 0.0 <= v < 1.0 for p in self.positions for v in p):
            raise ValueError(f"`positions` must be fractions in [0, 1), got {self.positions}")

    def is_identity(self) -> bool:
        return not any(any(a) for a in self.amplitudes)

    def corrupt(self, kspace: torch.Tensor, spatial_ndim: int, field: Any, position: int) -> torch.Tensor:
        spatial = kspace.shape[-spatial_ndim:]
        indices = torch.tensor([[int(f * n) for f, n in zip(p, spatial)] for p in self.positions], dtype=torch.long)
        values = torch.tensor([complex(*a) for a in self.amplitudes], dtype=torch.complex128)
        return artifacts.kspace_spikes(kspace, indices, values, spatial_ndim=spatial_ndim)


@dataclasses.dataclass(frozen=True)
class SpikeParameters:
    """Relative spike positions and (real, imaginary) amplitudes."""

    positions: tuple
    amplitudes: tuple


class RandomKSpaceSpikes(RandomTransform):
    """``num_spikes`` spikes at uniform positions with magnitude in ``amplitude_range`` and random phase."""

    kind = "intensity"

    def __init__(self, num_spikes: Any = (1, 3), amplitude_range: Any = (0.05, 0.3)) -> None:
        self.num_spikes = _check_count_range(num_spikes, "num_spikes", 0)
        self.amplitude_range = check_range(amplitude_range, "amplitude_range", minimum=0.0)

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> SpikeParameters:
        count = int(rng.integers(self.num_spikes[0], self.num_spikes[1] + 1))
        ndim = sample.reference.spatial_ndim
        positions = rng.random((count, ndim))
        magnitude = rng.uniform(*self.amplitude_range, size=count)
        phase = rng.uniform(0.0, 2.0 * math.pi, size=count)
        amplitudes = np.stack([magnitude * np.cos(phase), magnitude * np.sin(phase)], axis=-1)
        return SpikeParameters(_as_rows(positions), _as_rows(amplitudes))

    def deterministic(self, parameters: SpikeParameters) -> KSpaceSpikes:
        return KSpaceSpikes([list(p) for p in parameters.positions], [list(a) for a in parameters.amplitudes])


# Truncation and partial Fourier ------------------------------------------------


class GibbsTruncation(_KSpaceTransform):
    """Keep the central ``fraction`` of k-space on every spatial axis (Gibbs ringing)."""

    def __init__(self, fraction: float) -> None:
        self.fraction = float(fraction)
        if not (math.isfinite(self.fraction) and 0.0 < self.fraction <= 1.0):
            raise ValueError(f"`fraction` must be in (0, 1], got {fraction}")

    def is_identity(self) -> bool:
        return self.fraction == 1.0

    def corrupt(self, kspace: torch.Tensor, spatial_ndim: int, field: Any, position: int) -> torch.Tensor:
        return artifacts.truncate_kspace(kspace, self.fraction, axes=tuple(range(-spatial_ndim, 0)))


@dataclasses.dataclass(frozen=True)
class FractionParameters:
    """Kept fraction of k-space."""

    fraction: float


class RandomGibbsTruncation(RandomTransform):
    """Gibbs truncation with the kept fraction drawn from ``fraction_range``."""

    kind = "intensity"

    def __init__(self, fraction_range: Any = (0.4, 0.9)) -> None:
        self.fraction_range = check_range(fraction_range, "fraction_range", minimum=1e-6, maximum=1.0)

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> FractionParameters:
        return FractionParameters(float(rng.uniform(*self.fraction_range)))

    def deterministic(self, parameters: FractionParameters) -> GibbsTruncation:
        return GibbsTruncation(parameters.fraction)


class PartialFourier(_KSpaceTransform):
    """Zero-filled partial-Fourier acquisition keeping ``fraction`` of the lines along ``axis``."""

    def __init__(self, fraction: float, *, axis: int = -2) -> None:
        self.fraction = float(fraction)
        self.axis = int(axis)
        if not (math.isfinite(self.fraction) and 0.5 <= self.fraction <= 1.0):
            raise ValueError(f"`fraction` must be in [0.5, 1], got {fraction}")

    def is_identity(self) -> bool:
        return self.fraction == 1.0

    def corrupt(self, kspace: torch.Tensor, spatial_ndim: int, field: Any, position: int) -> torch.Tensor:
        return artifacts.partial_fourier(kspace, self.fraction, axis=self.axis)


class RandomPartialFourier(RandomTransform):
    """Partial Fourier with the kept fraction drawn from ``fraction_range``."""

    kind = "intensity"

    def __init__(self, fraction_range: Any = (0.55, 0.8), *, axis: int = -2) -> None:
        self.fraction_range = check_range(fraction_range, "fraction_range", minimum=0.5, maximum=1.0)
        self.axis = int(axis)

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> FractionParameters:
        return FractionParameters(float(rng.uniform(*self.fraction_range)))

    def deterministic(self, parameters: FractionParameters) -> PartialFourier:
        return PartialFourier(parameters.fraction, axis=self.axis)


# Noise ------------------------------------------------------------------------


class KSpaceNoise(_KSpaceTransform):
    """Complex Gaussian k-space noise at a given SNR; magnitude images become Rician.

    Parameters
    ----------
    snr : float
        SNR of the noise-free image under ``definition`` (``inf`` adds nothing);
        see :func:`~medaug.physics.mri.noise.sigma_from_snr`.
    seed : int, default 0
        Seed of the noise stream; each field gets its own stream.
    definition : {"mean", "peak", "rms"}, default "mean"
    """

    def __init__(self, snr: float, seed: int = 0, *, definition: str = "mean") -> None:
        self.snr = float(snr)
        if math.isnan(self.snr) or self.snr <= 0:
            raise ValueError(f"`snr` must be > 0, got {snr}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"`seed` must be an int >= 0, got {seed!r}")
        self.seed = int(seed)
        self.definition = definition

    def is_identity(self) -> bool:
        return math.isinf(self.snr)

    def corrupt(self, kspace: torch.Tensor, spatial_ndim: int, field: Any, position: int) -> torch.Tensor:
        image = ifftnc(kspace, tuple(range(-spatial_ndim, 0)))
        return self._add_noise(kspace, image, field, position, in_place=False)

    def acquire(self, image: torch.Tensor, spatial_ndim: int, field: Any, position: int) -> torch.Tensor:
        kspace = fftnc(image, tuple(range(-spatial_ndim, 0)))
        return self._add_noise(kspace, image, field, position, in_place=True)

    def _add_noise(
        self, kspace: torch.Tensor, image: torch.Tensor, field: Any, position: int, *, in_place: bool
    ) -> torch.Tensor:
        """Add noise whose sigma gives ``snr`` for the root-sum-of-squares of ``image`` over channels."""
        reference = image.abs().pow(2).sum(0).sqrt()
        sigma = sigma_from_snr(reference, self.snr, definition=self.definition)
        generator = torch.Generator(device=kspace.device)
        stream = np.random.SeedSequence(self.seed, spawn_key=(position,))
        generator.manual_seed(int(stream.generate_state(1, np.uint64)[0] >> np.uint64(1)))
        mask = getattr(field, "mask", None)
        return add_kspace_noise(kspace, sigma, generator=generator, mask=mask, out=kspace if in_place else None)


@dataclasses.dataclass(frozen=True)
class SNRParameters:
    """SNR and the seed of the noise stream."""

    snr: float
    seed: int


class RandomKSpaceNoise(RandomTransform):
    """k-space noise with SNR drawn log-uniformly from ``snr_range``."""

    kind = "intensity"

    def __init__(self, snr_range: Any = (10.0, 100.0), *, definition: str = "mean") -> None:
        self.snr_range = check_range(snr_range, "snr_range", minimum=1e-6)
        self.definition = definition

    def sample_parameters(self, rng: np.random.Generator, sample: Sample) -> SNRParameters:
        low, high = (math.log(v) for v in self.snr_range)
        return SNRParameters(float(math.exp(rng.uniform(low, high))), spawn_seed(rng))

    def deterministic(self, parameters: SNRParameters) -> KSpaceNoise:
        return KSpaceNoise(parameters.snr, parameters.seed, definition=self.definition)
