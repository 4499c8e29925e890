"""Reading and writing medical images (NIfTI, NRRD, MetaImage, DICOM) with geometry kept."""

from medaug.io.dicom import format_decimal_string, read_dicom_series, write_dicom_series
from medaug.io.images import (
    SUPPORTED_EXTENSIONS,
    image_extension,
    percentiles,
    read_image,
    read_sample,
    write_image,
    write_sample,
)
from medaug.io.info import describe_image

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "describe_image",
    "format_decimal_string",
    "image_extension",
    "percentiles",
    "read_dicom_series",
    "read_image",
    "read_sample",
    "write_dicom_series",
    "write_image",
    "write_sample",
]
