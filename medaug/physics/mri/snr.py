"""Scaling of image SNR with the acquisition protocol.

Image SNR is proportional to ``B0^e V sqrt(T) / (g sqrt(R))``: field
strength ``B0`` (T), voxel volume ``V`` (mm^3), fully sampled acquisition
time ``T`` (s), coil geometry factor ``g`` and parallel-imaging acceleration
``R``. :func:`snr_scale` evaluates this factor on numbers or numpy arrays and
is the one implementation in medaug; :func:`relative_snr` compares two
:class:`AcquisitionProtocol` records with it, and
:func:`medaug.data.profiles.relative_snr` calls it for acquisition profiles.
Multiply a reference SNR by the ratio and pass the result to
:func:`~medaug.physics.mri.noise.sigma_from_snr`.

The module uses numpy only.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

__all__ = ["AcquisitionProtocol", "snr_scale", "relative_snr"]


def _check_factor(value: float | np.ndarray, name: str, *, minimum: float, unit: str = "") -> np.ndarray:
    """Return ``value`` as a float64 array; raise ValueError unless finite and above ``minimum``.

    ``minimum`` is exclusive when 0 (a positive quantity) and inclusive otherwise.
    """
    array = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` must be finite, got {value}")
    if minimum == 0 and np.any(array <= 0):
        raise ValueError(f"`{name}` must be > 0{unit}, got {value}")
    if minimum != 0 and np.any(array < minimum):
        raise ValueError(f"`{name}` must be >= {minimum:g}{unit}, got {value}")
    return array


def snr_scale(
    field_strength_t: float | np.ndarray,
    acceleration: float | np.ndarray = 1.0,
    *,
    g_factor: float | np.ndarray = 1.0,
    voxel_volume_mm3: float | np.ndarray = 1.0,
    acquisition_time_s: float | np.ndarray = 1.0,
    field_exponent: float = 1.0,
) -> float | np.ndarray:
    """Return the factor ``B0^e V sqrt(T) / (g sqrt(R))`` that image SNR is proportional to.

    Parameters
    ----------
    field_strength_t : float or ndarray
        Main field strength B0 in T (> 0).
    acceleration : float or ndarray, default 1
        Parallel-imaging acceleration R (>= 1).
    g_factor : float or ndarray, default 1
        Coil geometry factor g of the parallel-imaging reconstruction (>= 1).
    voxel_volume_mm3 : float or ndarray, default 1
        Voxel volume in mm^3 (> 0), or a ratio of volumes.
    acquisition_time_s : float or ndarray, default 1
        Total sampling time of the fully sampled acquisition in s (> 0):
        readout duration times phase encodes times averages.
    field_exponent : float, default 1
        Exponent ``e`` of the field dependence (>= 0): about 1 where the
        thermal noise of the body dominates, above about 0.5 T (Hoult and
        Lauterbur 1979, Edelstein et al. 1986); Pohmann et al. 2016 measured
        about 1.65 in the brain between 3 and 9.4 T.

    Returns
    -------
    float or ndarray
        The factor, broadcast over the array arguments; a float when all are scalars.

    Notes
    -----
    The signal voltage grows as B0^2 (magnetisation times precession
    frequency) while the body noise grows as B0, so SNR grows as B0. SNR
    grows with the number of spins (``V``) and with the square root of the
    sampling time. Skipping k-space lines by ``R`` cuts the sampling time, so
    noise grows by ``sqrt(R)``, and the SENSE unfolding amplifies it further
    by ``g`` (Pruessmann et al. 1999).

    References
    ----------
    Hoult D. I., Lauterbur P. C., "The sensitivity of the zeugmatographic
    experiment involving human samples", J. Magn. Reson. 34(2), 425-433,
    1979. DOI: 10.1016/0022-2364(79)90019-2

    Edelstein W. A., Glover G. H., Hardy C. J., Redington R. W., "The
    intrinsic signal-to-noise ratio in NMR imaging", Magn. Reson. Med. 3(4),
    604-618, 1986. DOI: 10.1002/mrm.1910030413

    Pruessmann K. P., Weiger M., Scheidegger M. B., Boesiger P., "SENSE:
    sensitivity encoding for fast MRI", Magn. Reson. Med. 42(5), 952-962,
    1999. DOI: 10.1002/(SICI)1522-2594(199911)42:5<952::AID-MRM16>3.0.CO;2-S

    Pohmann R., Speck O., Scheffler K., "Signal-to-noise ratio and MR tissue
    parameters in human brain imaging at 3, 7, and 9.4 tesla using current
    receive coil arrays", Magn. Reson. Med. 75(2), 801-809, 2016.
    DOI: 10.1002/mrm.25677

    Examples
    --------
    >>> snr_scale(3.0, 4.0)
    1.5
    >>> snr_scale(np.array([1.5, 3.0]), voxel_volume_mm3=8.0)
    array([12., 24.])
    """
    field = _check_factor(field_strength_t, "field_strength_t", minimum=0, unit=" T")
    rate = _check_factor(acceleration, "acceleration", minimum=1)
    g = _check_factor(g_factor, "g_factor", minimum=1)
    volume = _check_factor(voxel_volume_mm3, "voxel_volume_mm3", minimum=0, unit=" mm^3")
    duration = _check_factor(acquisition_time_s, "acquisition_time_s", minimum=0, unit=" s")
    exponent = float(field_exponent)
    if not (math.isfinite(exponent) and exponent >= 0):
        raise ValueError(f"`field_exponent` must be >= 0, got {field_exponent}")

    scale = field**exponent * volume * np.sqrt(duration) / (g * np.sqrt(rate))
    return float(scale) if scale.ndim == 0 else scale


@dataclasses.dataclass(frozen=True)
class AcquisitionProtocol:
    """The factors of a protocol that set its image SNR.

    Attributes
    ----------
    field_strength_t : float
        Main field B0 in tesla.
    voxel_volume_mm3 : float
        Voxel volume in mm^3.
    acquisition_time_s : float
        Total sampling time of the fully sampled acquisition in s (readout
        duration times phase encodes times averages).
    acceleration : float, default 1
        Parallel-imaging acceleration R (>= 1).
    g_factor : float, default 1
        Coil geometry factor g (>= 1).
    """

    field_strength_t: float
    voxel_volume_mm3: float
    acquisition_time_s: float
    acceleration: float = 1.0
    g_factor: float = 1.0

    def __post_init__(self) -> None:
        snr_scale(**self._factors())

    def _factors(self) -> dict[str, float]:
        return {
            "field_strength_t": self.field_strength_t,
            "acceleration": self.acceleration,
            "g_factor": self.g_factor,
            "voxel_volume_mm3": self.voxel_volume_mm3,
            "acquisition_time_s": self.acquisition_time_s,
        }


def relative_snr(
    protocol: AcquisitionProtocol,
    reference: AcquisitionProtocol,
    *,
    field_exponent: float = 1.0,
) -> float:
    """Return the SNR of ``protocol`` relative to ``reference``.

    The ratio of their :func:`snr_scale` factors,
    ``SNR ~ B0^e * V * sqrt(T) / (g sqrt(R))``. Multiply a reference SNR by
    this ratio and pass the result to
    :func:`~medaug.physics.mri.noise.sigma_from_snr`.

    Parameters
    ----------
    protocol, reference : AcquisitionProtocol
    field_exponent : float, default 1.0
        Exponent ``e`` of the field dependence, see :func:`snr_scale`.

    Raises
    ------
    TypeError
        If ``protocol`` or ``reference`` is not an AcquisitionProtocol.

    Examples
    --------
    >>> ref = AcquisitionProtocol(1.5, 1.0, 240.0)
    >>> relative_snr(AcquisitionProtocol(3.0, 1.0, 240.0, acceleration=4.0), ref)
    1.0
    """
    for name, value in (("protocol", protocol), ("reference", reference)):
        if not isinstance(value, AcquisitionProtocol):
            raise TypeError(f"`{name}` must be an AcquisitionProtocol, got {type(value).__name__}")
    scales = [snr_scale(**p._factors(), field_exponent=field_exponent) for p in (protocol, reference)]
    return scales[0] / scales[1]
