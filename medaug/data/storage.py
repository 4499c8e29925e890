"""Durable file operations for benchmark sets: checksums, fsync, atomic publish.

A sample's files are first written into a private staging folder, flushed to
disk with ``fsync``, then moved to their final names with ``os.replace``
(atomic on POSIX within one file system), and the folders are flushed too.
A reader therefore sees either the previous state or the complete file,
never a truncated one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

__all__ = [
    "checksum",
    "fsync_tree",
    "publish",
    "write_json_atomic",
    "to_jsonable",
]

_CHUNK = 1 << 20


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def checksum(path: str | os.PathLike[str]) -> tuple[str, int]:
    """Return ``(sha256 hex, size in bytes)`` of a file, or of a folder tree.

    A folder (a Zarr store) hashes the sorted list of its files' relative
    paths and their SHA-256, so renaming or changing any file changes it.
    """
    path = Path(path)
    if path.is_file():
        return _file_sha256(path), path.stat().st_size
    if not path.is_dir():
        raise FileNotFoundError(f"cannot checksum {str(path)!r}: not found")
    digest = hashlib.sha256()
    total = 0
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        relative = file.relative_to(path).as_posix()
        digest.update(f"{relative}\0{_file_sha256(file)}\n".encode())
        total += file.stat().st_size
    return digest.hexdigest(), total


def _fsync_path(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() and hasattr(os, "O_DIRECTORY") else 0)
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_tree(path: str | os.PathLike[str]) -> None:
    """Flush a file, or every file and folder under a folder, to disk."""
    path = Path(path)
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            _fsync_path(child)
    _fsync_path(path)


def publish(staged: Path, final: Path) -> None:
    """Move a flushed file or folder to its final name atomically, replacing an older one.

    A folder that already exists at ``final`` (left by an interrupted run
    that never recorded it) is removed first, since ``os.replace`` cannot
    replace a non-empty folder.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    if staged.is_dir() and final.exists():
        if final.is_dir():
            shutil.rmtree(final)
        else:
            final.unlink()
    os.replace(staged, final)
    _fsync_path(final.parent)


def to_jsonable(value: Any) -> Any:
    """Convert numpy and torch scalars and arrays, tuples and paths to JSON types."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):  # torch tensors
        return value.tolist()
    if hasattr(value, "model_dump"):
        return to_jsonable(value.model_dump(mode="json"))
    return repr(value)


def write_json_atomic(data: Any, path: str | os.PathLike[str]) -> None:
    """Write ``data`` as sorted, indented JSON to ``path`` atomically (temp name, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    text = json.dumps(to_jsonable(data), indent=1, sort_keys=True, allow_nan=False) + "\n"
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    _fsync_path(path.parent)
