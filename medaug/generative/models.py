"""Trainable generators on MONAI's generative networks: a DDPM/DDIM diffusion model and a VAE.

Both work in 2D and 3D on single-channel images scaled to [0, 1] and can
produce image/label pairs:

* :class:`DiffusionGenerator` (Ho et al. 2020) predicts the noise added to
  an image; with ``num_labels > 0`` it is conditioned on a label map, whose
  one-hot channels are concatenated to the noisy image at every step, so a
  sample is an image drawn for a given label map. Sampling uses DDIM (Song
  et al. 2021) with fewer steps than training.
* :class:`VAEGenerator` (Kingma and Welling 2014) is a KL-regularised
  autoencoder (:class:`monai.networks.nets.AutoencoderKL`). With
  ``num_labels > 0`` it models the image and the one-hot label map jointly,
  so decoding a latent drawn from the prior yields a matching pair.

Randomness comes only from an explicit ``torch.Generator``.

References
----------
Ho, J., Jain, A., Abbeel, P. "Denoising diffusion probabilistic models."
NeurIPS 2020. arXiv:2006.11239.

Song, J., Meng, C., Ermon, S. "Denoising diffusion implicit models." ICLR
2021. arXiv:2010.02502.

Mathieu, M., Couprie, C., LeCun, Y. "Deep multi-scale video prediction
beyond mean square error." ICLR 2016. arXiv:1511.05440.

Kingma, D. P., Welling, M. "Auto-encoding variational Bayes." ICLR 2014.
arXiv:1312.6114.

Pinaya, W. H. L. et al. "Generative AI for medical imaging: extending the
MONAI framework." arXiv:2307.15208, 2023 (the MONAI networks used here).
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Literal

import torch

__all__ = ["ModelSettings", "DiffusionGenerator", "VAEGenerator", "build_model"]


@dataclasses.dataclass(frozen=True)
class ModelSettings:
    """Architecture of a generator.

    Parameters
    ----------
    kind : {"ddpm", "vae"}
        Diffusion model or variational autoencoder.
    spatial_dims : {2, 3}
    image_size : tuple of int
        Array shape of one image, ``(H, W)`` or ``(D, H, W)``; each side must
        be divisible by ``2 ** (len(channels) - 1)``.
    channels : tuple of int
        Feature channels per resolution level, finest first.
    num_res_blocks : int
        Residual blocks per level.
    num_labels : int
        Label classes for conditioning (diffusion) or joint modelling (VAE);
        0 for an unconditional image model.
    num_train_timesteps : int
        Diffusion steps of the linear beta schedule (1e-4 to 0.02).
    sampling_steps : int
        DDIM steps when sampling.
    latent_channels : int
        VAE latent channels.
    kl_weight : float
        Weight of the KL term of the VAE loss.
    edge_weight : float
        Weight of the gradient-difference term (Mathieu et al. 2016) added to
        the VAE's image reconstruction loss; 0 leaves plain mean squared error.
        It penalises blurred borders, which the squared error alone tolerates.
    """

    kind: Literal["ddpm", "vae"] = "ddpm"
    spatial_dims: int = 2
    image_size: tuple[int, ...] = (64, 64)
    channels: tuple[int, ...] = (16, 32, 64)
    num_res_blocks: int = 1
    num_labels: int = 0
    num_train_timesteps: int = 1000
    sampling_steps: int = 50
    latent_channels: int = 4
    kl_weight: float = 1e-3
    edge_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("ddpm", "vae"):
            raise ValueError(f"`kind` must be 'ddpm' or 'vae', got {self.kind!r}")
        if self.spatial_dims not in (2, 3):
            raise ValueError(f"`spatial_dims` must be 2 or 3, got {self.spatial_dims}")
        object.__setattr__(self, "image_size", tuple(int(n) for n in self.image_size))
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        if len(self.image_size) != self.spatial_dims:
            raise ValueError(f"`image_size` must have {self.spatial_dims} values, got {self.image_size}")
        factor = 2 ** (len(self.channels) - 1)
        if any(n % factor for n in self.image_size):
            raise ValueError(
                f"`image_size` {self.image_size} must be divisible by {factor} "
                f"(2 ** (len(channels) - 1)) on every axis"
            )
        if not self.channels or any(c < 1 or c % _groups(self.channels) for c in self.channels):
            raise ValueError(f"`channels` must be positive multiples of {_groups(self.channels)}, got {self.channels}")
        for name in ("num_res_blocks", "num_train_timesteps", "sampling_steps", "latent_channels"):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be >= 1, got {getattr(self, name)}")
        if self.num_labels < 0:
            raise ValueError(f"`num_labels` must be >= 0, got {self.num_labels}")
        if self.sampling_steps > self.num_train_timesteps:
            raise ValueError(
                f"`sampling_steps` ({self.sampling_steps}) must be <= `num_train_timesteps` ({self.num_train_timesteps})"
            )
        if self.kl_weight < 0:
            raise ValueError(f"`kl_weight` must be >= 0, got {self.kl_weight}")
        if self.edge_weight < 0:
            raise ValueError(f"`edge_weight` must be >= 0, got {self.edge_weight}")


def _groups(channels: tuple[int, ...]) -> int:
    """Group-norm groups: 8, or fewer for very thin networks."""
    return min(8, min(channels)) if channels else 1


def _gradient_difference(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of neighbour differences along every spatial axis, summed over axes.

    ``output`` and ``target`` are ``(B, C, *spatial)``.
    """
    total = output.new_zeros(())
    for axis in range(2, output.ndim):
        total = total + torch.nn.functional.mse_loss(torch.diff(output, dim=axis), torch.diff(target, dim=axis))
    return total


def _one_hot(labels: torch.Tensor | None, num_labels: int) -> torch.Tensor | None:
    """Return ``(B, K, *spatial)`` float one-hot maps of ``(B, *spatial)`` integer labels."""
    if num_labels == 0:
        return None
    if labels is None:
        raise ValueError("this model is conditioned on label maps: pass `labels`")
    if int(labels.min()) < 0 or int(labels.max()) >= num_labels:
        raise ValueError(
            f"`labels` must lie in [0, {num_labels - 1}], got values {int(labels.min())} to {int(labels.max())}"
        )
    one_hot = torch.nn.functional.one_hot(labels.long(), num_labels)
    return one_hot.movedim(-1, 1).float()


class DiffusionGenerator(torch.nn.Module):
    """A denoising diffusion model (DDPM training, DDIM sampling) on MONAI's UNet."""

    def __init__(self, settings: ModelSettings) -> None:
        super().__init__()
        from monai.networks.nets import DiffusionModelUNet
        from monai.networks.schedulers import DDPMScheduler

        self.settings = settings
        self.unet = DiffusionModelUNet(
            spatial_dims=settings.spatial_dims,
            in_channels=1 + settings.num_labels,
            out_channels=1,
            channels=settings.channels,
            attention_levels=(False,) * len(settings.channels),
            num_res_blocks=settings.num_res_blocks,
            norm_num_groups=_groups(settings.channels),
            num_head_channels=settings.channels[-1],
        )
        self.scheduler = DDPMScheduler(num_train_timesteps=settings.num_train_timesteps)

    def loss(self, images: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
        """Return the mean squared error of the predicted noise for a batch.

        Parameters
        ----------
        images : tensor, (B, *spatial), values about [0, 1]
        labels : tensor, (B, *spatial), integer, or None for unconditional models
        generator : torch.Generator
            Draws the diffusion times and the noise.
        """
        x0 = (2.0 * images - 1.0)[:, None]
        noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        times = torch.randint(
            0, self.settings.num_train_timesteps, (x0.shape[0],), generator=generator, device=x0.device
        )
        noisy = self.scheduler.add_noise(original_samples=x0, noise=noise, timesteps=times)
        condition = _one_hot(labels, self.settings.num_labels)
        inputs = noisy if condition is None else torch.cat([noisy, condition], dim=1)
        return torch.nn.functional.mse_loss(self.unet(inputs, times), noise)

    @torch.no_grad()
    def generate(
        self, count: int, generator: torch.Generator, labels: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Draw ``count`` images ``(count, *spatial)`` in [0, 1] with DDIM; labels pass through."""
        from monai.networks.schedulers import DDIMScheduler

        device = next(self.parameters()).device
        condition = _one_hot(labels, self.settings.num_labels)
        if condition is not None and condition.shape[0] != count:
            raise ValueError(f"`labels` must hold {count} label maps, got {condition.shape[0]}")
        scheduler = DDIMScheduler(num_train_timesteps=self.settings.num_train_timesteps)
        scheduler.set_timesteps(self.settings.sampling_steps, device=device)
        x = torch.randn((count, 1) + self.settings.image_size, generator=generator, device=device)
        for time in scheduler.timesteps:
            inputs = x if condition is None else torch.cat([x, condition.to(device)], dim=1)
            noise = self.unet(inputs, torch.full((count,), int(time), device=device))
            x, _ = scheduler.step(noise, int(time), x, eta=0.0, generator=generator)
        return ((x[:, 0] + 1.0) / 2.0), labels


class VAEGenerator(torch.nn.Module):
    """A KL-regularised autoencoder that samples by decoding latents from N(0, I)."""

    def __init__(self, settings: ModelSettings) -> None:
        super().__init__()
        from monai.networks.nets import AutoencoderKL

        self.settings = settings
        channels = 1 + settings.num_labels
        self.autoencoder = AutoencoderKL(
            spatial_dims=settings.spatial_dims,
            in_channels=channels,
            out_channels=channels,
            channels=settings.channels,
            latent_channels=settings.latent_channels,
            num_res_blocks=settings.num_res_blocks,
            attention_levels=(False,) * len(settings.channels),
            norm_num_groups=_groups(settings.channels),
            with_encoder_nonlocal_attn=False,
            with_decoder_nonlocal_attn=False,
        )

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """Shape of one latent, ``(latent_channels, *spatial / 2 ** (levels - 1))``."""
        factor = 2 ** (len(self.settings.channels) - 1)
        return (self.settings.latent_channels,) + tuple(n // factor for n in self.settings.image_size)

    def loss(self, images: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
        """Return reconstruction (MSE on the image, cross-entropy on labels) plus weighted KL.

        MONAI's AutoencoderKL draws its reparameterisation noise from the
        global torch generator; it is replaced here by noise from ``generator``.
        """
        x = images[:, None]
        condition = _one_hot(labels, self.settings.num_labels)
        inputs = x if condition is None else torch.cat([x, condition], dim=1)
        mu, sigma = self.autoencoder.encode(inputs)
        epsilon = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        output = self.autoencoder.decode(mu + sigma * epsilon)
        loss = torch.nn.functional.mse_loss(output[:, :1], x)
        if self.settings.edge_weight:
            loss = loss + self.settings.edge_weight * _gradient_difference(output[:, :1], x)
        if condition is not None:
            loss = loss + torch.nn.functional.cross_entropy(output[:, 1:], labels.long())
        spatial = tuple(range(1, mu.ndim))
        kl = 0.5 * torch.sum(mu**2 + sigma**2 - torch.log(sigma**2 + 1e-12) - 1.0, dim=spatial).mean()
        return loss + self.settings.kl_weight * kl / float(x[0].numel())

    @torch.no_grad()
    def generate(
        self, count: int, generator: torch.Generator, labels: Any = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Decode ``count`` latents from N(0, I): images in [0, 1] and, if modelled, label maps."""
        if labels is not None:
            warnings.warn(
                "VAEGenerator models labels jointly and ignores the given `labels`", stacklevel=2
            )
        device = next(self.parameters()).device
        z = torch.randn((count,) + self.latent_shape, generator=generator, device=device)
        output = self.autoencoder.decode(z)
        images = output[:, 0]
        label_maps = output[:, 1:].argmax(dim=1).to(torch.uint8) if self.settings.num_labels else None
        return images, label_maps


def build_model(settings: ModelSettings) -> DiffusionGenerator | VAEGenerator:
    """Return an untrained generator for ``settings``."""
    if not isinstance(settings, ModelSettings):
        raise TypeError(f"`settings` must be ModelSettings, got {type(settings).__name__}")
    return DiffusionGenerator(settings) if settings.kind == "ddpm" else VAEGenerator(settings)
