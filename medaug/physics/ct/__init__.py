"""CT acquisition simulation: projectors, acquisition physics and reconstruction.

Images are attenuation maps (1/cm unless stated) on a grid centred on the
isocentre, geometries give distances in mm, and projectors return line
integrals in the image's unit times mm (see :data:`MM_PER_CM`).
"""

from medaug.physics.ct.acquisition import (
    AcquisitionReport,
    counts_to_line_integrals,
    incident_photons_for_mas,
    line_integral_variance,
    relative_noise_std,
    sample_counts,
    simulate_transmission,
    transmitted_photons,
)
from medaug.physics.ct.artifacts import add_scatter, detector_blur, disc_mask
from medaug.physics.ct.filters import (
    RECONSTRUCTION_FILTERS,
    filter_frequency_response,
    filter_projections,
    filter_window,
)
from medaug.physics.ct.geometry import (
    ConeBeamGeometry,
    FanBeamGeometry,
    ParallelBeamGeometry,
    limited_angle,
    sparse_view,
    uniform_angles,
)
from medaug.physics.ct.lowdose import (
    LowDoseResult,
    attenuation_to_hounsfield,
    hounsfield_to_attenuation,
    simulate_low_dose,
)
from medaug.physics.ct.projectors import (
    MM_PER_CM,
    ConeBeamProjector,
    FanBeamProjector,
    ParallelBeamProjector,
    check_field_of_view,
    clear_projector_cache,
)
from medaug.physics.ct.reconstruction import cg_normal_equations, fbp, fdk, sirt
from medaug.physics.ct.shortscan import parker_weights
from medaug.physics.ct.spectrum import (
    Spectrum,
    attenuation_per_cm,
    effective_attenuation_per_cm,
    monochromatic_spectrum,
    polychromatic_photons,
    tube_spectrum,
)

__all__ = [
    "AcquisitionReport",
    "ConeBeamGeometry",
    "ConeBeamProjector",
    "FanBeamGeometry",
    "FanBeamProjector",
    "LowDoseResult",
    "MM_PER_CM",
    "ParallelBeamGeometry",
    "ParallelBeamProjector",
    "RECONSTRUCTION_FILTERS",
    "Spectrum",
    "add_scatter",
    "attenuation_per_cm",
    "attenuation_to_hounsfield",
    "cg_normal_equations",
    "check_field_of_view",
    "clear_projector_cache",
    "counts_to_line_integrals",
    "detector_blur",
    "disc_mask",
    "effective_attenuation_per_cm",
    "fbp",
    "fdk",
    "filter_frequency_response",
    "filter_projections",
    "filter_window",
    "hounsfield_to_attenuation",
    "incident_photons_for_mas",
    "limited_angle",
    "line_integral_variance",
    "monochromatic_spectrum",
    "parker_weights",
    "polychromatic_photons",
    "relative_noise_std",
    "sample_counts",
    "simulate_low_dose",
    "simulate_transmission",
    "sirt",
    "sparse_view",
    "transmitted_photons",
    "tube_spectrum",
    "uniform_angles",
]
