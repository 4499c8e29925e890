"""The README's first example: phantom -> MR contrast -> multi-coil k-space -> augmentation.

Run with ``.venv/bin/python examples/quickstart.py``; it prints a few checked
numbers and takes a few seconds on one core.
"""

import torch

from medaug.core import Image, Sample, sample_rng
from medaug.phantoms import mr_parameter_maps, procedural_head
from medaug.physics.mri import (
    MRIAcquisition,
    add_kspace_noise,
    birdcage_sensitivities,
    poisson_disc_mask,
    spin_echo,
)
from medaug.transforms import Compose, RandomAffine, RandomElasticDeformation, RandomGamma

rng = sample_rng(seed=0, index=0)

# 1. A random 2-D head phantom with exact labels, and its T2-weighted contrast at 3 T.
head = procedural_head(rng, ndim=2, field_strength_t=3.0)
maps = mr_parameter_maps(head, (128, 128), fov_mm=240.0, field_strength_t=3.0, supersample=2)
t2w = spin_echo(maps["proton_density"].data, maps["t1_ms"].data, maps["t2_ms"].data, tr_ms=4000.0, te_ms=90.0)
labels = head.label_map((128, 128), fov_mm=240.0)

# 2. Eight-coil k-space, Poisson-disc undersampling at R = 4, complex Gaussian noise.
coils = birdcage_sensitivities((128, 128), num_coils=8)
mask = poisson_disc_mask((128, 128), acceleration=4.0, rng=rng)
operator = MRIAcquisition(coils, torch.as_tensor(mask.mask))
kspace = add_kspace_noise(operator.forward(t2w[0].to(torch.complex64)), sigma=0.01, generator=rng)
# The adjoint combines the coils with their sensitivities: a zero-filled image.
aliased = operator.adjoint(kspace).abs()

# 3. Augment image and labels together, in mm and degrees.
augment = Compose([
    RandomAffine(rotation_range_deg=15, scale_range=(0.9, 1.1)),
    RandomElasticDeformation(control_spacing_mm=40, displacement_std_mm=3),
    RandomGamma(log_gamma_range=0.3),
])
sample = Sample({"image": Image(t2w, geometry=labels.geometry), "label": labels})
out = augment(sample, rng=rng)

print(f"labels: {labels.labels}")
print(f"achieved acceleration: {mask.acceleration:.2f}")
print(f"zero-filled image shape: {tuple(aliased.shape)}")
print(f"applied: {[record.name for record in out.history]}")
assert set(out["label"].labels) <= set(labels.labels) | {0}
