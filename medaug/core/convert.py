"""Conversion at the edges: numpy, torch and SimpleITK in, the same type out.

Transforms and operators work on :class:`~medaug.core.sample.Sample`
objects. :func:`to_sample` wraps what a user passes (a numpy array, a torch
tensor, a SimpleITK image, a dict of those, or a Sample) and returns a
function that turns a result back into the caller's type.

Plain arrays are read channel-first:

========  ============================  ===========================
ndim      default layout                with ``spatial_dims`` given
========  ============================  ===========================
1         rejected                      rejected
2         ``(H, W)``, channel added     ``spatial_dims`` must be 2
3         ``(C, H, W)``                 3: ``(D, H, W)``, channel added
4         ``(C, D, H, W)``              2: ``(B, C, H, W)``
5         ``(B, C, D, H, W)``           must be 3
========  ============================  ===========================

A 3-axis array read as ``(C, H, W)`` with more than
:data:`MAX_UNFLAGGED_CHANNELS` channels raises a warning, because it is
more likely a volume ``(D, H, W)`` without a channel axis: ``array[None]``
or ``spatial_dims=3`` reads it as 3-D, ``spatial_dims=2`` keeps the 2-D
reading without the warning.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from medaug.core.fields import Field, Image, LabelMap, as_tensor
from medaug.core.geometry import Geometry
from medaug.core.sample import Sample

__all__ = [
    "to_sample",
    "array_to_field",
    "field_from_sitk",
    "field_to_sitk",
    "DEFAULT_LABEL_KEYS",
    "MAX_UNFLAGGED_CHANNELS",
]

#: Dict keys whose integer arrays are read as label maps at the edge.
DEFAULT_LABEL_KEYS = ("label", "labels", "seg", "segmentation", "mask")

#: Most channels a 3-axis array read as ``(C, H, W)`` has without a warning.
#: Colour images (3 channels) and multi-contrast MR (a few) stay below it,
#: while a volume (D, H, W) has tens to hundreds of slices. Images of larger
#: coil arrays (up to 64 channels) warn unless read with ``spatial_dims=2``.
MAX_UNFLAGGED_CHANNELS = 16

_KIND_NAMES = {Image: "image", LabelMap: "label map"}


def _layout(ndim: int, spatial_dims: int | None, name: str) -> tuple[int, bool, bool]:
    """Return (spatial_dims, add_channel, batched) for a plain array of ``ndim`` axes."""
    if spatial_dims not in (None, 2, 3):
        raise ValueError(f"`spatial_dims` must be 2, 3 or None, got {spatial_dims!r}")
    table = {
        (2, None): (2, True, False),
        (2, 2): (2, True, False),
        (3, None): (2, False, False),
        (3, 2): (2, False, False),
        (3, 3): (3, True, False),
        (4, None): (3, False, False),
        (4, 3): (3, False, False),
        (4, 2): (2, False, True),
        (5, None): (3, False, True),
        (5, 3): (3, False, True),
    }
    key = (ndim, spatial_dims)
    if key not in table:
        raise ValueError(
            f"`{name}` with {ndim} axes cannot be read as a {spatial_dims or 2}- or 3-D image: "
            "expected (H, W), (C, H, W), (C, D, H, W) or (B, C, D, H, W)"
            + ("" if spatial_dims is None else f" with spatial_dims={spatial_dims}")
        )
    return table[key]


def array_to_field(
    data: Any,
    *,
    kind: type[Field] = Image,
    spatial_dims: int | None = None,
    geometry: Geometry | None = None,
    name: str = "data",
) -> tuple[Field, bool]:
    """Wrap a numpy array or tensor as a grid field.

    Returns
    -------
    field : Field
        An :class:`Image` or :class:`LabelMap` (per ``kind``) shaped channel-first.
    channel_added : bool
        True when a channel axis was inserted and must be removed on return.
    """
    tensor = as_tensor(data, name)
    spatial, add_channel, _ = _layout(tensor.ndim, spatial_dims, name)
    if tensor.ndim == 3 and spatial_dims is None and tensor.shape[0] > MAX_UNFLAGGED_CHANNELS:
        warnings.warn(
            f"`{name}` shaped {tuple(tensor.shape)} is read as a 2-D {_KIND_NAMES.get(kind, 'image')} with {tensor.shape[0]} "
            "channels (C, H, W). If it is a 3-D volume (D, H, W), pass `array[None]` or "
            "`spatial_dims=3`; pass `spatial_dims=2` to keep the 2-D reading without this warning",
            UserWarning,
            stacklevel=_caller_stacklevel(),
        )
    if add_channel:
        tensor = tensor.unsqueeze(0)
    if geometry is not None and geometry.ndim != spatial:
        raise ValueError(
            f"`geometry` has {geometry.ndim} axes but `{name}` is read as {spatial}-D "
            f"(shape {tuple(tensor.shape)})"
        )
    return kind(data=tensor, geometry=geometry or Geometry.identity(spatial)), add_channel


def _caller_stacklevel() -> int:
    """Return the ``stacklevel`` that points a warning at the first caller outside medaug."""
    frame = sys._getframe(2)
    level = 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("medaug."):
        frame = frame.f_back
        level += 1
    return level


def field_from_sitk(image: Any, *, kind: type[Field] = Image) -> Field:
    """Convert a SimpleITK image to a channel-first field with its geometry.

    Vector (multi-component) pixels become channels.
    """
    import SimpleITK as sitk

    if not isinstance(image, sitk.Image):
        raise TypeError(f"`image` must be a SimpleITK.Image, got {type(image).__name__}")
    dimension = image.GetDimension()
    if dimension not in (2, 3):
        raise ValueError(f"SimpleITK image must be 2-D or 3-D, got {dimension}-D")
    array = sitk.GetArrayFromImage(image)
    if image.GetNumberOfComponentsPerPixel() > 1:
        array = np.moveaxis(array, -1, 0)
    else:
        array = array[None]
    geometry = Geometry.from_sitk_parameters(
        image.GetSpacing(), image.GetOrigin(), image.GetDirection()
    )
    return kind(data=array, geometry=geometry)


def field_to_sitk(field: Field) -> Any:
    """Convert an unbatched grid field to a SimpleITK image with its geometry.

    One channel gives a scalar image; several give a vector image.
    """
    import SimpleITK as sitk

    from medaug.core.fields import GridField

    if not isinstance(field, GridField):
        raise TypeError(f"only grid fields convert to SimpleITK images, got {type(field).__name__}")
    if field.is_batched:
        raise ValueError(f"cannot convert a batched field (shape {tuple(field.data.shape)}) to SimpleITK")
    if field.data.is_complex():
        raise TypeError("SimpleITK images cannot hold complex data; write magnitude or real/imag")
    array = field.numpy()
    if array.shape[0] == 1:
        image = sitk.GetImageFromArray(array[0])
    else:
        image = sitk.GetImageFromArray(np.moveaxis(array, 0, -1), isVector=True)
    spacing, origin, direction = field.geometry.to_sitk_parameters()  # type: ignore[union-attr]
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    image.SetDirection(direction)
    return image


def _restore_array(field: Field, like: Any, channel_added: bool) -> Any:
    import torch

    data = field.data
    if channel_added:
        data = data[0]
    if isinstance(like, np.ndarray):
        return data.detach().cpu().numpy()
    if isinstance(like, torch.Tensor):
        return data
    return field_to_sitk(field)


def to_sample(
    x: Any,
    *,
    spatial_dims: int | None = None,
    label_keys: tuple[str, ...] = DEFAULT_LABEL_KEYS,
) -> tuple[Sample, Callable[[Sample], Any]]:
    """Wrap user input as a Sample and return a function restoring the input's type.

    Parameters
    ----------
    x : Sample, numpy.ndarray, torch.Tensor, SimpleITK.Image or dict
        A dict maps names to fields or to arrays; arrays under one of
        ``label_keys`` become label maps (float arrays there raise TypeError),
        all other arrays become images.
    spatial_dims : {2, 3}, optional
        Resolves the layout of plain arrays (see the module table).

    Returns
    -------
    sample : Sample
    restore : callable
        ``restore(result_sample)`` returns the same kind of object as ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> sample, restore = to_sample(np.ones((4, 5), np.float32))
    >>> sample["image"].data.shape
    torch.Size([1, 4, 5])
    >>> restore(sample).shape
    (4, 5)
    """
    import torch

    if isinstance(x, Sample):
        return x, lambda result: result
    if isinstance(x, (np.ndarray, torch.Tensor)):
        field, channel_added = array_to_field(x, spatial_dims=spatial_dims, name="input")
        return Sample({"image": field}), lambda result: _restore_array(result["image"], x, channel_added)
    if type(x).__module__.startswith("SimpleITK"):
        field = field_from_sitk(x)
        return Sample({"image": field}), lambda result: field_to_sitk(result["image"])
    if isinstance(x, Mapping):
        return _dict_to_sample(x, spatial_dims, label_keys)
    raise TypeError(
        "input must be a Sample, numpy array, torch tensor, SimpleITK image or dict, "
        f"got {type(x).__name__}"
    )


def _dict_to_sample(
    x: Mapping[str, Any], spatial_dims: int | None, label_keys: tuple[str, ...]
) -> tuple[Sample, Callable[[Sample], Any]]:
    import torch

    fields: dict[str, Field] = {}
    restorers: dict[str, Callable[[Field], Any]] = {}
    passthrough: dict[str, Any] = {}
    for key, value in x.items():
        if isinstance(value, Field):
            fields[key] = value
            restorers[key] = lambda field: field
        elif isinstance(value, (np.ndarray, torch.Tensor)):
            is_float = value.dtype.kind in "fc" if isinstance(value, np.ndarray) else (
                value.is_floating_point() or value.is_complex()
            )
            if key in label_keys and is_float:
                raise TypeError(
                    f"input[{key!r}] is read as a label map but has float dtype {value.dtype}; "
                    "label maps must hold integer classes: convert with .astype(np.uint8) (or "
                    ".long()) if the values are classes, or store the array under another key"
                )
            kind = LabelMap if key in label_keys else Image
            field, channel_added = array_to_field(value, kind=kind, spatial_dims=spatial_dims, name=f"input[{key!r}]")
            fields[key] = field
            restorers[key] = lambda field, like=value, added=channel_added: _restore_array(field, like, added)
        elif type(value).__module__.startswith("SimpleITK"):
            fields[key] = field_from_sitk(value, kind=LabelMap if key in label_keys else Image)
            restorers[key] = field_to_sitk
        else:
            passthrough[key] = value

    def restore(result: Sample) -> dict[str, Any]:
        output = dict(passthrough)
        for key in result:
            output[key] = restorers.get(key, lambda field: field)(result[key])
        return output

    return Sample(fields), restore
