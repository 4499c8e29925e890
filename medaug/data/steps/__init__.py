"""Built-in pipeline steps, and lazy registrations of the steps other subpackages provide."""

from medaug.data.registry import register_lazy_step
from medaug.data.steps import labels, sources
from medaug.data.steps.labels import Relabel
from medaug.data.steps.sources import ImagesSource, ShapesSource

__all__ = ["labels", "sources", "ImagesSource", "Relabel", "ShapesSource"]

# Writers register on import; their heavy libraries (h5py, zarr) load only when writing.
from medaug.data import writers as _writers  # noqa: E402,F401

# Steps that wrap other subpackages import them only when a config names them.
register_lazy_step("simulation", "mri", "medaug.data.steps.mri:MRISimulation")
register_lazy_step("simulation", "ct", "medaug.data.steps.ct:CTSimulation")
register_lazy_step("source", "phantom", "medaug.data.steps.phantoms:PhantomSource")
register_lazy_step("source", "generator", "medaug.data.steps.generative:GeneratorSourceConfig")
