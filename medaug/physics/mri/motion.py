"""Rigid motion during a Cartesian acquisition, simulated in k-space.

Each phase-encode line belongs to a shot, and the object has one rigid pose
per shot. The k-space of each pose is computed exactly (rotation by Fourier
shears, translation by a linear phase) and each line is taken from the
k-space of its shot's pose. Coil sensitivities stay fixed in the scanner
frame while the object moves.

Rotations by three Fourier shears are exact for band-limited images but
periodic: content leaving the grid re-enters on the other side, so leave a
margin around the object.
"""

from __future__ import annotations

import math

import torch

from medaug.physics.mri.fft import check_complex, fftnc

__all__ = ["fourier_rotate", "rigid_motion_kspace", "shot_schedule"]


def _shear(x: torch.Tensor, amount: float, along: int, by: int) -> torch.Tensor:
    """Shift each line of ``x`` along axis ``along`` by ``amount * (p_by)`` pixels (Fourier shift).

    A shift along ``along`` commutes with the circular shifts that centre
    the FFT on that axis, so the plain FFT with frequencies in FFT order
    gives the same result as the centred one, without the shifts.
    """
    n_along, n_by = x.shape[along], x.shape[by]
    frequency = torch.fft.fftfreq(n_along, device=x.device, dtype=torch.float64)
    position = torch.arange(n_by, device=x.device, dtype=torch.float64) - n_by // 2
    phase = -2.0 * math.pi * amount * position[:, None] * frequency[None, :]
    ramp = torch.polar(torch.ones_like(phase), phase).to(x.dtype)
    view = [1] * x.ndim
    view[by], view[along] = n_by, n_along
    if by > along:
        ramp = ramp.T
    spectrum = torch.fft.fft(x, dim=along)
    spectrum.mul_(ramp.reshape(view))
    return torch.fft.ifft(spectrum, dim=along)


def fourier_rotate(x: torch.Tensor, angle_deg: float, *, axes: tuple[int, int] = (-2, -1)) -> torch.Tensor:
    """Rotate a complex image in the plane of ``axes`` by three Fourier shears.

    The rotation is about the grid centre (index ``n // 2``) and turns the
    second axis of ``axes`` towards the first by ``angle_deg``.

    Parameters
    ----------
    x : complex tensor
    angle_deg : float
        Rotation angle in degrees, ``|angle_deg| < 90``.
    axes : (int, int), default (-2, -1)

    References
    ----------
    Unser M., Thevenaz P., Yaroslavsky L., "Convolution-based interpolation
    for fast, high-quality rotation of images", IEEE Trans. Image Process.
    4(10), 1371-1381, 1995. DOI: 10.1109/83.465102

    Examples
    --------
    >>> x = torch.zeros(5, 5, dtype=torch.complex128); x[2, 2] = 1
    >>> bool(torch.allclose(fourier_rotate(x, 30.0), x))
    True
    """
    check_complex(x, "x")
    angle_deg = float(angle_deg)
    if not (math.isfinite(angle_deg) and abs(angle_deg) < 90.0):
        raise ValueError(f"`angle_deg` must be in (-90, 90) degrees, got {angle_deg}")
    if angle_deg == 0.0:
        return x
    first, second = (axis % x.ndim for axis in axes)
    theta = math.radians(angle_deg)
    x = _shear(x, -math.tan(theta / 2.0), along=second, by=first)
    x = _shear(x, math.sin(theta), along=first, by=second)
    return _shear(x, -math.tan(theta / 2.0), along=second, by=first)


def shot_schedule(num_lines: int, num_shots: int, *, interleaved: bool = False) -> torch.Tensor:
    """Return the shot index of each phase-encode line.

    Contiguous schedules give shot ``s`` the lines ``[s n / S, (s + 1) n / S)``
    (sequential ordering); interleaved schedules give line ``i`` to shot
    ``i mod S`` (as in segmented acquisitions).

    Examples
    --------
    >>> shot_schedule(6, 3).tolist(), shot_schedule(6, 3, interleaved=True).tolist()
    ([0, 0, 1, 1, 2, 2], [0, 1, 2, 0, 1, 2])
    """
    if num_lines < 1 or num_shots < 1 or num_shots > num_lines:
        raise ValueError(
            f"need 1 <= `num_shots` <= `num_lines`, got num_shots={num_shots}, num_lines={num_lines}"
        )
    lines = torch.arange(num_lines)
    if interleaved:
        return lines % num_shots
    return (lines * num_shots) // num_lines


def _check_motion(
    rotations_deg: torch.Tensor, translations_mm: torch.Tensor, spatial_ndim: int
) -> tuple[torch.Tensor, torch.Tensor]:
    rotations = torch.as_tensor(rotations_deg, dtype=torch.float64)
    translations = torch.as_tensor(translations_mm, dtype=torch.float64)
    angles_per_shot = 1 if spatial_ndim == 2 else 3
    if spatial_ndim == 2 and rotations.ndim == 1:
        rotations = rotations[:, None]
    if rotations.ndim != 2 or rotations.shape[1] != angles_per_shot:
        expected = "(S,)" if spatial_ndim == 2 else "(S, 3)"
        raise ValueError(f"`rotations_deg` must be shaped {expected}, got {tuple(rotations.shape)}")
    if translations.shape != (rotations.shape[0], spatial_ndim):
        raise ValueError(
            f"`translations_mm` must be shaped ({rotations.shape[0]}, {spatial_ndim}), "
            f"got {tuple(translations.shape)}"
        )
    if not (bool(torch.isfinite(rotations).all()) and bool(torch.isfinite(translations).all())):
        raise ValueError("`rotations_deg` and `translations_mm` must be finite")
    return rotations, translations


def _rotate_pose(x: torch.Tensor, rotation: torch.Tensor, spatial_ndim: int) -> torch.Tensor:
    """Return the image rotated to one shot's pose (translation is applied in k-space)."""
    if spatial_ndim == 2:
        return fourier_rotate(x, float(rotation[0]), axes=(-2, -1))
    planes = ((-2, -1), (-3, -1), (-3, -2))
    for angle, plane in zip(rotation.tolist(), planes):
        x = fourier_rotate(x, angle, axes=plane)
    return x


def _translation_phase(
    shape: tuple[int, ...], shift_px: torch.Tensor, device: torch.device, dtype: torch.dtype
) -> torch.Tensor | None:
    """Return the k-space phase ramp of a shift, built as a product of one ramp per axis."""
    if not bool((shift_px != 0).any()):
        return None
    ramp = torch.ones((), dtype=dtype, device=device)
    for axis, (n, shift) in enumerate(zip(shape, shift_px.tolist())):
        frequency = (torch.arange(n, dtype=torch.float64, device=device) - n // 2) / n
        phase = (-2.0 * math.pi * shift) * frequency
        view = [1] * len(shape)
        view[axis] = n
        ramp = ramp * torch.polar(torch.ones_like(phase), phase).to(dtype).reshape(view)
    return ramp


def rigid_motion_kspace(
    image: torch.Tensor,
    rotations_deg: torch.Tensor,
    translations_mm: torch.Tensor,
    shot_of_line: torch.Tensor,
    *,
    axis: int = -1,
    spacing_mm: tuple[float, ...] | None = None,
    coil_sensitivities: torch.Tensor | None = None,
) -> torch.Tensor:
    """Return the k-space of an object that moves rigidly between shots.

    Parameters
    ----------
    image : complex tensor, (*batch, *spatial)
        The object in its reference pose; 2 or 3 spatial axes (set by the
        number of columns of ``translations_mm``).
    rotations_deg : tensor, (S,) in 2-D or (S, 3) in 3-D
        Rotation of each shot in degrees, each ``|angle| < 90``. In 3-D the
        three angles act in the planes (H, W), (D, W) and (D, H), in that order.
    translations_mm : tensor, (S, ndim)
        Translation of each shot in mm, in array-axis order.
    shot_of_line : int tensor, (n_lines,)
        Shot index of each line along ``axis`` (see :func:`shot_schedule`).
    axis : int, default -1
        Phase-encode axis among the spatial axes (negative, counted from the end).
    spacing_mm : tuple of float, optional
        Pixel spacing in mm per spatial axis; default 1 mm.
    coil_sensitivities : complex tensor, (C, *spatial), optional
        Fixed coil maps; the output then has a coil axis before the spatial axes.

    Returns
    -------
    complex tensor
        k-space ``(*batch, [C,] *spatial)``. With zero motion it equals
        ``fftnc(S x)`` exactly.

    References
    ----------
    Shaw R., Sudre C. H., Ourselin S., Modat M., "MRI k-space motion
    artefact augmentation: model robustness and task-specific uncertainty",
    Proc. MIDL, PMLR 102, 427-436, 2019.
    """
    check_complex(image, "image")
    spatial_ndim = int(torch.as_tensor(translations_mm).shape[-1])
    if spatial_ndim not in (2, 3):
        raise ValueError(f"`translations_mm` must have 2 or 3 columns, got {spatial_ndim}")
    rotations, translations = _check_motion(rotations_deg, translations_mm, spatial_ndim)
    spatial = tuple(image.shape[-spatial_ndim:])
    if not -spatial_ndim <= axis < 0:
        raise ValueError(f"`axis` must be in [-{spatial_ndim}, -1], got {axis}")
    shots = torch.as_tensor(shot_of_line)
    if shots.shape != (spatial[axis],) or shots.dtype.is_floating_point:
        raise ValueError(
            f"`shot_of_line` must be an int tensor shaped ({spatial[axis]},), got "
            f"{shots.dtype} {tuple(shots.shape)}"
        )
    if int(shots.min()) < 0 or int(shots.max()) >= rotations.shape[0]:
        raise ValueError(f"`shot_of_line` values must be in [0, {rotations.shape[0] - 1}]")
    spacing = torch.as_tensor(spacing_mm if spacing_mm is not None else (1.0,) * spatial_ndim, dtype=torch.float64)
    if spacing.shape != (spatial_ndim,) or bool((spacing <= 0).any()):
        raise ValueError(f"`spacing_mm` must be {spatial_ndim} positive values, got {spacing_mm}")

    axes = tuple(range(-spatial_ndim, 0))
    result = None
    for shot in torch.unique(shots).tolist():
        moved = _rotate_pose(image, rotations[shot], spatial_ndim)
        if coil_sensitivities is not None:
            moved = moved.unsqueeze(-spatial_ndim - 1) * coil_sensitivities.to(image.device)
        kspace = fftnc(moved, axes)
        ramp = _translation_phase(spatial, translations[shot] / spacing, image.device, kspace.dtype)
        if ramp is not None:
            kspace = kspace * ramp
        lines = torch.nonzero(shots == shot).squeeze(1).to(image.device)
        if result is None:
            result = torch.zeros_like(kspace)
        result.index_copy_(axis, lines, kspace.index_select(axis, lines))
    return result
