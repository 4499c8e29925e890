"""``medaug info PATH``: print shape, dtype, spacing, orientation and intensities."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``info`` subcommand."""
    parser = subparsers.add_parser(
        "info",
        help="describe an image file or DICOM series folder",
        description=(
            "Print size, dtype, spacing (mm, x-y-z order), origin (mm, LPS), orientation "
            "code (RAS+ letters as nibabel reports them), intensity range and percentiles. "
            "For a DICOM folder with several series, list each series (UID, number of "
            "files, modality, description) unless --series-id chooses one."
        ),
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="NIfTI, NRRD, MHA/MHD, DICOM file or series folder")
    parser.add_argument("--series-id", default=None, metavar="UID",
                        help="SeriesInstanceUID of the series to describe in DICOM folders")
    parser.add_argument("--json", action="store_true", help="print one JSON object per path")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Describe each path and print the result; list the series of a multi-series DICOM folder."""
    from medaug.io.info import (
        describe_image,
        format_description,
        format_series_list,
        list_dicom_series,
    )

    for index, path in enumerate(args.paths):
        is_folder = Path(path).is_dir()
        if args.series_id is not None and not is_folder:
            raise ValueError(f"`--series-id` chooses a series in a DICOM folder, but {path!r} is not a folder")
        series = list_dicom_series(path) if is_folder and args.series_id is None else []
        if len(series) > 1:
            info = {"path": str(path), "series": series}
            text = format_series_list(path, series)
        else:
            info = describe_image(path, series_id=args.series_id)
            text = format_description(info)
        if args.json:
            print(json.dumps(info))
        else:
            if index:
                print()
            print(text)
    return 0
