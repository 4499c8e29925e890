"""Small samples shared by the transform tests."""

from __future__ import annotations

import numpy as np

from medaug.core import Geometry, Image, LabelMap, Sample


def blob_sample(shape=(12, 14, 16), spacing=(1.0, 1.0, 1.0), seed=0, noise=0.05) -> Sample:
    """Return a sample with a smooth random image and a three-class label of blobs."""
    generator = np.random.default_rng(seed)
    grids = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    radius = np.sqrt(sum(g**2 for g in grids))
    label = np.zeros(shape, np.uint8)
    label[radius < 0.8] = 1
    label[radius < 0.4] = 3
    image = (1.0 - radius + noise * generator.standard_normal(shape)).astype(np.float32)
    geometry = Geometry(spacing=spacing)
    return Sample({
        "image": Image(image[None], geometry=geometry),
        "label": LabelMap(label[None], geometry=geometry),
    })
