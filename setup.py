"""Packaging shim: ships the top-level ``phantoms/`` data folder as ``medaug.phantom_tables``.

Everything else about the package is declared in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["medaug", "medaug.*"]) + ["medaug.phantom_tables"],
    package_dir={"medaug.phantom_tables": "phantoms"},
    package_data={
        "medaug": ["py.typed"],
        "medaug.phantom_tables": ["*.yaml", "*.json", "*.csv", "*.md"],
        "medaug.data": ["profiles/*.yaml"],
    },
)
