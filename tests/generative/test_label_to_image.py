"""Label-to-image synthesis: per-label statistics, label fidelity, the real AAL atlas."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medaug.core import LabelMap, Sample
from medaug.generative.label_to_image import (
    LabelToImage,
    LabelToImageSynthesis,
    RandomLabelToImage,
    paint_labels,
)
from medaug.transforms import replay


def _stripes(size: int = 96) -> Sample:
    """Three labels in horizontal bands, 32 rows each."""
    labels = np.repeat(np.arange(3, dtype=np.uint8), size // 3)[:, None].repeat(size, axis=1)
    return Sample({"label": LabelMap(labels[None])})


def _check_label_statistics(image: np.ndarray, labels: np.ndarray, parameters) -> None:
    for label, mean, std in zip(parameters.labels, parameters.means, parameters.stds):
        values = image[labels == label]
        # Sample mean of n normal draws: 5 standard errors; the sample std of
        # n >= 1000 draws is within 10 % of the true one with margin.
        assert abs(values.mean() - mean) < 5 * std / np.sqrt(values.size) + 1e-4, label
        assert values.std() == pytest.approx(std, rel=0.1, abs=1e-4), label


def test_per_label_mean_and_std_match_parameters():
    sample = _stripes()
    transform = RandomLabelToImage()
    rng = np.random.default_rng(3)
    parameters = transform.sample_parameters(rng, sample)
    output = transform.deterministic(parameters)(sample)
    _check_label_statistics(output["image"].numpy()[0], sample["label"].numpy()[0], parameters)
    assert all(25 <= m <= 225 for m in parameters.means)
    assert all(5 <= s <= 25 for s in parameters.stds)


def test_random_equals_twin_with_same_seed():
    sample = _stripes(30)
    transform = RandomLabelToImage()
    direct = transform(sample, rng=np.random.default_rng(8))
    parameters = transform.sample_parameters(np.random.default_rng(8), sample)
    twin = transform.deterministic(parameters)(sample)
    torch.testing.assert_close(direct["image"].data, twin["image"].data, rtol=0, atol=0)


def test_zero_std_paints_constant_means():
    sample = _stripes(30)
    output = LabelToImage([0, 1, 2], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0])(sample)
    np.testing.assert_array_equal(output["image"].numpy()[0], sample["label"].numpy()[0] + 1.0)
    assert output["image"].data.dtype == torch.float32


def test_synthesis_labels_equal_deformed_input():
    sample = _stripes(64)
    synthesis = LabelToImageSynthesis(spatial_dims=2)
    output = synthesis(sample, rng=np.random.default_rng(1))
    spatial_records = [r for r in output.history if r.name in ("Affine", "ElasticDeformation")]
    assert len(spatial_records) == 2
    deformed = replay(sample, spatial_records)
    torch.testing.assert_close(output["label"].data, deformed["label"].data, rtol=0, atol=0)
    assert not torch.equal(output["label"].data, sample["label"].data)
    # Replaying the whole history reproduces the image exactly.
    torch.testing.assert_close(replay(sample, output.history)["image"].data, output["image"].data)


def test_synthesis_identity_at_zero_strength():
    sample = _stripes(30)
    synthesis = LabelToImageSynthesis(
        (10.0, 10.0), (0.0, 0.0), rotation_deg=0, scaling=0, shearing=0, elastic_std_mm=0,
        bias_coefficient=0, log_gamma=0, max_slice_thickness_mm=0, noise_std=0, spatial_dims=2,
    )
    output = synthesis(sample, rng=np.random.default_rng(0))
    torch.testing.assert_close(output["label"].data, sample["label"].data, rtol=0, atol=0)
    # Every label has mean 10 and std 0: a constant image.
    np.testing.assert_allclose(output["image"].numpy(), 10.0, atol=1e-4)


def test_physics_means_follow_spin_echo():
    from medaug.phantoms import mr_parameter
    from medaug.physics.mri.signal import spin_echo

    tissues = {0: "background", 1: "grey_matter", 2: "white_matter"}
    transform = RandomLabelToImage((0.0, 100.0), tissues=tissues, tr_range_ms=(500.0, 500.0),
                                   te_range_ms=(15.0, 15.0), relative_std=(0.0, 0.0))
    parameters = transform.sample_parameters(np.random.default_rng(0), _stripes(30))
    expected = [0.0] + [
        100 * float(spin_echo(*(mr_parameter(t, k, 3.0) for k in ("proton_density", "t1_ms", "t2_ms")),
                              tr_ms=500.0, te_ms=15.0))
        for t in ("grey_matter", "white_matter")
    ]
    np.testing.assert_allclose(parameters.means, expected, rtol=1e-12)
    # T1 weighting: white matter (shorter T1) is brighter than grey matter.
    assert parameters.means[2] > parameters.means[1]


def test_aal_atlas_slab(shared_data):
    import SimpleITK as sitk

    atlas = sitk.GetArrayFromImage(sitk.ReadImage(str(shared_data / "mri_brain" / "aal.nii.gz")))
    slab = np.ascontiguousarray(atlas[70:78, 60:140, 50:130]).astype(np.uint8)
    sample = Sample({"label": LabelMap(slab[None])})
    transform = RandomLabelToImage()
    parameters = transform.sample_parameters(np.random.default_rng(2), sample)
    output = transform.deterministic(parameters)(sample)
    image, labels = output["image"].numpy()[0], slab
    large = [i for i, label in enumerate(parameters.labels) if (labels == label).sum() >= 1000]
    assert len(parameters.labels) > 20
    assert large
    subset = type(parameters)(
        tuple(parameters.labels[i] for i in large), tuple(parameters.means[i] for i in large),
        tuple(parameters.stds[i] for i in large), parameters.seed,
    )
    _check_label_statistics(image, labels, subset)

    synthesis = LabelToImageSynthesis(spatial_dims=3)
    chained = synthesis(sample, rng=np.random.default_rng(4))
    spatial_records = [r for r in chained.history if r.name in ("Affine", "ElasticDeformation")]
    torch.testing.assert_close(chained["label"].data, replay(sample, spatial_records)["label"].data)
    assert set(np.unique(chained["label"].numpy())) <= set(np.unique(slab))


def test_bad_input():
    with pytest.raises(ValueError, match="exactly one LabelMap"):
        RandomLabelToImage()(np.zeros((8, 8), np.float32), rng=0)
    with pytest.raises(ValueError, match="one entry per label"):
        LabelToImage([0, 1], [1.0], [0.0, 0.0])
    with pytest.raises(ValueError, match=">= 0"):
        LabelToImage([0], [1.0], [-1.0])
    with pytest.raises(ValueError, match="have no tissue"):
        RandomLabelToImage(tissues={0: "background"})(_stripes(30), rng=0)
    with pytest.raises(ValueError, match="have no \\(mean, std\\)"):
        paint_labels(torch.tensor([0, 3]), {0: (1.0, 0.0)}, torch.Generator())
    with pytest.raises(ValueError, match="`spatial_dims` must be 2 or 3"):
        LabelToImageSynthesis(spatial_dims=4)
