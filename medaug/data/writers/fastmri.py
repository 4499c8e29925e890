"""fastMRI-style HDF5 files for reconstruction benchmarks.

One file per sample, ``<folder>/<prefix><index>.h5``, laid out as the
fastMRI data set (Zbontar et al., "fastMRI: An Open Dataset and Benchmarks
for Accelerated MRI", arXiv:1811.08839, 2018) so that
``fastmri.data.SliceDataset(root=<out>/<folder>, challenge=...)`` reads it:

* ``kspace``: complex64, ``(slices, coils, H, W)`` (multicoil) or
  ``(slices, H, W)`` (singlecoil); a 3-D k-space ``(coils, D, H, W)`` is
  stored with ``D`` as slices, so each slice must be a 2-D acquisition.
* ``reconstruction_rss`` (multicoil) or ``reconstruction_esc``
  (singlecoil): float32 ``(slices, H, W)``, the reference image.
* ``mask``: bool, the sampling mask over ``(H, W)`` (or ``(W,)`` when all
  rows share it), present when the k-space carries one.
* ``ismrmrd_header``: ISMRMRD XML with the encoded and reconstructed matrix
  sizes and fields of view (mm) and the phase-encoding limits.
* attributes ``acquisition``, ``max``, ``norm`` (Frobenius norm of the
  reference volume), ``patient_id``, plus ``medaug_index`` and
  ``medaug_config_hash``.

Files are written with ``track_times=False`` so that the same sample gives
the same bytes on every run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

import numpy as np
import pydantic

from medaug.core.fields import GridField, KSpace
from medaug.core.sample import Sample
from medaug.data.registry import BuildContext, FieldSpec, SpecError, StepConfig, register_step
from medaug.data.writers.base import require_field

__all__ = ["FastMRIWriterConfig", "FastMRIWriter", "ismrmrd_header"]

_NAMESPACE = "http://www.ismrm.org/ISMRMRD"


@register_step("writer", "fastmri")
class FastMRIWriterConfig(StepConfig):
    """Options of the fastMRI HDF5 writer.

    ``kspace_field`` and ``target_field`` name the sample fields written as
    ``kspace`` and the reference reconstruction; ``challenge`` picks the
    multicoil or singlecoil layout; ``folder`` defaults to
    ``<challenge>_<split>``; ``acquisition`` is stored as the attribute of
    the same name (fastMRI uses e.g. ``AXT1``, ``CORPD_FBK``).
    """

    type: Literal["fastmri"] = "fastmri"
    challenge: Literal["multicoil", "singlecoil"] = "multicoil"
    split: str = pydantic.Field("train", pattern=r"^[A-Za-z0-9_-]+$")
    folder: str | None = pydantic.Field(None, pattern=r"^[A-Za-z0-9._-]+$")
    prefix: str = pydantic.Field("file", pattern=r"^[A-Za-z0-9._-]*$")
    kspace_field: str = "kspace"
    target_field: str = "reconstruction"
    acquisition: str = "AXT1"
    field_strength_t: float = pydantic.Field(3.0, gt=0)

    def output_spec(self, spec: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        kspace = spec.get(self.kspace_field)
        if kspace is None or kspace.kind != "KSpace":
            raise SpecError(
                f"the pipeline produces no KSpace field {self.kspace_field!r} (fields: {', '.join(sorted(spec))}); "
                "add an MRI simulation step or set `kspace_field`", key="kspace_field")
        target = spec.get(self.target_field)
        if target is None or target.kind != "Image":
            raise SpecError(
                f"the pipeline produces no Image field {self.target_field!r} to store as the reference "
                f"reconstruction (fields: {', '.join(sorted(spec))})", key="target_field")
        if self.challenge == "singlecoil" and kspace.channels not in (None, 1):
            raise SpecError(f"singlecoil needs 1 coil, the k-space has {kspace.channels}", key="challenge")
        return spec

    def build(self, context: BuildContext) -> FastMRIWriter:
        return FastMRIWriter(self, context)


class FastMRIWriter:
    """Runtime fastMRI writer (see the module docstring for the layout)."""

    layout = "fastmri"

    def __init__(self, options: FastMRIWriterConfig, context: BuildContext) -> None:
        self.options = options
        self.set_name = context.set_name
        self.config_hash = context.config_hash
        self.folder = options.folder or f"{options.challenge}_{options.split}"

    def prepare(self, out: Path) -> None:
        (out / self.folder).mkdir(parents=True, exist_ok=True)

    def relative_paths(self, index: int) -> list[str]:
        return [f"{self.folder}/{self.options.prefix}{index:06d}.h5"]

    def write(self, sample: Sample, index: int, staging: Path) -> None:
        import h5py

        kspace_field = require_field(sample, self.options.kspace_field, KSpace, "fastmri")
        target_field = require_field(sample, self.options.target_field, GridField, "fastmri")
        kspace, target, mask = _arrays(kspace_field, target_field, self.options.challenge)
        path = staging / self.relative_paths(index)[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        recon_key = "reconstruction_rss" if self.options.challenge == "multicoil" else "reconstruction_esc"
        spacing = [float(v) for v in kspace_field.geometries[0].spacing[-2:]]
        coils = kspace.shape[1] if kspace.ndim == 4 else 1
        header = ismrmrd_header(kspace.shape[-2:], target.shape[-2:], spacing, kspace.shape[0],
                                field_strength_t=self.options.field_strength_t, coils=coils)
        with h5py.File(path, "w", track_order=False) as handle:
            handle.create_dataset("kspace", data=kspace, track_times=False)
            handle.create_dataset(recon_key, data=target, track_times=False)
            if mask is not None:
                handle.create_dataset("mask", data=mask, track_times=False)
            handle.create_dataset("ismrmrd_header", data=np.bytes_(header.encode("utf-8")), track_times=False)
            handle.attrs["acquisition"] = self.options.acquisition
            handle.attrs["max"] = float(target.max())
            handle.attrs["norm"] = float(np.linalg.norm(target))
            handle.attrs["patient_id"] = f"{self.set_name}-{index:06d}"
            handle.attrs["medaug_index"] = int(index)
            handle.attrs["medaug_config_hash"] = self.config_hash

    def finalize(self, staging: Path, count: int) -> list[str]:
        return []


def _arrays(kspace_field: KSpace, target_field: GridField, challenge: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    kspace = kspace_field.numpy().astype(np.complex64)  # (C, H, W) or (C, D, H, W)
    target = target_field.numpy()
    if target.shape[0] != 1:
        raise ValueError(f"the reference reconstruction must have 1 channel, got shape {target.shape}")
    if np.iscomplexobj(target):
        raise TypeError("the reference reconstruction must be real (a magnitude image)")
    target = target[0].astype(np.float32)
    if kspace.ndim == 3:
        kspace, target = kspace[None], target[None]
    else:
        kspace = np.ascontiguousarray(np.moveaxis(kspace, 1, 0))  # (D, C, H, W)
    if challenge == "singlecoil":
        if kspace.shape[1] != 1:
            raise ValueError(f"singlecoil files need 1 coil, the k-space has {kspace.shape[1]}")
        kspace = kspace[:, 0]
    if target.shape[0] != kspace.shape[0]:
        raise ValueError(f"reference has {target.shape[0]} slices but the k-space has {kspace.shape[0]}")
    mask = None
    if kspace_field.mask is not None:
        mask = kspace_field.mask.detach().cpu().numpy().astype(bool)
        mask = np.broadcast_to(mask, kspace_field.data.shape)[0]
        if mask.ndim == 3 and np.all(mask == mask[:1]):  # one mask shared by all slices
            mask = mask[0]
        if mask.ndim == 2 and np.all(mask == mask[:1]):  # the same columns on every row: fastMRI's 1-D mask
            mask = mask[0]
    return kspace, target, np.ascontiguousarray(mask) if mask is not None else None


def ismrmrd_header(
    encoded_shape: tuple[int, int],
    recon_shape: tuple[int, int],
    spacing_mm: list[float],
    num_slices: int,
    *,
    field_strength_t: float = 3.0,
    coils: int | None = None,
) -> str:
    """Return a minimal ISMRMRD XML header with the fields fastMRI's loaders read.

    Matrix ``x`` is the readout axis (array axis H) and ``y`` the phase-encoding
    axis (array axis W), as in the fastMRI files; the phase-encoding limits
    say that every line from 0 to ``W - 1`` is encoded, centred at ``W // 2``.

    Examples
    --------
    >>> "<x>64</x>" in ismrmrd_header((64, 48), (64, 48), [1.0, 1.0], 1)
    True
    """
    (h, w), (rh, rw) = encoded_shape, recon_shape
    dy, dx = spacing_mm

    def space(tag: str, nx: int, ny: int) -> str:
        return (f"<{tag}><matrixSize><x>{nx}</x><y>{ny}</y><z>1</z></matrixSize>"
                f"<fieldOfView_mm><x>{nx * dy:.4f}</x><y>{ny * dx:.4f}</y><z>{1.0:.4f}</z></fieldOfView_mm></{tag}>")

    def limit(tag: str, maximum: int, centre: int) -> str:
        return f"<{tag}><minimum>0</minimum><maximum>{maximum}</maximum><center>{centre}</center></{tag}>"

    limits = (limit("kspace_encoding_step_1", w - 1, w // 2) + limit("kspace_encoding_step_2", 0, 0)
              + limit("slice", max(num_slices - 1, 0), 0))
    system = f"<systemFieldStrength_T>{field_strength_t:g}</systemFieldStrength_T>"
    if coils is not None:
        system += f"<receiverChannels>{int(coils)}</receiverChannels>"
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<ismrmrdHeader xmlns="{escape(_NAMESPACE)}">'
        f"<acquisitionSystemInformation>{system}</acquisitionSystemInformation>"
        f"<encoding>{space('encodedSpace', h, w)}{space('reconSpace', rh, rw)}"
        f"<encodingLimits>{limits}</encodingLimits><trajectory>cartesian</trajectory></encoding>"
        "</ismrmrdHeader>\n"
    )
