import numpy as np
import pytest
import torch

from medaug.core.fields import Image, KSpace, LabelMap
from medaug.core.geometry import Geometry
from medaug.core.sample import Sample
from medaug.physics.mri.fft import fftnc, ifftnc
from medaug.physics.mri.motion import rigid_motion_kspace, shot_schedule
from medaug.physics.mri.transforms import (
    GibbsTruncation,
    KSpaceGhosting,
    KSpaceMotion,
    KSpaceNoise,
    KSpaceSpikes,
    PartialFourier,
    RandomGibbsTruncation,
    RandomKSpaceGhosting,
    RandomKSpaceMotion,
    RandomKSpaceNoise,
    RandomKSpaceSpikes,
    RandomPartialFourier,
)
from medaug.transforms import base

RANDOM = [
    RandomKSpaceMotion(num_shots=(2, 4), rotation_range_deg=5.0, translation_range_mm=3.0),
    RandomKSpaceGhosting(),
    RandomKSpaceSpikes(),
    RandomGibbsTruncation(),
    RandomPartialFourier(),
    RandomKSpaceNoise(snr_range=(5.0, 20.0)),
]
IDENTITY = [
    KSpaceMotion([[0.0], [0.0]], [[0.0, 0.0], [0.0, 0.0]]),
    KSpaceGhosting(0.0),
    KSpaceSpikes([[0.1, 0.2]], [[0.0, 0.0]]),
    GibbsTruncation(1.0),
    PartialFourier(1.0),
    KSpaceNoise(float("inf")),
]


def _phantom(shape=(32, 32)):
    grids = torch.meshgrid(*[torch.arange(n) - n // 2 for n in shape], indexing="ij")
    radius = torch.sqrt(sum(g.float() ** 2 for g in grids))
    return (radius < shape[-1] / 4).float() + 0.5 * (radius < shape[-1] / 8).float()


@pytest.mark.parametrize("transform", RANDOM, ids=lambda t: type(t).__name__)
def test_random_transform_on_plain_image(transform):
    image = _phantom().numpy()
    out = transform(image, rng=np.random.default_rng(0))
    assert isinstance(out, np.ndarray)
    assert out.shape == image.shape
    assert out.dtype == np.float32
    assert not np.array_equal(out, image)


@pytest.mark.parametrize("transform", RANDOM, ids=lambda t: type(t).__name__)
def test_random_equals_deterministic_twin(transform):
    sample = Sample({"image": Image(_phantom()[None]), "label": LabelMap((_phantom() > 0)[None])})
    rng_a = np.random.default_rng(5)
    random_out = transform.transform(sample, rng=rng_a)
    parameters = transform.sample_parameters(np.random.default_rng(5), sample)
    twin_out = transform.deterministic(parameters).transform(sample)
    assert torch.equal(random_out["image"].data, twin_out["image"].data)
    # Label maps are never touched by intensity artifacts.
    assert random_out["label"] is sample["label"]
    assert random_out.history[-1].name == type(transform.deterministic(parameters)).registry_name


@pytest.mark.parametrize("transform", RANDOM, ids=lambda t: type(t).__name__)
def test_random_transform_reproducible_and_replayable(transform):
    image = _phantom()[None]
    a = transform(image, rng=np.random.default_rng(3))
    b = transform(image, rng=np.random.default_rng(3))
    assert torch.equal(a, b)
    sample = transform.transform(Sample({"image": Image(image)}), rng=np.random.default_rng(3))
    record = sample.history[-1]
    rebuilt = base.get_transform_class(record.name).from_config(record.parameters)
    assert torch.equal(rebuilt(image), a)


@pytest.mark.parametrize("transform", IDENTITY, ids=lambda t: type(t).__name__)
def test_zero_strength_is_identity(transform):
    image = _phantom()[None]
    assert torch.equal(transform(image), image)


def test_ghosting_on_3d_batched_sample():
    volume = _phantom((8, 16, 16))[None, None].expand(2, 1, 8, 16, 16).clone()
    sample = Sample({"image": Image(volume)})
    out = RandomKSpaceGhosting().transform(sample, rng=np.random.default_rng(1))
    assert out["image"].data.shape == (2, 1, 8, 16, 16)


def test_kspace_field_is_corrupted_directly():
    kspace = fftnc(_phantom().to(torch.complex64))[None].expand(4, 32, 32).clone()
    mask = torch.zeros(32, dtype=torch.bool)
    mask[::2] = True
    sample = Sample({"kspace": KSpace(kspace * mask, mask=mask)})
    noisy = KSpaceNoise(10.0, seed=1).transform(sample)["kspace"].data
    # Noise goes only where k-space was sampled.
    assert torch.count_nonzero(noisy[..., 1::2]) == 0
    assert torch.count_nonzero(noisy[..., 0::2]) == 4 * 32 * 16
    truncated = GibbsTruncation(0.5).transform(sample)["kspace"].data
    assert torch.count_nonzero(truncated[:, :8]) == 0
    moved = KSpaceMotion([[5.0]], [[1.0, 0.0]]).transform(sample)["kspace"]
    assert moved is sample["kspace"]


def test_motion_uses_geometry_spacing():
    image = _phantom((32, 32))[None]
    sample = Sample({"image": Image(image, geometry=Geometry(spacing=(2.0, 2.0)))})
    moved = KSpaceMotion([[0.0]], [[4.0, 0.0]]).transform(sample)["image"].data
    # 4 mm at 2 mm spacing moves the object 2 rows.
    assert torch.allclose(moved, image.roll(2, dims=-2), atol=1e-5)


def test_noise_background_is_rayleigh():
    image = torch.zeros(1, 256, 256)
    image[:, 96:160, 96:160] = 1.0
    out = KSpaceNoise(20.0, seed=4, definition="peak").transform(Sample({"image": Image(image)}))
    background = out["image"].data[0, :64].ravel().double()
    sigma = 1.0 / 20.0
    # 16384 background samples: standard error of the mean is about 0.4 %.
    assert float(background.mean()) == pytest.approx(sigma * np.sqrt(np.pi / 2), rel=0.03)


def test_transforms_reject_bad_input():
    with pytest.raises(ValueError, match="`snr` must be > 0"):
        KSpaceNoise(-1.0)
    with pytest.raises(ValueError, match="`fraction` must be in \\(0, 1\\]"):
        GibbsTruncation(0.0)
    with pytest.raises(ValueError, match="`fraction` must be in \\[0.5, 1\\]"):
        PartialFourier(0.2)
    with pytest.raises(ValueError, match="same number"):
        KSpaceMotion([[1.0]], [])
    with pytest.raises(ValueError, match="`positions` must be fractions"):
        KSpaceSpikes([[1.5, 0.0]], [[1.0, 0.0]])
    with pytest.raises(ValueError, match="`num_shots` must be an int >= 1"):
        RandomKSpaceMotion(num_shots=0)
    with pytest.raises(ValueError, match="phase_range_deg"):
        RandomKSpaceGhosting(phase_range_deg=(10.0, 5.0))
    with pytest.raises(TypeError, match="needs `rng`"):
        RandomKSpaceNoise()(np.ones((8, 8), np.float32))


def test_motion_on_image_matches_functional_layer():
    image = _phantom()
    transform = KSpaceMotion([[0.0], [4.0]], [[0.0, 0.0], [1.5, -2.0]])
    out = transform(image[None])[0]
    kspace = rigid_motion_kspace(
        image.to(torch.complex64), torch.tensor([0.0, 4.0]), torch.tensor([[0.0, 0.0], [1.5, -2.0]]),
        shot_schedule(32, 2),
    )
    # Same complex64 operations in the same order.
    assert torch.allclose(out, ifftnc(kspace).abs(), atol=1e-6)
    assert not torch.allclose(out, image, atol=1e-2)
