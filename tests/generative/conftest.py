"""Fixtures for the generative tests: a small family of random head-like images."""

from __future__ import annotations

import numpy as np
import pytest


def ellipse_heads(count: int, rng: np.random.Generator, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Draw head-like images and label maps: skull ring, brain, ventricles, two blobs.

    Returns images ``(count, size, size)`` float64 and labels ``(count, size,
    size)`` uint8 with classes 0 background, 1 skull, 2 brain, 3 ventricle,
    4 blob.
    """
    grid = (np.arange(size) - size / 2 + 0.5) / (size / 2)
    y, x = np.meshgrid(grid, grid, indexing="ij")
    images = np.zeros((count, size, size))
    labels = np.zeros((count, size, size), np.uint8)
    for index in range(count):
        a, b = rng.uniform(0.7, 0.9), rng.uniform(0.55, 0.8)
        angle = rng.uniform(-0.4, 0.4)
        cos, sin = np.cos(angle), np.sin(angle)
        u, v = cos * x + sin * y, -sin * x + cos * y
        head = (u / a) ** 2 + (v / b) ** 2
        label = np.zeros((size, size), np.uint8)
        label[head <= 1] = 1
        label[head <= 0.75] = 2
        for _ in range(2):
            cy, cx = rng.uniform(-0.3, 0.3, size=2)
            radius = rng.uniform(0.08, 0.2)
            label[((y - cy) ** 2 + (x - cx) ** 2 <= radius**2) & (head <= 0.6)] = 4
        ventricle = ((u / (0.12 + 0.1 * rng.random())) ** 2 + ((v - rng.uniform(-0.1, 0.1)) / 0.25) ** 2) <= 1
        label[ventricle & (head <= 0.6)] = 3
        means = np.array([0.0, 0.9, 0.5, 0.15, 0.75]) + rng.normal(0, 0.03, 5)
        texture = rng.normal(0, 0.02, (size, size))
        images[index] = means[label] + texture * (label > 0)
        labels[index] = label
    return images, labels


@pytest.fixture(scope="session")
def heads():
    """Function ``heads(count, rng, size=64)`` that draws head-like images and labels."""
    return ellipse_heads
