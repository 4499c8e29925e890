"""Datasets, pipeline configs, benchmark-set writers, acquisition and population profiles, coverage reports."""
