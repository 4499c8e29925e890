import pytest
import torch

from medaug.core.fields import KSpace
from medaug.data.config import parse_config
from medaug.data.pipeline import Pipeline
from medaug.data.preview import _panels, mask_image, render_preview, zero_filled_image


def mri_pipeline(**mri):
    step = {"type": "mri", "coils": 4, **mri}
    return Pipeline.from_config(parse_config({"seed": 1, "source": {"type": "shapes", "shape": [32, 24]},
                                              "simulation": [step]}))


def test_zero_filled_full_sampling_equals_reference():
    sample = mri_pipeline(mask=None)(0)
    # Coil maps with RSS 1 make the zero-filled RSS equal |x|; float32 FFTs round at 1e-6 of the maximum.
    torch.testing.assert_close(zero_filled_image(sample["kspace"]).data, sample["reconstruction"].data,
                               rtol=0, atol=1e-5)


def test_zero_filled_keeps_kspace_energy():
    kspace = mri_pipeline(mask={"type": "random_lines", "acceleration": 3})(0)["kspace"]
    image = zero_filled_image(kspace).data
    # The orthonormal inverse FFT keeps energy (Parseval), and the RSS sums the coils' energy.
    expected = float((kspace.data.abs() ** 2).sum())
    assert float((image**2).sum()) == pytest.approx(expected, rel=1e-5)


def test_zero_filled_shows_undersampling():
    sample = mri_pipeline(mask={"type": "random_lines", "acceleration": 4, "center_fraction": 0.1},
                          noise={"snr": 10})(0)
    difference = (zero_filled_image(sample["kspace"]).data - sample["reconstruction"].data).abs()
    assert float(difference.max()) > 0.05 * float(sample["reconstruction"].data.max())


def test_mask_image_broadcasts_line_mask():
    mask = torch.tensor([True, False, False, True])
    image = mask_image(KSpace(torch.ones(2, 3, 4, dtype=torch.complex64), mask=mask))
    assert image.data.shape == (1, 3, 4)
    assert float(image.data.mean()) == 0.5


def test_mask_image_none_without_mask():
    assert mask_image(KSpace(torch.ones(2, 3, 4, dtype=torch.complex64))) is None


def test_panels_show_mask_and_zero_filled():
    pipeline = mri_pipeline(mask={"type": "poisson_disc", "acceleration": 4})
    titles = [title for title, _ in _panels(pipeline.trace(0), [])]
    assert titles[2].startswith("sampling mask (R = ")
    assert titles[3:] == ["simulated: kspace", "simulated: zero-filled", "reference: fully sampled RSS"]


def test_render_preview_writes_png(tmp_path):
    path = render_preview(mri_pipeline(mask={"type": "poisson_disc", "acceleration": 4}), tmp_path / "p.png",
                          indices=(0,), augmentations=0, dpi=30)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
