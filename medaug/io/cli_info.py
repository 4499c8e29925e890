"""``medaug info PATH``: print shape, dtype, spacing, orientation and intensities."""

from __future__ import annotations

import argparse
import json

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``info`` subcommand."""
    parser = subparsers.add_parser(
        "info",
        help="describe an image file or DICOM series folder",
        description=(
            "Print size, dtype, spacing (mm, x-y-z order), origin (mm, LPS), orientation "
            "code (RAS+ letters as nibabel reports them), intensity range and percentiles."
        ),
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="NIfTI, NRRD, MHA/MHD, DICOM file or series folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object per path")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Describe each path and print the result."""
    from medaug.io.info import describe_image, format_description

    for index, path in enumerate(args.paths):
        info = describe_image(path)
        if args.json:
            print(json.dumps(info))
        else:
            if index:
                print()
            print(format_description(info))
    return 0
