"""The manifest of a benchmark set: config hash, per-sample seed, parameters, checksums.

While a set is being written, each finished sample commits one record file,
``.medaug/records/<index:06d>.json``, after its data files are in place. A
sample without a record is unfinished, so a resumed run writes it again. When
every sample is done the records are gathered into ``manifest.json``::

    {"format": "medaug-manifest", "version": 1, "name": ..., "config_hash": ...,
     "config": {...}, "layout": "fastmri", "count": N, "seed": S,
     "samples": [{"index": i, "seed": S, "spawn_key": [i],
                  "files": [{"path": ..., "sha256": ..., "bytes": ...}],
                  "parameters": {"history": [...], "factors": {...}, "source": {...}}}],
     "set_files": [{"path": "dataset.json", "sha256": ..., "bytes": ...}]}

The manifest holds no time stamps or host names, so identical sets have
identical manifests.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from medaug.data.storage import checksum

__all__ = [
    "MANIFEST_NAME",
    "STATE_FOLDER",
    "VerifyReport",
    "read_manifest",
    "read_records",
    "record_path",
    "unlisted_files",
    "verify_set",
]

MANIFEST_NAME = "manifest.json"
#: Folder inside a set that holds the run state (config, lock, records, staging).
STATE_FOLDER = ".medaug"


def record_path(out: Path, index: int) -> Path:
    """Return the path of sample ``index``'s record file in set folder ``out``."""
    return out / STATE_FOLDER / "records" / f"{index:06d}.json"


def read_records(out: str | os.PathLike[str]) -> dict[int, dict[str, Any]]:
    """Return the committed sample records of a set folder, by index.

    A record file that does not parse (which atomic writes rule out unless
    the file was edited) is skipped with its sample, so the sample is
    written again.
    """
    folder = Path(out) / STATE_FOLDER / "records"
    records: dict[int, dict[str, Any]] = {}
    if not folder.is_dir():
        return records
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            records[int(record["index"])] = record
        except (ValueError, KeyError, TypeError):
            continue
    return records


def read_manifest(out: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the parsed ``manifest.json`` of a finished set.

    Raises
    ------
    FileNotFoundError
        If the set has no manifest (never finished, or not a medaug set).
    """
    path = Path(out) / MANIFEST_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"no {MANIFEST_NAME} in {str(out)!r}: the set is unfinished or not a medaug set; "
            "rerun `medaug generate` with the same config and --out to finish it"
        )
    return json.loads(path.read_text(encoding="utf-8"))


@dataclasses.dataclass
class VerifyReport:
    """Result of :func:`verify_set`.

    Attributes
    ----------
    checked : int
        Listed files (or Zarr folders) whose checksum was recomputed.
    problems : list of str
        One line per problem found.
    missing : list of str
        Listed paths that do not exist.
    unlisted : list of str
        Files in the set's folders that the manifest does not list.
    """

    checked: int = 0
    problems: list[str] = dataclasses.field(default_factory=list)
    missing: list[str] = dataclasses.field(default_factory=list)
    unlisted: list[str] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every listed file exists and matches its checksum, and no file is unlisted."""
        return not self.problems


def verify_set(out: str | os.PathLike[str]) -> VerifyReport:
    """Recompute the checksum of every file listed in a set's manifest.

    Uses ``manifest.json`` when present, else the committed records of an
    unfinished set. Also reports samples missing from ``0 .. count - 1``,
    indices listed twice and, for a finished set, files in the set's
    folders (the folders that hold listed files) that the manifest does not
    list. An unfinished set may hold files of uncommitted samples, so its
    unlisted files are not reported.
    """
    out = Path(out)
    report = VerifyReport()
    try:
        manifest = read_manifest(out)
        samples = manifest["samples"]
        entries = [*(f for s in samples for f in s["files"]), *manifest.get("set_files", [])]
        expected = set(range(int(manifest["count"])))
        finished = True
    except FileNotFoundError:
        samples = list(read_records(out).values())
        entries = [f for s in samples for f in s["files"]]
        expected = {int(s["index"]) for s in samples}
        finished = False
    indices = [int(s["index"]) for s in samples]
    if len(indices) != len(set(indices)):
        report.problems.append("the manifest lists some sample indices more than once")
    missing = sorted(expected - set(indices))
    if missing:
        report.problems.append(f"samples missing from the manifest: {missing[:10]}")
    for entry in entries:
        report.checked += 1
        path = out / entry["path"]
        if not path.exists():
            report.missing.append(entry["path"])
            report.problems.append(f"{entry['path']}: file not found")
            continue
        digest, size = checksum(path)
        if size != entry["bytes"] or digest != entry["sha256"]:
            report.problems.append(f"{entry['path']}: checksum mismatch ({size} bytes, expected {entry['bytes']})")
    if finished:
        report.unlisted = unlisted_files(out, [entry["path"] for entry in entries])
    if report.unlisted:
        listing = ", ".join(report.unlisted[:10]) + (", ..." if len(report.unlisted) > 10 else "")
        report.problems.append(
            f"{len(report.unlisted)} file(s) in the set's folders are not listed in the manifest: {listing}; "
            "they may be left from another run (with a larger -n/--count or another config) or added by hand"
        )
    return report


def unlisted_files(out: str | os.PathLike[str], listed: list[str]) -> list[str]:
    """Return the files under the folders of ``listed`` paths that no listed path covers, sorted.

    A listed folder (a Zarr store) covers every file inside it. Files at
    the top of ``out`` and under :data:`STATE_FOLDER` are not searched.
    """
    out = Path(out)
    covered = {Path(path).as_posix() for path in listed}
    folders = sorted({Path(path).parts[0] for path in covered if len(Path(path).parts) > 1} - {STATE_FOLDER})
    unlisted = []
    for folder in folders:
        for path in sorted((out / folder).rglob("*")):
            if not path.is_file():
                continue
            relative = path.relative_to(out)
            if not any(part.as_posix() in covered for part in (relative, *relative.parents)):
                unlisted.append(relative.as_posix())
    return unlisted
