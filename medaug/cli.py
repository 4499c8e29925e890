"""The ``medaug`` command line.

Each subcommand lives in the module of the subpackage it belongs to and
exposes ``register(subparsers)``, which adds its parser and sets
``func`` to the function that runs it and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

__all__ = ["main", "build_parser"]

# Modules that define subcommands, in the order `medaug --help` lists them.
_COMMAND_MODULES = (
    "medaug.io.cli_info",
    "medaug.data.cli_generate",
    "medaug.data.cli_preview",
    "medaug.data.cli_report",
    "medaug.generative.cli_train", "medaug.generative.cli_evaluate",
)


def _version() -> str:
    from medaug import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="medaug",
        description="Medical image augmentation, acquisition simulation and dataset pipelines.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--version", action="version", version=f"medaug {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module_name in _COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``medaug`` command with ``argv`` (default: ``sys.argv[1:]``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError, PermissionError) as error:
        print(f"medaug {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
