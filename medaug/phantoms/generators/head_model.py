"""The :class:`ProceduralHead`: an implicit head model with a folded cortex, evaluated point by point.

The head is a set of implicit functions of the position, not a list of
shapes, so the cortex can fold. Each point's label follows from its depth
below the skin and below the brain surface, its distance to the fissures
and sulci, and whether it falls in a deep nucleus, a ventricle or a lesion.
:func:`~medaug.phantoms.generators.head.procedural_head` describes the
model and :class:`~medaug.phantoms.generators.head.HeadParameters` its
parameters. Grids are sampled like :class:`~medaug.phantoms.Phantom`:
centred, with ``supersample**n`` sub-samples per voxel.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from medaug.core import Image
from medaug.phantoms.functional.anatomy import (
    direction_polynomials,
    fibonacci_sphere,
    inside_ellipsoids,
    inside_tube,
    monomials,
    unit_directions,
    wave_field,
)
from medaug.phantoms.functional.common import sub_sample_points
from medaug.phantoms.phantom import BACKGROUND, LabelCounting, NotLaminarError
from medaug.phantoms.primitives import Primitive

__all__ = ["HEAD_LABELS", "ProceduralHead"]

#: Label order of every procedural head, so label numbers never depend on the seed.
HEAD_LABELS = (
    BACKGROUND,
    "skin",
    "fat",
    "cortical_bone",
    "bone_marrow",
    "csf",
    "grey_matter",
    "white_matter",
    "lesion",
)

_BACKGROUND = 0
_SKIN, _FAT, _BONE, _MARROW, _CSF, _GREY, _WHITE, _LESION = range(1, 9)

# Label of a point under 0 to 6 layer tops: background, skin, fat, outer table, diploe, inner table, CSF.
_LAYER_LABELS = torch.tensor([_BACKGROUND, _SKIN, _FAT, _BONE, _MARROW, _BONE, _CSF])

# Points evaluated at once, which bounds the memory of the sulcal field to about 100 MB.
_CHUNK = 1 << 18

# Directions on which the bound of the skin surface is searched.
_BOUND_DIRECTIONS = 2000

# Margin (mm) of the shell in which the sulcal field is evaluated, far above float32 rounding.
_SHELL_MARGIN_MM = 0.01

# Sulci bend over at most this many sulcal depths below the brain surface.
_MAX_BEND_DEPTHS = 2.0


def _in_box(points: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """Return which points lie in the box whose lowest and highest corners are ``box[0]`` and ``box[1]``."""
    return ((points >= box[0]) & (points <= box[1])).all(dim=-1)


def _tensor(value: Any, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(np.asarray(value, dtype=float), dtype=like.dtype, device=like.device)


@dataclass(frozen=True)
class ProceduralHead(LabelCounting):
    """A drawn procedural head: every number that fixes its anatomy.

    Built by :func:`~medaug.phantoms.generators.head.procedural_head`, and
    the fields are the record of the draw (lengths in mm). The head frame
    has x to the subject's left, y posterior and z superior (LPS), and
    ``rotation`` maps it to physical coordinates. A 2D head is the plane
    ``z = slice_z_mm`` (physical) of the same 3D model.

    It offers the label methods of :class:`~medaug.phantoms.Phantom`
    (``labels``, ``label_map``, ``tissue_fractions``, ``rasterize``), so
    :func:`~medaug.phantoms.mr_parameter_maps` and
    :func:`~medaug.phantoms.hounsfield_map` take it, and :meth:`label_at`
    for arbitrary points. It has no analytic k-space or sinogram.
    """

    ndim: int
    slice_z_mm: float
    rotation: tuple[tuple[float, ...], ...]
    head_semi_axes_mm: tuple[float, float, float]
    egg: float
    layer_thickness_mm: tuple[float, ...]
    cortical_thickness_mm: float
    shape_coefficients: tuple[tuple[float, ...], ...]
    shape_offsets: tuple[float, ...]
    shape_amplitudes: tuple[float, ...]
    sulcal_frequencies: tuple[tuple[float, float, float], ...]
    sulcal_phases: tuple[float, ...]
    sulcus_depth_mm: float
    sulcal_csf_mm: float
    sulcal_bend: float
    fissure_width_mm: float
    callosum_mm: tuple[float, float, float, float]
    sylvian_mm: tuple[tuple[float, ...], ...]
    ventricle_segments: tuple[tuple[float, ...], ...]
    ventricle_margin_mm: float
    nuclei: tuple[Primitive, ...]
    lesions: tuple[Primitive, ...]
    tissue_values: tuple[tuple[str, float], ...]
    name: str = "procedural_head"

    # Phantom-like interface ---------------------------------------------------

    @property
    def labels(self) -> tuple[str, ...]:
        """Tissue names in label order, :data:`HEAD_LABELS`."""
        return HEAD_LABELS

    @property
    def tissues(self) -> tuple[str, ...]:
        """Tissues the head paints (every label except background)."""
        return HEAD_LABELS[1:]

    @property
    def mode(self) -> str:
        """Composition mode, ``"paint"``: each point has one tissue."""
        return "paint"

    def label_of(self, tissue: str) -> int:
        """Return the label number of ``tissue``."""
        if tissue not in HEAD_LABELS:
            raise ValueError(f"unknown tissue {tissue!r}: this phantom has {list(HEAD_LABELS)}")
        return HEAD_LABELS.index(tissue)

    def kspace(self, k: Any, **options: Any) -> Any:
        """Raise NotLaminarError because the folded cortex has no closed-form Fourier transform."""
        raise NotLaminarError(
            "a procedural head has a folded cortex with no closed-form Fourier transform or "
            "sinogram; rasterise it, or use layered_head() for an analytic head"
        )

    def sinogram(self, angles_deg: Any, positions_mm: Any, **options: Any) -> Any:
        """Raise NotLaminarError because the folded cortex has no closed-form Radon transform."""
        return self.kspace(None)

    # Point evaluation ---------------------------------------------------------

    def label_at(self, points: Any) -> np.ndarray:
        """Return the label of each physical point (mm), ``(N,)`` uint8.

        ``points`` is ``(N, 3)`` (x, y, z), or ``(N, 2)`` (x, y) in the plane
        of a 2D head.
        """
        array = torch.as_tensor(np.asarray(points, dtype=float))
        if array.ndim != 2 or array.shape[1] not in (2, 3):
            raise ValueError(f"`points` must be shaped (N, 2) or (N, 3), got {tuple(array.shape)}")
        labels, _ = self.evaluate(self._in_3d(array.to(torch.float32)))
        return labels.to(torch.uint8).numpy()

    def brain_depth(self, points: Any) -> np.ndarray:
        """Return the depth (mm) of physical points below the brain surface, ``(N,)`` float32.

        The brain surface is the envelope of the gyral crowns, under the
        subarachnoid CSF. The depth is negative outside it. ``points`` is
        shaped as in :meth:`label_at`.
        """
        array = torch.as_tensor(np.asarray(points, dtype=float))
        if array.ndim != 2 or array.shape[1] not in (2, 3):
            raise ValueError(f"`points` must be shaped (N, 2) or (N, 3), got {tuple(array.shape)}")
        local = self._in_3d(array.to(torch.float32)) @ _tensor(self.rotation, array.to(torch.float32))
        depth, modulation = self._head_depth(local)
        for thickness in self._layer_thickness(modulation):
            depth = depth - thickness
        return depth.numpy()

    def _in_3d(self, points: torch.Tensor) -> torch.Tensor:
        if points.shape[-1] == 3:
            return points
        plane = torch.full_like(points[:, :1], self.slice_z_mm)
        return torch.cat([points, plane], dim=-1)

    def evaluate(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the label and lesion index (-1 outside lesions) at physical points ``(N, 3)``."""
        labels, lesion = [], []
        for chunk in torch.split(points, _CHUNK):
            chunk_labels, chunk_lesion = self._evaluate(chunk)
            labels.append(chunk_labels)
            lesion.append(chunk_lesion)
        return torch.cat(labels), torch.cat(lesion)

    @functools.cached_property
    def _outer_bound(self) -> float:
        """Largest radius factor of the skin surface over directions, with a 2 % margin."""
        basis = monomials(torch.as_tensor(fibonacci_sphere(_BOUND_DIRECTIONS)))
        field = basis.numpy() @ np.asarray(self.shape_coefficients)[:, 0] + self.shape_offsets[0]
        return 1.02 * (1.0 + self.shape_amplitudes[0] * float(np.abs(field).max())) * (1.0 + self.egg)

    def _evaluate(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        labels = torch.zeros(points.shape[0], dtype=torch.int64, device=points.device)
        lesion = torch.full_like(labels, -1)
        local = points @ self._constant("rotation", points)
        # Points outside an ellipsoid that encloses the skin are background.
        bound = self._constant("head_semi_axes_mm", local) * self._outer_bound
        head = torch.nonzero(((local / bound) ** 2).sum(dim=-1) <= 1.0)[:, 0]
        if head.numel() == 0:
            return labels, lesion
        labels[head] = self._head_labels(local[head])

        if self.lesions:
            white = torch.nonzero(labels == _WHITE)[:, 0]
            index = self._lesion_index(points[white])
            hit = white[index >= 0]
            labels[hit] = _LESION
            lesion[hit] = index[index >= 0]
        return labels, lesion

    def _head_labels(self, local: torch.Tensor) -> torch.Tensor:
        """Return the labels of points in the head frame, without lesions."""
        # Peel the layers: depth is measured below the skin, then below each layer in turn.
        # A point's layer is the number of layer tops above it.
        depth, modulation = self._head_depth(local)
        layer = torch.zeros(local.shape[0], dtype=torch.int64, device=local.device)
        for thickness in self._layer_thickness(modulation):
            layer += depth >= 0
            depth = depth - thickness
        labels = _LAYER_LABELS.to(local.device)[layer]
        brain = torch.nonzero(depth >= 0)[:, 0]
        labels[brain] = self._brain_labels(local[brain], depth[brain], modulation[brain])
        return labels

    def _head_depth(self, local: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the depth below the skin (mm) and the smooth modulation fields ``(N, 5)``."""
        axes = self._constant("head_semi_axes_mm", local)
        posterior = (local[:, 1] / axes[1]).clamp(-1.0, 1.0)
        # The scalp is wider at the back: the x semi-axis grows by `egg` times the posterior position.
        semi_x = axes[0] * (1.0 + self.egg * posterior)
        normalised = local / axes
        normalised[:, 0] = local[:, 0] / semi_x
        directions, radius = unit_directions(normalised)
        fields = direction_polynomials(
            directions, self._constant("shape_coefficients", local), self._constant("shape_offsets", local)
        )
        modulation = fields * self._constant("shape_amplitudes", local)
        # ellipsoid_depth() written out, so the directions are computed once.
        slope = directions / axes
        slope[:, 0] = directions[:, 0] / semi_x
        depth = (1.0 + modulation[:, 0] - radius) / torch.linalg.vector_norm(slope, dim=-1)
        return depth, modulation

    def _layer_thickness(self, modulation: torch.Tensor) -> list[torch.Tensor]:
        """Return the thickness (mm) of skin, fat, outer table, diploe, inner table and CSF at each point."""
        skin, fat, outer, diploe, inner, csf = self.layer_thickness_mm
        fat_factor = (1.0 + modulation[:, 1]).clamp(0.3, 1.7)
        skull_factor = (1.0 + modulation[:, 2]).clamp(0.3, 1.7)
        csf_factor = (1.0 + modulation[:, 3]).clamp(0.3, 1.7)
        return [
            torch.full_like(fat_factor, skin),
            fat * fat_factor,
            outer * skull_factor,
            diploe * skull_factor,
            inner * skull_factor,
            csf * csf_factor,
        ]

    def _fissure_depth(self, local: torch.Tensor) -> torch.Tensor:
        """Return the distance (mm) to the interhemispheric fissure's CSF, +inf where it is absent.

        The fissure runs along x = 0 from the top of the brain down to the
        corpus callosum, an arch over ``|y - y0| < L`` whose top rises from
        ``z0`` at its ends to ``z0 + h`` at its middle; in front of and
        behind the arch it reaches the base of the brain.
        """
        center, half_length, base, height = self.callosum_mm
        along = ((local[:, 1] - center) / half_length).clamp(-1.0, 1.0)
        floor = base + height * torch.sqrt((1.0 - along**2).clamp_min(0.0))
        over_callosum = (local[:, 1] - center).abs() < half_length
        active = (local[:, 2] > floor) | ~over_callosum
        distance = local[:, 0].abs() - 0.5 * self.fissure_width_mm
        return torch.where(active, distance, torch.full_like(distance, float("inf")))

    def _sylvian_distance(self, local: torch.Tensor) -> torch.Tensor:
        """Return the distance (mm) to the Sylvian fissures. The first fissure is on the left (x > 0).

        Each fissure is the insular cistern, a sheet over an ellipse in
        (y, z) at ``|x| = x_insula - c_i (y - y_c)^2``, convex outward like
        the insula. The lateral sulcus joins it to the brain surface: a
        vertical sheet as tall as the cistern, from its middle outward,
        turned forward by ``turn`` degrees and bent by ``c_l`` (1/mm). Past
        a sheet's edge the distance grows with the distance beyond the edge.
        """
        result = torch.full_like(local[:, 0], float("inf"))
        for side, fissure in zip((1.0, -1.0), self.sylvian_mm):
            insula, center_y, center_z, half_length, half_height, turn, insula_bend, sulcus_bend = fissure
            lateral = side * local[:, 0]
            forward = local[:, 1] - center_y
            along = forward / half_length
            across = (local[:, 2] - center_z) / half_height
            outside = ((along**2 + across**2).sqrt() - 1.0).clamp_min(0.0) * min(half_length, half_height)
            cistern = torch.sqrt((lateral - insula + insula_bend * forward**2) ** 2 + outside**2)
            angle = math.radians(turn)
            out = lateral - insula
            sheet = (out * math.sin(angle) + forward * math.cos(angle) + sulcus_bend * out**2).abs()
            medial_of = (-out).clamp_min(0.0)
            above = (across.abs() - 1.0).clamp_min(0.0) * half_height
            stem = torch.sqrt(sheet**2 + medial_of**2 + above**2)
            result = torch.minimum(result, torch.minimum(cistern, stem))
        return result

    def _sulcal_distance(self, local: torch.Tensor, depth: torch.Tensor, modulation: torch.Tensor) -> torch.Tensor:
        """Return the distance (mm) to the nearest sulcus, the zero set of a random field of the direction.

        The sulcal field ``F`` is a sum of plane waves evaluated at
        ``q = u (1 + b min(depth / D, 2))``, with ``u`` the direction of the
        point from the head centre. Its zero set forms sheets that run
        inward from the brain surface and bend by ``b`` per sulcal depth
        ``D``. The distance to the sheet is ``|F| / |grad F|`` (first
        order), extended past the sheet's floor (depth ``D`` times a smooth
        regional factor) by the depth below it.
        """
        result = torch.full_like(depth, float("inf"))
        if self.sulcus_depth_mm <= 0 or local.shape[0] == 0:
            return result
        floor = self.sulcus_depth_mm * (1.0 + modulation[:, 4]).clamp(0.3, 1.7)
        # Further than the ribbon below a sulcus's floor, the distance changes no label, so
        # the field is evaluated only above that (+inf is returned below it).
        limit = floor + (self.cortical_thickness_mm + 0.5 * self.sulcal_csf_mm + _SHELL_MARGIN_MM)
        near = torch.nonzero(depth < limit)[:, 0]
        directions, radius = unit_directions(local[near])
        relative = (depth[near] / self.sulcus_depth_mm).clamp(0.0, _MAX_BEND_DEPTHS)
        stretch = 1.0 + self.sulcal_bend * relative
        field, gradient = wave_field(
            directions * stretch[:, None],
            self._constant("sulcal_frequencies", local),
            self._constant("sulcal_phases", local),
        )
        radial = (gradient * directions).sum(dim=-1)
        tangential = gradient - radial[:, None] * directions
        bending = torch.where(relative < _MAX_BEND_DEPTHS, self.sulcal_bend / self.sulcus_depth_mm, 0.0)
        slope2 = (stretch / radius.clamp_min(1.0)) ** 2 * (tangential**2).sum(dim=-1) + (bending * radial) ** 2
        across = field.abs() / slope2.sqrt().clamp_min(1e-6)
        below = (depth[near] - floor[near]).clamp_min(0.0)
        result[near] = torch.sqrt(across**2 + below**2)
        return result

    def _brain_labels(self, local: torch.Tensor, depth: torch.Tensor, modulation: torch.Tensor) -> torch.Tensor:
        """Return the labels inside the brain surface: sulcal CSF, cortex, white matter, nuclei, ventricles."""
        labels = torch.full_like(depth, _WHITE, dtype=torch.int64)
        medial = self._fissure_depth(local)
        sulcal = self._sulcal_distance(local, depth, modulation) - 0.5 * self.sulcal_csf_mm
        sulcal = torch.minimum(sulcal, self._sylvian_distance(local) - 0.5 * self.fissure_width_mm)
        to_csf = torch.minimum(torch.minimum(depth, medial), sulcal)
        labels[to_csf < self.cortical_thickness_mm] = _GREY
        labels[(medial < 0) | (sulcal < 0)] = _CSF

        if self.nuclei:
            box = self._constant("_nuclei_box", local)
            white = torch.nonzero((labels == _WHITE) & _in_box(local, box))[:, 0]
            index = inside_ellipsoids(local[white], *self._ellipsoid_tensors("nuclei", local))
            labels[white[index >= 0]] = _GREY

        if self.ventricle_segments:
            box = self._constant("_ventricle_box", local)
            deep = (depth > self.cortical_thickness_mm + self.ventricle_margin_mm) & (medial > 0.5 * self.fissure_width_mm)
            deep = torch.nonzero(deep & _in_box(local, box))[:, 0]
            segments = self._constant("ventricle_segments", local)
            inside = inside_tube(local[deep], segments[:, 0:3], segments[:, 3:6], segments[:, 6:9], segments[:, 9:12])
            labels[deep[inside]] = _CSF
        return labels

    @functools.cached_property
    def _nuclei_box(self) -> tuple[np.ndarray, np.ndarray]:
        boxes = [shape.bounding_box() for shape in self.nuclei]
        return np.min([b[0] for b in boxes], axis=0), np.max([b[1] for b in boxes], axis=0)

    @functools.cached_property
    def _ventricle_box(self) -> tuple[np.ndarray, np.ndarray]:
        segments = np.asarray(self.ventricle_segments)
        reach = segments[:, 6:12].max()
        ends = np.concatenate([segments[:, 0:3], segments[:, 3:6]])
        return ends.min(axis=0) - reach, ends.max(axis=0) + reach

    def _ellipsoid_tensors(self, name: str, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Return the centres, semi-axes and rotations of the ellipsoids in field ``name`` as tensors."""
        key = (name, like.dtype, like.device)
        if key not in self._tensors:
            shapes = getattr(self, name)
            self._tensors[key] = (
                _tensor([s.center for s in shapes], like),
                _tensor([s.semi_axes for s in shapes], like),
                _tensor([s.rotation_matrix for s in shapes], like),
            )
        return self._tensors[key]

    def _constant(self, name: str, like: torch.Tensor) -> torch.Tensor:
        """Return the field (or cached box) ``name`` as a tensor of the dtype and device of ``like``.

        The conversion runs once per dtype and device; a head is immutable,
        so the cached tensors never go stale.
        """
        key = (name, like.dtype, like.device)
        if key not in self._tensors:
            self._tensors[key] = _tensor(getattr(self, name), like)
        return self._tensors[key]

    @functools.cached_property
    def _tensors(self) -> dict[tuple[str, torch.dtype, torch.device], Any]:
        return {}

    def _lesion_index(self, points: torch.Tensor) -> torch.Tensor:
        return inside_ellipsoids(points, *self._ellipsoid_tensors("lesions", points))

    # Grids ------------------------------------------------------------------

    def _sub_samples(self, shape: tuple[int, ...], geometry: Any, supersample: int, device: Any):
        """Yield the physical points ``(N, 3)`` of each sub-sample offset, voxels in C order."""
        for points in sub_sample_points(shape, tuple(geometry.spacing), supersample, device=device):
            yield self._in_3d(points)

    def _sub_sample_labels(self, shape: tuple[int, ...], geometry: Any, supersample: int, device: Any):
        """Yield the labels and lesion indices of each sub-sample offset, voxels in C order.

        Sub-samples are evaluated together up to ``_CHUNK`` points, which
        keeps the per-call overhead of small (2D) grids low.
        """
        size = int(np.prod(shape))
        group: list[torch.Tensor] = []
        for points in self._sub_samples(shape, geometry, supersample, device):
            group.append(points)
            if (len(group) + 1) * size > _CHUNK:
                yield from self._split_evaluate(group, size)
                group = []
        if group:
            yield from self._split_evaluate(group, size)

    def _split_evaluate(self, group: list[torch.Tensor], size: int):
        labels, lesion = self.evaluate(torch.cat(group) if len(group) > 1 else group[0])
        yield from zip(labels.split(size), lesion.split(size))

    def _counts(self, shape: tuple[int, ...], geometry: Any, supersample: int, device: Any) -> torch.Tensor:
        size = int(np.prod(shape))
        counts = torch.zeros((len(HEAD_LABELS), size), dtype=torch.int32, device=device)
        ones = torch.ones((1, size), dtype=torch.int32, device=device)
        for labels, _ in self._sub_sample_labels(shape, geometry, supersample, device):
            counts.scatter_add_(0, labels.view(1, -1), ones)
        return counts.view(len(HEAD_LABELS), *shape)

    def rasterize(
        self,
        shape: Sequence[int],
        fov_mm: float | Sequence[float],
        *,
        supersample: int = 1,
        values: Mapping[str, float] | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> Image:
        """Rasterise tissue values with partial volume, ``(1, *shape)``.

        ``values`` maps tissue names to numbers. By default each tissue
        takes its proton density at the head's field strength, and each
        lesion its own drawn value.
        """
        shape, geometry = self._grid(shape, fov_mm)
        table = dict(self.tissue_values) if values is None else dict(values)
        missing = [t for t in HEAD_LABELS if t not in table]
        if missing:
            raise ValueError(f"`values` must give a value for every tissue, missing {missing}")
        lookup = torch.tensor([float(table[t]) for t in HEAD_LABELS], dtype=torch.float64, device=device)
        lesion_values = torch.tensor(
            [float(p.value) if values is None else float(table["lesion"]) for p in self.lesions] or [0.0],
            dtype=torch.float64,
            device=device,
        )
        total = torch.zeros(int(np.prod(shape)), dtype=torch.float64, device=device)
        for labels, lesion in self._sub_sample_labels(shape, geometry, supersample, device):
            value = lookup[labels]
            in_lesion = lesion >= 0
            value[in_lesion] = lesion_values[lesion[in_lesion]]
            total += value
        data = (total / float(supersample) ** self.ndim).to(dtype).view(1, *shape)
        return Image(data=data, geometry=geometry)
