"""Core data model: samples, typed fields, geometry, conversion, batching, seeding."""

from medaug.core.collate import collate, collate_tensors, uncollate
from medaug.core.convert import array_to_field, field_from_sitk, field_to_sitk, to_sample
from medaug.core.fields import Boxes, Field, GridField, Image, KSpace, LabelMap, Points, Sinogram
from medaug.core.geometry import Geometry
from medaug.core.sample import Sample, TransformRecord
from medaug.core.seeding import as_rng, sample_rng, seed_sequence, spawn_seed, torch_generator

__all__ = [
    "Boxes",
    "Field",
    "Geometry",
    "GridField",
    "Image",
    "KSpace",
    "LabelMap",
    "Points",
    "Sample",
    "Sinogram",
    "TransformRecord",
    "array_to_field",
    "as_rng",
    "collate",
    "collate_tensors",
    "field_from_sitk",
    "field_to_sitk",
    "sample_rng",
    "seed_sequence",
    "spawn_seed",
    "to_sample",
    "torch_generator",
    "uncollate",
]
