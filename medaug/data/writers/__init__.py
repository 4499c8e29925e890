"""Benchmark-set writers: fastMRI HDF5, nnU-Net raw layout, Zarr."""

from medaug.data.writers.base import SetWriter
from medaug.data.writers.fastmri import FastMRIWriter, FastMRIWriterConfig, ismrmrd_header
from medaug.data.writers.nnunet import NnUNetWriter, NnUNetWriterConfig
from medaug.data.writers.zarr_store import ZarrWriter, ZarrWriterConfig

__all__ = [
    "FastMRIWriter",
    "FastMRIWriterConfig",
    "NnUNetWriter",
    "NnUNetWriterConfig",
    "SetWriter",
    "ZarrWriter",
    "ZarrWriterConfig",
    "ismrmrd_header",
]
