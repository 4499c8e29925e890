"""Named errors for image sets handed to the generative evaluation.

Each error subclasses :class:`ValueError`, so callers that already catch
``ValueError`` (the ``medaug`` command line does) keep working, while tests
and scripts can tell the causes apart.
"""

from __future__ import annotations

__all__ = [
    "ImageSetError",
    "EmptyImageSetError",
    "TooFewImagesError",
    "ImageShapeMismatchError",
    "NonFiniteImageError",
]


class ImageSetError(ValueError):
    """An image set cannot be evaluated."""


class EmptyImageSetError(ImageSetError):
    """A folder or array holds no images."""


class TooFewImagesError(ImageSetError):
    """A set has fewer images than a statistic needs (for example one image)."""


class ImageShapeMismatchError(ImageSetError):
    """Images within a set, or across sets that are compared, differ in shape."""


class NonFiniteImageError(ImageSetError):
    """An image contains NaN or infinite values."""
