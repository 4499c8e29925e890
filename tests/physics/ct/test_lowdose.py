"""Low-dose simulation from HU images, on a synthetic phantom and the real CT head."""

import numpy as np
import pytest
import torch

from medaug.physics.ct import (
    attenuation_to_hounsfield,
    hounsfield_to_attenuation,
    simulate_low_dose,
)
from tests.conftest import shared_file


def test_hounsfield_round_trip():
    hu = torch.tensor([-1000.0, 0.0, 1000.0], dtype=torch.float64)
    mu = hounsfield_to_attenuation(hu, 0.2)
    assert torch.allclose(mu, torch.tensor([0.0, 0.2, 0.4], dtype=torch.float64))
    assert torch.allclose(attenuation_to_hounsfield(mu, 0.2), hu)


def test_low_dose_bad_fraction_raises():
    with pytest.raises(ValueError, match="`dose_fraction` must be > 0"):
        simulate_low_dose(torch.zeros(8, 8), dose_fraction=0.0, generator=torch.Generator())


def _head_slices():
    import SimpleITK as sitk

    image = sitk.ReadImage(str(shared_file("ct_head/ct_head.nii.gz")))
    volume = sitk.GetArrayFromImage(image)
    spacing = image.GetSpacing()
    # Two mid-brain slices, halved to 128 x 128 to keep the test quick.
    slices = volume[[50, 60], ::2, ::2].astype(np.float32)
    return slices, (spacing[1] * 2, spacing[0] * 2)


@pytest.mark.shared_data
def test_low_dose_real_head():
    slices, spacing = _head_slices()
    noise_std = {}
    for fraction in (1.0, 0.25):
        result = simulate_low_dose(
            slices, dose_fraction=fraction, generator=torch.Generator().manual_seed(7), spacing_mm=spacing
        )
        assert result.hounsfield.shape == slices.shape
        assert bool(torch.isfinite(result.hounsfield).all())
        reference = result.reference_hounsfield
        # Brain tissue (20-60 HU) away from bone; the noise is the difference
        # to the noiseless reconstruction.
        brain = (reference > 20) & (reference < 60)
        noise_std[fraction] = float((result.hounsfield - reference)[brain].std())
        assert result.floored_pixels > 0
    # A quarter of the dose doubles the noise (1 / sqrt(0.25)); 10 % allows
    # for the finite brain region.
    assert abs(noise_std[0.25] / noise_std[1.0] - 2.0) < 0.2


@pytest.mark.shared_data
def test_low_dose_reference_matches_input():
    slices, spacing = _head_slices()
    result = simulate_low_dose(
        slices, dose_fraction=1.0, generator=torch.Generator().manual_seed(8), spacing_mm=spacing
    )
    truth = torch.from_numpy(slices)
    brain = (truth > 20) & (truth < 60)
    # The noiseless FBP keeps the mean HU of soft tissue within a few HU
    # (it only blurs edges).
    assert abs(float(result.reference_hounsfield[brain].mean() - truth[brain].mean())) < 5.0
