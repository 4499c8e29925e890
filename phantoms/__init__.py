"""Phantom definitions and tissue tables as data, shipped as ``medaug.phantom_tables``."""
