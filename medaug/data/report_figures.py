"""PNG figures of a coverage report: factor histograms and samples per stratum (matplotlib)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["save_factor_figure", "save_strata_figure"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_factor(axis: Any, name: str, summary: Mapping[str, Any], unit: str) -> None:
    if summary["kind"] == "numeric":
        edges = np.asarray(summary["histogram"]["edges"])
        axis.bar(edges[:-1], summary["histogram"]["counts"], width=np.diff(edges), align="edge", edgecolor="black")
    else:
        axis.bar(list(summary["counts"]), list(summary["counts"].values()), edgecolor="black")
        axis.tick_params(axis="x", labelrotation=45)
    axis.set_title(name, fontsize=9)
    axis.set_ylabel(f"{unit}s")


def save_factor_figure(factors: Mapping[str, Mapping[str, Any]], path: Path, *, unit: str = "sample") -> bool:
    """Draw one histogram or bar chart per recorded factor; return False (no file) when none is recorded."""
    recorded = {name: summary for name, summary in factors.items() if summary["count"]}
    if not recorded:
        return False
    plt = _pyplot()
    columns = min(4, len(recorded))
    rows = math.ceil(len(recorded) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows), squeeze=False)
    for axis, (name, summary) in zip(axes.flat, recorded.items()):
        _plot_factor(axis, name, summary, unit)
    for axis in list(axes.flat)[len(recorded):]:
        axis.set_visible(False)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return True


def save_strata_figure(strata: Mapping[str, int], empty: list[str], path: Path, *, unit: str = "sample") -> bool:
    """Draw the count per stratum as horizontal bars, empty strata in red; return False when there are none."""
    if not strata:
        return False
    plt = _pyplot()
    labels = list(strata)
    height = max(2.5, 0.25 * len(labels) + 1.0)
    figure, axis = plt.subplots(figsize=(8, height))
    colours = ["tab:red" if label in empty else "tab:blue" for label in labels]
    axis.barh(range(len(labels)), list(strata.values()), color=colours)
    axis.set_yticks(range(len(labels)), labels, fontsize=7)
    axis.invert_yaxis()
    axis.set_xlabel(f"{unit}s (red: empty stratum)")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return True
