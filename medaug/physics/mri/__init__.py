"""MRI acquisition simulation: tissue maps to noisy multi-coil k-space and back.

The chain is a sequence of differentiable torch functions and operators:
signal equations (:mod:`~medaug.physics.mri.signal`), coil sensitivities
(:mod:`~medaug.physics.mri.coils`), the centred orthonormal FFT
(:mod:`~medaug.physics.mri.fft`), sampling masks and trajectories, k-space
noise and artifacts, and baseline reconstructions.
"""

from medaug.physics.mri.coils import (
    birdcage_sensitivities,
    normalize_sensitivities,
    surface_coil_sensitivities,
)
from medaug.physics.mri.fft import complex_to_real, fftnc, ifftnc, real_to_complex
from medaug.physics.mri.masks import (
    AccelerationError,
    SamplingMask,
    calibration_slice,
    equispaced_line_mask,
    gaussian_line_mask,
    line_mask_to_grid,
    random_line_mask,
    random_mask_2d,
)
from medaug.physics.mri.poisson import poisson_disc_mask
from medaug.physics.mri.signal import (
    inversion_recovery,
    off_resonance_phase,
    relaxation_decay,
    spin_echo,
    spoiled_gradient_echo,
)

__all__ = [
    "AccelerationError",
    "SamplingMask",
    "birdcage_sensitivities",
    "calibration_slice",
    "complex_to_real",
    "equispaced_line_mask",
    "fftnc",
    "gaussian_line_mask",
    "ifftnc",
    "inversion_recovery",
    "line_mask_to_grid",
    "normalize_sensitivities",
    "off_resonance_phase",
    "poisson_disc_mask",
    "random_line_mask",
    "random_mask_2d",
    "real_to_complex",
    "relaxation_decay",
    "spin_echo",
    "spoiled_gradient_echo",
    "surface_coil_sensitivities",
]
