"""Random generators: reproducible, seed-dependent, declared labels only, lesions inside."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medaug.core import Image, LabelMap
from medaug.phantoms import (
    HeadParameters,
    NotLaminarError,
    insert_lesion,
    layered_head,
    random_ellipses,
    vessel_tree,
)
from medaug.phantoms.generators import HEAD_LABELS


def _seeded(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: random_ellipses(rng, ndim=2),
        lambda rng: random_ellipses(rng, ndim=3),
        lambda rng: layered_head(rng, ndim=2),
        lambda rng: layered_head(rng, ndim=3),
        lambda rng: vessel_tree(rng, depth=2),
    ],
)
def test_same_seed_same_phantom_other_seed_differs(make):
    first = make(_seeded(11))
    again = make(_seeded(11))
    other = make(_seeded(12))

    assert first.primitives == again.primitives
    assert first.primitives != other.primitives


def test_layered_head_labels_only_declared_classes():
    many_lesions = HeadParameters(lesion_count=(3, 5))
    for seed in range(3):
        head = layered_head(_seeded(seed), many_lesions, ndim=2)
        labels = head.label_map((96, 96), 220.0, supersample=2)

        present = set(labels.labels)
        assert present <= set(range(len(HEAD_LABELS)))
        assert head.labels == HEAD_LABELS


def test_layered_head_lesions_stay_in_brain():
    parameters = HeadParameters(lesion_count=(4, 6), lesion_radius_mm=(3.0, 9.0))
    for seed in range(4):
        head = layered_head(_seeded(seed), parameters, ndim=2)
        lesions = [p for p in head.primitives if p.tissue == "lesion"]
        white_matter = next(p for p in head.primitives if p.tissue == "white_matter")
        labels = head.label_map((128, 128), 220.0).numpy()[0]
        lesion_voxels = np.argwhere(labels == HEAD_LABELS.index("lesion"))

        assert lesions
        for lesion in lesions:
            assert np.all(white_matter.contains(lesion.boundary_points(256)))
        # Voxel centres labelled lesion lie inside the white-matter ellipse
        # (spacing 220/128 mm, centre index 64).
        points = (lesion_voxels[:, ::-1] - 64) * (220.0 / 128.0)
        assert np.all(white_matter.contains(points))


def test_layered_head_ventricle_scale():
    big = layered_head(_seeded(0), HeadParameters(ventricle_scale=1.6, lesion_count=(0, 0)), ndim=2)
    small = layered_head(_seeded(0), HeadParameters(ventricle_scale=0.8, lesion_count=(0, 0)), ndim=2)
    csf = HEAD_LABELS.index("csf")

    def ventricle_area(head):
        labels = head.label_map((128, 128), 220.0).numpy()[0]
        return int((labels[40:90, 40:90] == csf).sum())

    assert ventricle_area(big) > 2 * ventricle_area(small)


def test_layered_head_kspace_matches_raster():
    head = layered_head(_seeded(5), HeadParameters(lesion_count=(2, 2)), ndim=2)
    n, fov = 128, 256.0
    k = np.zeros((1, 2))

    dc = head.kspace(k)[0]
    image = head.rasterize((n, n), fov, supersample=4, dtype=torch.float64).numpy()[0]

    # DC is the integral; the raster's sum times pixel area approaches it
    # within the partial-volume error of the layer edges (~0.5 %).
    assert dc.real == pytest.approx(image.sum() * (fov / n) ** 2, rel=5e-3)


def test_vessel_tree_has_no_analytic_kspace():
    tree = vessel_tree(_seeded(0), depth=1)
    with pytest.raises(NotLaminarError, match="cross"):
        tree.kspace(np.zeros((1, 3)))


def test_vessel_radii_follow_murray():
    tree = vessel_tree(_seeded(0), depth=2, radius_mm=4.0)
    radii = sorted({round(p.semi_axes[0], 9) for p in tree.primitives if p.kind == "cylinder"})

    # Murray's law with equal children: r_child^3 = r_parent^3 / 2.
    np.testing.assert_allclose(radii[::-1], [4.0, 4.0 / 2 ** (1 / 3), 4.0 / 2 ** (2 / 3)])


def test_generators_reject_global_state():
    with pytest.raises(TypeError, match="`rng` must be a numpy.random.Generator"):
        layered_head(np.random)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`rng` must be a numpy.random.Generator"):
        random_ellipses(0)  # type: ignore[arg-type]


def _blob_scan():
    """A 2D 'scan': a disk of host tissue (label 2, intensity 100) in background."""
    n = 64
    yy, xx = np.mgrid[:n, :n]
    disk = (yy - 32) ** 2 + (xx - 32) ** 2 < 20**2
    labels = np.where(disk, 2, 0).astype(np.uint8)
    image = np.where(disk, 100.0, 0.0).astype(np.float32)
    from medaug.core import Geometry

    geometry = Geometry(spacing=(1.0, 1.0))
    return Image(data=image[None], geometry=geometry), LabelMap(data=labels[None], geometry=geometry)


def test_insert_lesion_stays_in_host_and_updates_labels():
    image, labels = _blob_scan()
    for seed in range(5):
        new_image, new_labels, record = insert_lesion(
            image, labels, _seeded(seed), host_labels=[2], lesion_label=7, radius_mm=(2.0, 5.0)
        )
        lesion = new_labels.numpy()[0] == 7
        changed = new_image.numpy()[0] != image.numpy()[0]

        assert record["voxels"] == int(lesion.sum()) > 0
        assert np.all(labels.numpy()[0][lesion] == 2)
        assert np.all(labels.numpy()[0][changed] == 2)


def test_insert_lesion_contrast_sets_intensity():
    image, labels = _blob_scan()
    new_image, new_labels, record = insert_lesion(
        image, labels, _seeded(1), host_labels=[2], lesion_label=7, contrast=(1.5, 1.5)
    )
    inside = new_image.numpy()[0][new_labels.numpy()[0] == 7]

    # Fully covered voxels reach 1.5 x the host mean (100); edge voxels blend.
    assert inside.max() == pytest.approx(150.0, rel=1e-6)
    assert record["contrast"] == 1.5


def test_insert_lesion_too_large_raises():
    image, labels = _blob_scan()
    with pytest.raises(ValueError, match="no host voxel lies deeper"):
        insert_lesion(image, labels, _seeded(0), host_labels=[2], lesion_label=7, radius_mm=(25.0, 30.0))
