"""Diffusion and VAE generators: settings, shapes, conditioning, reproducibility."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from medaug.generative.models import (
    DiffusionGenerator,
    ModelSettings,
    VAEGenerator,
    _gradient_difference,
    build_model,
)
from medaug.generative.sampling import GeneratorSource


def _tiny(kind: str, spatial_dims: int = 2, num_labels: int = 0) -> ModelSettings:
    size = (16, 16) if spatial_dims == 2 else (8, 8, 8)
    return ModelSettings(kind=kind, spatial_dims=spatial_dims, image_size=size, channels=(8, 8),
                         num_labels=num_labels, num_train_timesteps=20, sampling_steps=3)


@pytest.mark.parametrize("kind", ["ddpm", "vae"])
@pytest.mark.parametrize("spatial_dims", [2, 3])
def test_loss_and_generate_shapes(kind, spatial_dims):
    settings = _tiny(kind, spatial_dims, num_labels=3)
    model = build_model(settings)
    generator = torch.Generator().manual_seed(0)
    images = torch.rand((2,) + settings.image_size)
    labels = torch.randint(0, 3, (2,) + settings.image_size)
    loss = model.loss(images, labels, generator)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    generated, label_maps = model.generate(2, generator, labels if kind == "ddpm" else None)
    assert generated.shape == (2,) + settings.image_size
    assert label_maps.shape == (2,) + settings.image_size
    if kind == "ddpm":
        # A conditioned diffusion model returns the label maps it was given.
        torch.testing.assert_close(label_maps, labels, rtol=0, atol=0)


def test_source_samples_reproducible():
    torch.manual_seed(0)  # only the untrained weights; sampling uses the explicit rng
    source = GeneratorSource(build_model(_tiny("ddpm")))
    first = source.sample(3, np.random.default_rng(5))
    again = source.sample(3, np.random.default_rng(5))
    other = source.sample(3, np.random.default_rng(6))
    assert len(first) == 3
    assert first[0]["image"].data.dtype == torch.float32
    for a, b in zip(first, again):
        torch.testing.assert_close(a["image"].data, b["image"].data, rtol=0, atol=0)
    assert not torch.equal(first[0]["image"].data, other[0]["image"].data)


def test_source_batches_do_not_change_count():
    source = GeneratorSource(build_model(_tiny("vae")), batch_size=2)
    assert len(source.sample(5, 0)) == 5


def test_conditioned_source_draws_label_maps():
    settings = _tiny("ddpm", num_labels=2)
    maps = np.zeros((4, 16, 16), np.uint8)
    maps[:, 8:] = 1
    source = GeneratorSource(build_model(settings), label_source=maps)
    samples = source.sample(2, np.random.default_rng(0))
    np.testing.assert_array_equal(samples[0]["label"].numpy()[0], maps[0])


def test_vae_joint_labels_come_out():
    source = GeneratorSource(build_model(_tiny("vae", num_labels=3)))
    images, labels = source.sample_arrays(2, 0)
    assert images.shape == labels.shape == (2, 16, 16)
    assert labels.max() < 3


def test_bad_input():
    with pytest.raises(ValueError, match="divisible by 2"):
        ModelSettings(image_size=(15, 16), channels=(8, 8))
    with pytest.raises(ValueError, match="`kind` must be"):
        ModelSettings(kind="gan")
    with pytest.raises(ValueError, match="`sampling_steps`"):
        ModelSettings(num_train_timesteps=10, sampling_steps=20)
    with pytest.raises(ValueError, match="`edge_weight` must be >= 0, got -1"):
        ModelSettings(edge_weight=-1.0)
    conditioned = build_model(_tiny("ddpm", num_labels=2))
    with pytest.raises(ValueError, match="pass `label_source`"):
        GeneratorSource(conditioned)
    with pytest.raises(ValueError, match="only used by diffusion models conditioned"):
        GeneratorSource(build_model(_tiny("vae")), label_source=np.zeros((1, 16, 16)))
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        conditioned.loss(torch.rand(1, 16, 16), torch.full((1, 16, 16), 5), torch.Generator())
    with pytest.raises(TypeError, match="DiffusionGenerator or VAEGenerator"):
        GeneratorSource(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="`n` must be an int >= 1"):
        GeneratorSource(build_model(_tiny("vae"))).sample(0, 0)
    assert isinstance(build_model(_tiny("ddpm")), DiffusionGenerator)
    assert isinstance(build_model(_tiny("vae")), VAEGenerator)


def test_gradient_difference_closed_form():
    # A ramp of slope 2 along W against zeros: every W-difference is 2 (squared 4),
    # every H-difference is 0, so the sum over axes is 4.
    ramp = 2.0 * torch.arange(6.0).expand(1, 1, 5, 6)
    assert float(_gradient_difference(ramp, torch.zeros_like(ramp))) == pytest.approx(4.0)
    # A constant offset has the same differences as the target.
    assert float(_gradient_difference(ramp + 3.0, ramp)) == 0.0


def test_vae_edge_term_adds_weighted_gradient_difference():
    torch.manual_seed(0)  # only the untrained weights
    plain = build_model(_tiny("vae"))
    edged = build_model(dataclasses.replace(_tiny("vae"), edge_weight=0.5))
    edged.load_state_dict(plain.state_dict())
    images = torch.rand(2, 16, 16)
    base = plain.loss(images, None, torch.Generator().manual_seed(3))
    with_edges = edged.loss(images, None, torch.Generator().manual_seed(3))
    # Same weights and noise: the decoded output is identical, so the losses differ
    # by exactly 0.5 times the gradient difference of that output.
    generator = torch.Generator().manual_seed(3)
    mu, sigma = plain.autoencoder.encode(images[:, None])
    epsilon = torch.randn(mu.shape, generator=generator)
    output = plain.autoencoder.decode(mu + sigma * epsilon)
    expected = 0.5 * _gradient_difference(output, images[:, None])
    # Float32 sums of a few hundred terms: agree to about 1e-6 relative.
    torch.testing.assert_close(with_edges - base, expected, rtol=1e-4, atol=1e-6)
