"""Procedural head: reproducible, declared labels only, anatomy driven by its parameters."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from scipy import ndimage

from medaug.phantoms import NotLaminarError, mr_parameter, mr_parameter_maps, procedural_head
from medaug.phantoms.generators import HEAD_LABELS, HeadParameters, ProceduralHead

CSF, GREY, WHITE, LESION = (HEAD_LABELS.index(t) for t in ("csf", "grey_matter", "white_matter", "lesion"))


def _head(seed: int, ndim: int = 3, **parameters) -> ProceduralHead:
    return procedural_head(np.random.default_rng(seed), HeadParameters(**parameters), ndim=ndim)


def _grid(x: tuple[float, float], y: tuple[float, float], z: tuple[float, float], spacing: float) -> np.ndarray:
    """Physical points (mm) of a regular grid, ``(Z, Y, X, 3)``."""
    axes = [np.arange(low, high, spacing) for low, high in (z, y, x)]
    zz, yy, xx = np.meshgrid(*axes, indexing="ij")
    return np.stack([xx, yy, zz], axis=-1)


def test_same_seed_same_head_other_seed_differs():
    first, again, other = _head(11, ndim=2), _head(11, ndim=2), _head(12, ndim=2)

    first_labels = first.label_map((64, 64), 220.0).numpy()
    assert first == again
    np.testing.assert_array_equal(first_labels, again.label_map((64, 64), 220.0).numpy())
    assert first != other
    assert np.mean(first_labels != other.label_map((64, 64), 220.0).numpy()) > 0.02


def test_labels_only_declared_classes():
    for seed in range(3):
        head = _head(seed, ndim=2, lesion_count=(3, 5))
        present = set(head.label_map((96, 96), 220.0, supersample=2).labels)

        assert present <= set(range(len(HEAD_LABELS)))
        assert {GREY, WHITE, CSF} <= present
    volume = _head(0, ndim=3).label_map((40, 48, 48), 220.0)
    assert set(volume.labels) <= set(range(len(HEAD_LABELS)))


def test_lesions_lie_in_white_matter():
    for seed, ndim in [(0, 2), (1, 2), (2, 2), (3, 3)]:
        head = _head(seed, ndim=ndim, lesion_count=(4, 6), lesion_radius_mm=(3.0, 9.0))
        clean = dataclasses.replace(head, lesions=())
        shape = (128, 128) if ndim == 2 else (64, 96, 96)
        labels = head.label_map(shape, 220.0).numpy()[0]
        before = clean.label_map(shape, 220.0).numpy()[0]

        assert head.lesions
        assert np.any(labels == LESION)
        # Every voxel labelled lesion was white matter without the lesions, so inside the brain.
        assert np.all(before[labels == LESION] == WHITE)


def test_plane_of_2d_head_matches_3d_head():
    flat, volume = _head(4, ndim=2, lesion_count=(0, 0)), _head(4, ndim=3, lesion_count=(0, 0))
    points = _grid((-90.0, 90.0), (-110.0, 110.0), (0.0, 1.0), 2.0).reshape(-1, 3)[:, :2]
    in_space = np.concatenate([points, np.full((len(points), 1), flat.slice_z_mm)], axis=1)

    np.testing.assert_array_equal(flat.label_at(points), volume.label_at(in_space))


def test_2d_plane_height_drawn_in_range():
    heights = [_head(seed, ndim=2, slice_z_mm=(5.0, 35.0)).slice_z_mm for seed in range(5)]

    assert all(5.0 <= height <= 35.0 for height in heights)
    assert len(set(heights)) == 5


def _ribbon_thickness(head: ProceduralHead, spacing: float = 0.75) -> float:
    """Mean distance (mm) from grey-matter voxels that touch CSF to the nearest white matter."""
    labels = head.label_at(_grid((-50.0, 50.0), (-60.0, 60.0), (30.0, 48.0), spacing).reshape(-1, 3))
    labels = labels.reshape(_grid((-50.0, 50.0), (-60.0, 60.0), (30.0, 48.0), spacing).shape[:3])
    distance = ndimage.distance_transform_edt(labels != WHITE, sampling=spacing)
    pial = (labels == GREY) & ndimage.binary_dilation(labels == CSF)
    return float(distance[pial].mean())


def test_cortical_thickness_tracks_parameter():
    thin = _ribbon_thickness(_head(0, cortical_thickness_mm=1.5, lesion_count=(0, 0)))
    thick = _ribbon_thickness(_head(0, cortical_thickness_mm=3.5, lesion_count=(0, 0)))

    # Pial voxel centres lie up to one voxel (0.75 mm) inside the pial surface,
    # so the measured thickness falls short by about half a voxel.
    assert thin == pytest.approx(1.5, abs=0.5)
    assert thick == pytest.approx(3.5, abs=0.5)
    assert thick - thin == pytest.approx(2.0, abs=0.4)


def _ventricle_volume_ml(head: ProceduralHead) -> float:
    points = _grid((-50.0, 50.0), (-70.0, 70.0), (-30.0, 40.0), 1.5).reshape(-1, 3)
    without = dataclasses.replace(head, ventricle_segments=())
    csf_voxels = np.sum(head.label_at(points) == CSF) - np.sum(without.label_at(points) == CSF)
    return float(csf_voxels * 1.5**3 / 1000.0)


def test_ventricle_volume_grows_as_scale_cubed():
    volumes = {scale: _ventricle_volume_ml(_head(0, ventricle_scale=scale, lesion_count=(0, 0)))
               for scale in (0.8, 1.0, 1.6)}

    assert 5.0 < volumes[1.0] < 40.0  # adult lateral and third ventricles, mL
    assert volumes[0.8] < volumes[1.0] < volumes[1.6]
    # Radii grow as s^1.25 and length as s^0.5, so volume as s^3; the 1.5 mm
    # grid and the joints of the tube segments leave about 5 % of error.
    assert volumes[1.6] / volumes[1.0] == pytest.approx(1.6**3, rel=0.1)
    assert volumes[0.8] / volumes[1.0] == pytest.approx(0.8**3, rel=0.1)


def _sulcus_spacing(head: ProceduralHead, height_mm: float) -> float:
    """Mean distance (mm) between sulci along the axial curve 2 mm below the brain surface."""
    angles = np.linspace(0.0, 2.0 * np.pi, 3000, endpoint=False)
    directions = np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], axis=-1)
    low, high = np.zeros(len(angles)), np.full(len(angles), 120.0)
    for _ in range(25):
        middle = 0.5 * (low + high)
        inside = head.brain_depth(directions * middle[:, None] + [0.0, 0.0, height_mm]) > 2.0
        low, high = np.where(inside, middle, low), np.where(inside, high, middle)
    points = directions * low[:, None] + [0.0, 0.0, height_mm]
    lateral = np.abs(points[:, 0]) > 6.0  # leave out the interhemispheric fissure
    sulcus = (head.label_at(points) == CSF) & lateral
    steps = np.linalg.norm(np.diff(points, axis=0, append=points[:1]), axis=1)
    return float(np.sum(steps * lateral) / np.sum(sulcus & ~np.roll(sulcus, 1)))


def test_sulcus_spacing_tracks_parameter():
    for spacing in (10.0, 20.0):
        measured = [_sulcus_spacing(_head(seed, sulcus_spacing_mm=spacing), height)
                    for seed in range(3) for height in (25.0, 45.0)]

        # Six curves of a random pattern: their mean spread about 10 % around
        # the parameter in a calibration over 18 curves.
        assert np.mean(measured) == pytest.approx(spacing, rel=0.2)


def test_zero_sulcus_depth_gives_smooth_cortex():
    folded = _head(2, ndim=2, lesion_count=(0, 0)).label_map((128, 128), 220.0).numpy()
    smooth = _head(2, ndim=2, lesion_count=(0, 0), sulcus_depth_mm=0.0).label_map((128, 128), 220.0).numpy()

    # Folding adds cortex (both banks of every sulcus) and sulcal CSF.
    assert np.sum(folded == GREY) > 1.3 * np.sum(smooth == GREY)
    assert np.sum(folded == CSF) > np.sum(smooth == CSF)


def test_rasterize_uses_proton_density_and_values():
    head = _head(5, ndim=2, lesion_count=(0, 0))
    labels = head.label_map((64, 64), 220.0, supersample=1).numpy()[0]
    density = head.rasterize((64, 64), 220.0).numpy()[0]
    custom = head.rasterize((64, 64), 220.0, values={t: float(i) for i, t in enumerate(HEAD_LABELS)}).numpy()[0]

    assert density[labels == WHITE] == pytest.approx(mr_parameter("white_matter", "proton_density"))
    assert np.all(density[labels == 0] == 0.0)
    np.testing.assert_array_equal(custom, labels.astype(np.float32))


def test_tissue_fractions_sum_to_one_and_feed_maps():
    head = _head(6, ndim=2)
    fractions = head.tissue_fractions((48, 48), 220.0, supersample=3, dtype=torch.float64).data
    maps = mr_parameter_maps(head, (48, 48), 220.0, supersample=2)

    assert fractions.shape == (len(HEAD_LABELS), 48, 48)
    torch.testing.assert_close(fractions.sum(dim=0), torch.ones(48, 48, dtype=torch.float64))
    assert float(maps["t1_ms"].data.max()) > 0


def test_head_has_no_analytic_kspace():
    with pytest.raises(NotLaminarError, match="no closed-form Fourier transform"):
        _head(0, ndim=2).kspace(np.zeros((1, 2)))


def test_head_parameters_reject_bad_values():
    with pytest.raises(ValueError, match="`cortical_thickness_mm` must be > 0"):
        HeadParameters(cortical_thickness_mm=-1.0)
    with pytest.raises(ValueError, match="`sulcus_depth_mm` must be >= 0"):
        HeadParameters(sulcus_depth_mm=-2.0)
    with pytest.raises(ValueError, match="`slice_z_mm` must be a"):
        HeadParameters(slice_z_mm=(30.0, 10.0))
    with pytest.raises(ValueError, match="leave too little white matter"):
        HeadParameters(skull_thickness_mm=60.0)


def test_procedural_head_rejects_bad_arguments():
    with pytest.raises(TypeError, match="`rng` must be a numpy.random.Generator"):
        procedural_head(np.random)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`ndim` must be 2 or 3"):
        procedural_head(np.random.default_rng(0), ndim=4)
    with pytest.raises(ValueError, match=r"`points` must be shaped \(N, 2\) or \(N, 3\)"):
        _head(0).label_at(np.zeros((3, 4)))


def test_fractions_match_labels_of_sub_samples():
    head = _head(3, ndim=2, lesion_count=(2, 2))
    fractions = head.tissue_fractions((24, 20), 220.0, supersample=2, dtype=torch.float64).numpy()
    # Sub-samples of voxel (i, j) on the centred grid: spacing 220 / 24 in y and 220 / 20 in x.
    step_y, step_x = 220.0 / 24, 220.0 / 20
    y = (np.arange(24) - 12) * step_y
    x = (np.arange(20) - 10) * step_x
    counts = np.zeros((len(HEAD_LABELS), 24, 20))
    for offset_y in (-0.25 * step_y, 0.25 * step_y):
        for offset_x in (-0.25 * step_x, 0.25 * step_x):
            yy, xx = np.meshgrid(y + offset_y, x + offset_x, indexing="ij")
            labels = head.label_at(np.stack([xx.ravel(), yy.ravel()], axis=1)).reshape(24, 20)
            counts += np.eye(len(HEAD_LABELS))[labels].transpose(2, 0, 1)

    np.testing.assert_array_equal(fractions, counts / 4.0)


def test_label_map_takes_majority_lower_on_ties():
    head = _head(8, ndim=2)
    fractions = head.tissue_fractions((48, 48), 220.0, supersample=2).numpy()
    labels = head.label_map((48, 48), 220.0, supersample=2).numpy()[0]

    # np.argmax returns the first (lowest) label among equal maxima.
    ordered = np.sort(fractions, axis=0)
    np.testing.assert_array_equal(labels, np.argmax(fractions, axis=0))
    # Some voxel has two labels on 2 of its 4 sub-samples, so the tie rule is exercised.
    assert np.any(ordered[-1] == ordered[-2])
