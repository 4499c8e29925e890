"""Training sets for the generators: procedural head phantoms or a folder of images.

Phantom pairs come from :func:`medaug.phantoms.procedural_head` (2D axial
slices or 3D heads) with a T1-weighted spin-echo contrast from the MR signal
equation, so every image has an exact tissue label map.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from medaug.core.seeding import sample_rng

__all__ = ["phantom_pairs", "PHANTOM_TR_MS", "PHANTOM_TE_MS", "PHANTOM_FOV_MM"]

#: Spin-echo timing of the phantom contrast (T1-weighted at 3 T), in ms.
PHANTOM_TR_MS = 500.0
PHANTOM_TE_MS = 15.0
#: Range of the field of view drawn per phantom, in mm, so the head size varies.
PHANTOM_FOV_MM = (220.0, 280.0)


def phantom_pairs(
    count: int, seed: int, *, image_size: Sequence[int] = (64, 64), first_index: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Draw T1-weighted procedural head images with their tissue label maps.

    Phantom ``i`` uses ``sample_rng(seed, first_index + i)``, so a set of
    ``count`` phantoms is the prefix of any larger set with the same seed,
    and ``first_index`` gives disjoint held-out sets.

    Parameters
    ----------
    count : int
        Number of pairs, >= 1.
    seed : int
        Seed of the set.
    image_size : sequence of int
        ``(H, W)`` for axial slices or ``(D, H, W)`` for volumes.
    first_index : int
        Index of the first phantom.

    Returns
    -------
    images : numpy.ndarray, (count, *image_size), float32
        Spin-echo signal ``PD (1 - exp(-TR/T1)) exp(-TE/T2)`` with TR 500 ms
        and TE 15 ms, divided by its maximum over the image so values lie in
        [0, 1].
    labels : numpy.ndarray, (count, *image_size), uint8
        Indices into :data:`medaug.phantoms.generators.head.HEAD_LABELS`.
    """
    from medaug.phantoms import mr_parameter_maps, procedural_head
    from medaug.physics.mri.signal import spin_echo

    if count < 1:
        raise ValueError(f"`count` must be >= 1, got {count}")
    shape = tuple(int(n) for n in image_size)
    if len(shape) not in (2, 3):
        raise ValueError(f"`image_size` must have 2 or 3 values, got {image_size}")
    images = np.empty((count,) + shape, np.float32)
    labels = np.empty((count,) + shape, np.uint8)
    for i in range(count):
        rng = sample_rng(seed, first_index + i)
        head = procedural_head(rng, ndim=len(shape))
        fov = float(rng.uniform(*PHANTOM_FOV_MM))
        maps = mr_parameter_maps(head, shape, fov, supersample=2)
        signal = spin_echo(
            maps["proton_density"].data[0].double(), maps["t1_ms"].data[0].double(),
            maps["t2_ms"].data[0].double(), tr_ms=PHANTOM_TR_MS, te_ms=PHANTOM_TE_MS,
        )
        peak = float(signal.max())
        images[i] = (signal / peak if peak > 0 else signal).numpy()
        labels[i] = head.label_map(shape, fov, supersample=2).data[0].to(torch.uint8).numpy()
    return images, labels
