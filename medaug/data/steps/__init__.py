"""Built-in pipeline steps, and lazy registrations of the steps other subpackages provide."""

from medaug.data.steps import sources
from medaug.data.steps.sources import ImagesSource, ShapesSource

__all__ = ["sources", "ImagesSource", "ShapesSource"]

# Writers register on import; their heavy libraries (h5py, zarr) load only when writing.
from medaug.data import writers as _writers  # noqa: E402,F401
