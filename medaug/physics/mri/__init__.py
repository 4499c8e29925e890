"""MRI acquisition simulation: tissue maps to noisy multi-coil k-space and back.

The chain is a sequence of differentiable torch functions and operators:
signal equations (:mod:`~medaug.physics.mri.signal`), coil sensitivities
(:mod:`~medaug.physics.mri.coils`), the centred orthonormal FFT
(:mod:`~medaug.physics.mri.fft`), Cartesian masks and non-Cartesian
trajectories with a finufft-based NUFFT, k-space noise and artifacts, rigid
motion, and baseline reconstructions.
"""

from medaug.physics.mri.artifacts import (
    bias_field_terms,
    kspace_spikes,
    nyquist_ghosting,
    partial_fourier,
    polynomial_bias_field,
    polynomial_field,
    readout_off_resonance,
    truncate_kspace,
)
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
from medaug.physics.mri.motion import fourier_rotate, rigid_motion_kspace, shot_schedule
from medaug.physics.mri.noise import (
    SNR_DEFINITIONS,
    add_kspace_noise,
    noncentral_chi_mean,
    rician_mean,
    rician_std,
    sigma_from_snr,
)
from medaug.physics.mri.nufft import NUFFT, NonCartesianMRI
from medaug.physics.mri.operators import MRIAcquisition
from medaug.physics.mri.poisson import poisson_disc_mask
from medaug.physics.mri.reconstruction import (
    cg_sense,
    coil_combine,
    root_sum_of_squares,
    zero_filled,
)
from medaug.physics.mri.signal import (
    inversion_recovery,
    off_resonance_phase,
    relaxation_decay,
    spin_echo,
    spoiled_gradient_echo,
)
from medaug.physics.mri.snr import AcquisitionProtocol, relative_snr, snr_scale

# Transforms are not imported here: medaug.transforms imports heavier
# modules, and medaug.physics.mri.transforms loads them on first use.
from medaug.physics.mri.trajectories import (
    GOLDEN_ANGLE_DEG,
    pipe_density_compensation,
    radial_density_compensation,
    radial_trajectory,
    spiral_trajectory,
)

__all__ = [
    "GOLDEN_ANGLE_DEG",
    "NUFFT",
    "SNR_DEFINITIONS",
    "AccelerationError",
    "AcquisitionProtocol",
    "MRIAcquisition",
    "NonCartesianMRI",
    "SamplingMask",
    "add_kspace_noise",
    "bias_field_terms",
    "birdcage_sensitivities",
    "calibration_slice",
    "cg_sense",
    "coil_combine",
    "complex_to_real",
    "equispaced_line_mask",
    "fftnc",
    "fourier_rotate",
    "gaussian_line_mask",
    "ifftnc",
    "inversion_recovery",
    "kspace_spikes",
    "line_mask_to_grid",
    "noncentral_chi_mean",
    "normalize_sensitivities",
    "nyquist_ghosting",
    "off_resonance_phase",
    "partial_fourier",
    "pipe_density_compensation",
    "poisson_disc_mask",
    "polynomial_bias_field",
    "polynomial_field",
    "radial_density_compensation",
    "radial_trajectory",
    "random_line_mask",
    "random_mask_2d",
    "readout_off_resonance",
    "real_to_complex",
    "relative_snr",
    "relaxation_decay",
    "rician_mean",
    "rician_std",
    "rigid_motion_kspace",
    "root_sum_of_squares",
    "shot_schedule",
    "sigma_from_snr",
    "snr_scale",
    "spin_echo",
    "spiral_trajectory",
    "spoiled_gradient_echo",
    "surface_coil_sensitivities",
    "truncate_kspace",
    "zero_filled",
]
