"""The :class:`Phantom`: primitives with tissue classes, composed additively or by painting.

A phantom in ``"add"`` mode is ``f = sum_i v_i g_i`` (Shepp-Logan style).
In ``"paint"`` mode each point takes the value of the last primitive that
contains it, which is how anatomy is layered (scalp, skull, CSF, brain).

Analytic k-space and sinograms need the additive form. A painted phantom
whose primitives are *laminar* (any two are nested or disjoint; the
procedural head is built that way) has an exact additive twin: drop the
primitives that a later one covers, and weight each remaining one by its
value minus the value of the primitive it sits in. Painted phantoms whose
shapes cross (a vessel tree) can be rasterised but not transformed
analytically.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from medaug.core import Geometry, Image, LabelMap
from medaug.phantoms.functional import (
    kspace_primitives,
    rasterize_primitives,
    sinogram_primitives,
    tissue_counts,
)
from medaug.phantoms.functional.common import check_primitives, check_shape
from medaug.phantoms.primitives import Primitive

__all__ = ["BACKGROUND", "LabelCounting", "NotLaminarError", "Phantom", "grid_geometry"]

#: Name of label 0: every point that no primitive covers.
BACKGROUND = "background"

# Points sampled on each primitive's boundary for the nesting test.
_BOUNDARY_SAMPLES = 96


class NotLaminarError(ValueError):
    """A painted phantom has crossing shapes, so it has no exact additive form."""


def grid_geometry(shape: Sequence[int], fov_mm: float | Sequence[float]) -> Geometry:
    """Return the geometry of a grid of ``shape`` covering ``fov_mm``, centred on 0 mm.

    ``fov_mm`` is one length or one per array axis. Index ``n // 2`` of each
    axis sits at 0 mm; the direction is the identity (W along x, H along y,
    D along z).
    """
    shape = tuple(int(n) for n in shape)
    fov = np.asarray(fov_mm, dtype=float).reshape(-1)
    if fov.size == 1:
        fov = np.repeat(fov, len(shape))
    if fov.size != len(shape):
        raise ValueError(f"`fov_mm` must have 1 or {len(shape)} values, got {fov.size}")
    if not np.all(np.isfinite(fov)) or np.any(fov <= 0):
        raise ValueError(f"`fov_mm` must be finite and > 0, got {tuple(fov.tolist())}")
    spacing = fov / np.asarray(shape, dtype=float)
    origin_array_order = -(np.asarray(shape) // 2) * spacing
    return Geometry(spacing=tuple(spacing), origin=tuple(origin_array_order[::-1]))


def _value_table(values: Mapping[str, Any], tissues: Sequence[str | None]) -> np.ndarray:
    rows = []
    for number, tissue in enumerate(tissues):
        if tissue is None:
            raise ValueError(
                f"primitive {number} has no tissue, so `values` given per tissue cannot weight it"
            )
        if tissue not in values:
            raise ValueError(
                f"unknown tissue {tissue!r} in `values`: known tissues are {sorted(values)}"
            )
        rows.append(np.asarray(values[tissue], dtype=float).reshape(-1))
    table = np.stack(rows)
    return table[:, 0] if table.shape[1] == 1 else table


class LabelCounting:
    """Label methods shared by phantoms that count sub-sample labels per voxel.

    A subclass gives ``ndim``, ``labels`` and ``_counts(shape, geometry,
    supersample, device)``, which returns the integer count of each
    voxel's sub-samples carrying each label, ``(L, *shape)``.
    """

    def _grid(self, shape: Sequence[int], fov_mm: Any) -> tuple[tuple[int, ...], Geometry]:
        shape = check_shape(shape, self.ndim)
        return shape, grid_geometry(shape, fov_mm)

    def tissue_fractions(
        self,
        shape: Sequence[int],
        fov_mm: float | Sequence[float],
        *,
        supersample: int = 1,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> Image:
        """Return the fraction of each voxel's sub-samples with each label, ``(L, *shape)``.

        Channel ``l`` belongs to ``labels[l]``; the channels sum to 1.
        """
        shape, geometry = self._grid(shape, fov_mm)
        counts = self._counts(shape, geometry, supersample, device)
        fractions = counts.to(dtype) / float(supersample) ** self.ndim
        return Image(data=fractions, geometry=geometry)

    def label_map(
        self,
        shape: Sequence[int],
        fov_mm: float | Sequence[float],
        *,
        supersample: int = 1,
        device: torch.device | str | None = None,
    ) -> LabelMap:
        """Return the label of each voxel: the label of most of its sub-samples.

        Ties go to the lower label number. Values index :attr:`labels`.
        """
        shape, geometry = self._grid(shape, fov_mm)
        counts = self._counts(shape, geometry, supersample, device)
        dtype = torch.uint8 if len(self.labels) <= 255 else torch.int16
        # Same result as argmax over labels (ties to the lower label), several times faster on CPU.
        label = torch.zeros(shape, dtype=dtype, device=counts.device)
        best = counts[0].clone()
        for number in range(1, len(self.labels)):
            more = counts[number] > best
            label[more] = number
            best = torch.maximum(best, counts[number])
        return LabelMap(data=label.unsqueeze(0), geometry=geometry)


@dataclass(frozen=True)
class Phantom(LabelCounting):
    """A list of primitives with tissue classes, in painting order.

    Parameters
    ----------
    primitives : sequence of Primitive
        Shapes of one dimension (2 or 3), in painting order.
    mode : {"add", "paint"}, default "add"
        Composition: sum of weighted shapes, or last shape wins.
    labels : sequence of str, optional
        Tissue names in label order; ``labels[0]`` must be ``"background"``.
        Default: background, then each tissue in order of first use. Give it
        to keep label numbers fixed across random phantoms.
    name : str, optional
        Free text for logs and records.

    Raises
    ------
    ValueError
        For an empty phantom, mixed dimensions, an unknown mode, labels
        that miss a used tissue or do not start with background, or
        Gaussian blobs in paint mode.

    Examples
    --------
    >>> from medaug.phantoms.primitives import ellipse
    >>> head = Phantom(
    ...     [ellipse((0.0, 0.0), (8.0, 8.0), tissue="csf"),
    ...      ellipse((0.0, 0.0), (4.0, 4.0), tissue="white_matter")],
    ...     mode="paint",
    ... )
    >>> head.labels
    ('background', 'csf', 'white_matter')
    >>> head.label_map((1, 11), 22.0).data[0, 0].tolist()  # voxel centres -10, -8, ..., 10 mm
    [0, 1, 1, 2, 2, 2, 2, 2, 1, 1, 0]
    """

    primitives: tuple[Primitive, ...]
    mode: str = "add"
    labels: tuple[str, ...] | None = None
    name: str = ""
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.primitives, Primitive):
            raise TypeError("`primitives` must be a sequence of Primitive, got a single Primitive")
        primitives = tuple(self.primitives)
        check_primitives(primitives)
        if self.mode not in ("add", "paint"):
            raise ValueError(f"`mode` must be 'add' or 'paint', got {self.mode!r}")
        if self.mode == "paint":
            for number, primitive in enumerate(primitives):
                if not primitive.has_boundary:
                    raise ValueError(
                        f"`primitives[{number}]` is a gaussian blob, which cannot be painted; "
                        "use mode='add'"
                    )
        used = [p.tissue for p in primitives if p.tissue is not None]
        if self.labels is None:
            labels = (BACKGROUND, *dict.fromkeys(t for t in used if t != BACKGROUND))
        else:
            labels = tuple(self.labels)
            if not labels or labels[0] != BACKGROUND:
                raise ValueError(f"`labels` must start with {BACKGROUND!r}, got {labels!r}")
            missing = sorted(set(used) - set(labels))
            if missing:
                raise ValueError(f"`labels` must list every tissue used, missing {missing}")
            if len(set(labels)) != len(labels):
                raise ValueError(f"`labels` must not repeat a tissue, got {labels!r}")
        object.__setattr__(self, "primitives", primitives)
        object.__setattr__(self, "labels", labels)

    # Basic properties -------------------------------------------------------

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions (2 or 3)."""
        return self.primitives[0].ndim

    @property
    def tissues(self) -> tuple[str | None, ...]:
        """Tissue of each primitive (None where unset), in painting order."""
        return tuple(p.tissue for p in self.primitives)

    def label_of(self, tissue: str) -> int:
        """Return the label number of ``tissue``."""
        if tissue not in self.labels:
            raise ValueError(f"unknown tissue {tissue!r}: this phantom has {list(self.labels)}")
        return self.labels.index(tissue)

    def resolve_values(self, values: Any) -> np.ndarray:
        """Return per-primitive values ``(P,)`` or ``(P, C)`` from ``values``.

        ``values`` is None (each primitive's ``value``), a sequence with one
        entry per primitive, or a mapping from tissue name to a number (or
        a sequence of ``C`` numbers for ``C`` channels).
        """
        if values is None:
            return np.array([p.value for p in self.primitives])
        if isinstance(values, Mapping):
            return _value_table(values, self.tissues)
        array = np.asarray(values, dtype=float)
        if array.ndim not in (1, 2) or array.shape[0] != len(self.primitives):
            raise ValueError(
                f"`values` must have one entry per primitive ({len(self.primitives)}), "
                f"got shape {array.shape}"
            )
        return array

    # Rasterisation ---------------------------------------------------------

    def rasterize(
        self,
        shape: Sequence[int],
        fov_mm: float | Sequence[float],
        *,
        supersample: int = 1,
        values: Any = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> Image:
        """Rasterise the phantom with partial volume on a grid centred on 0 mm.

        Parameters
        ----------
        shape : sequence of int
            ``(H, W)`` or ``(D, H, W)``.
        fov_mm : float or sequence of float
            Field of view in mm, one value or one per array axis.
        supersample : int, default 1
            Sub-samples per voxel and axis (midpoint rule); the voxel value
            converges to the area or volume average as it grows.
        values : None, sequence or mapping, optional
            See :meth:`resolve_values`. ``(P, C)`` values give ``C`` channels.
        device, dtype
            Where and in which floating type to compute.

        Returns
        -------
        Image
            ``(C, *shape)`` with the grid's :class:`~medaug.core.Geometry`.
        """
        shape, geometry = self._grid(shape, fov_mm)
        data = rasterize_primitives(
            self.primitives,
            shape,
            geometry.spacing,
            values=self.resolve_values(values),
            supersample=supersample,
            mode=self.mode,
            device=device,
            dtype=dtype,
        )
        if data.ndim == len(shape):
            data = data.unsqueeze(0)
        return Image(data=data, geometry=geometry)

    def _counts(
        self, shape: tuple[int, ...], geometry: Geometry, supersample: int, device: Any
    ) -> torch.Tensor:
        # The last primitive covering a sub-sample decides its label, in either
        # mode; primitives without a tissue paint background.
        labels = [0 if t is None else self.labels.index(t) for t in self.tissues]
        boundary = [p for p in self.primitives if p.has_boundary]
        boundary_labels = [lab for lab, p in zip(labels, self.primitives) if p.has_boundary]
        if not boundary:
            raise ValueError("the phantom has only gaussian blobs, which carry no labels")
        return tissue_counts(
            boundary,
            boundary_labels,
            len(self.labels),
            shape,
            geometry.spacing,
            supersample=supersample,
            device=device,
        )

    # Analytic measurements -------------------------------------------------

    def additive_weights(self, values: Any = None) -> tuple[list[Primitive], np.ndarray]:
        """Return primitives and weights of the exact additive form of this phantom.

        Raises
        ------
        NotLaminarError
            For a painted phantom with two shapes that cross.
        """
        table = self.resolve_values(values)
        if table.ndim != 1:
            raise ValueError("analytic measurements take one value per primitive, got channels")
        if self.mode == "add":
            return list(self.primitives), table
        kept, parents = self._laminar()
        weights = []
        for index, parent in zip(kept, parents):
            weights.append(table[index] - (0.0 if parent < 0 else table[parent]))
        return [self.primitives[i] for i in kept], np.asarray(weights, dtype=float)

    def _laminar(self) -> tuple[list[int], list[int]]:
        if "laminar" not in self._cache:
            self._cache["laminar"] = _laminar_structure(self.primitives)
        return self._cache["laminar"]

    def kspace(
        self, k: Any, *, values: Any = None, coil_sensitivities: Any = None
    ) -> torch.Tensor | np.ndarray:
        """Evaluate the analytic Fourier transform at k-space locations ``k``.

        Parameters
        ----------
        k : array_like, (..., n)
            Locations in cycles/mm, physical (kx, ky[, kz]) order. numpy in,
            numpy out; float32 input computes in single precision.
        values : None, sequence or mapping, optional
            Per-primitive or per-tissue values (for example proton density).
        coil_sensitivities : CoilSensitivities, optional
            Smooth receive sensitivities; the result gains a leading coil axis.

        Returns
        -------
        array or tensor, complex
            ``k.shape[:-1]`` or ``(C, *k.shape[:-1])``, value * mm^n, for the
            convention ``F(k) = integral f(x) exp(-2 pi i k.x) dx``.
        """
        primitives, weights = self.additive_weights(values)
        as_numpy = isinstance(k, np.ndarray)
        tensor = torch.as_tensor(k)
        coefficients = frequencies = None
        if coil_sensitivities is not None:
            coefficients = coil_sensitivities.coefficients
            frequencies = coil_sensitivities.frequencies
        result = kspace_primitives(
            primitives,
            tensor,
            values=weights,
            coefficients=coefficients,
            frequencies=frequencies,
        )
        return result.cpu().numpy() if as_numpy else result

    def sinogram(
        self, angles_deg: Any, positions_mm: Any, *, values: Any = None
    ) -> torch.Tensor | np.ndarray:
        """Evaluate the analytic parallel-beam sinogram ``(A, D)`` of a 2D phantom.

        ``values`` weights the primitives (for example linear attenuation in
        1/mm gives line integrals without unit). numpy in, numpy out.
        """
        primitives, weights = self.additive_weights(values)
        as_numpy = isinstance(angles_deg, np.ndarray) or isinstance(positions_mm, np.ndarray)
        result = sinogram_primitives(primitives, angles_deg, positions_mm, values=weights)
        return result.cpu().numpy() if as_numpy else result


def _laminar_structure(primitives: Sequence[Primitive]) -> tuple[list[int], list[int]]:
    """Return (kept indices, parent of each kept one or -1) of a laminar painted phantom."""
    count = len(primitives)
    boundaries = [p.boundary_points(_BOUNDARY_SAMPLES) for p in primitives]
    centers = [np.asarray(p.center)[None, :] for p in primitives]

    @functools.cache
    def inside(inner: int, outer: int) -> np.ndarray:
        return primitives[outer].contains(boundaries[inner])

    def contained(inner: int, outer: int) -> bool:
        return bool(np.all(inside(inner, outer)))

    def disjoint(first: int, second: int) -> bool:
        return not (
            np.any(inside(first, second))
            or np.any(inside(second, first))
            or primitives[second].contains(centers[first])[0]
            or primitives[first].contains(centers[second])[0]
        )

    kept = [i for i in range(count) if not any(contained(i, j) for j in range(i + 1, count))]
    parents = []
    for position, index in enumerate(kept):
        parent = -1
        for earlier in kept[:position]:
            if contained(index, earlier):
                parent = earlier
            elif not disjoint(index, earlier):
                raise NotLaminarError(
                    f"primitives {earlier} and {index} cross (neither nested nor disjoint), so "
                    "this painted phantom has no exact analytic transform; rasterise it instead"
                )
        parents.append(parent)
    return kept, parents
