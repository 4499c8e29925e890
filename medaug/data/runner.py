"""Write a benchmark set: local processes or a Dask cluster, atomic samples, resume.

Sample *i* depends only on the config and *i*, so the files do not depend
on which process or machine wrote them: one worker, several, and a Dask
cluster give byte-identical sets. Each sample is written in a private
staging folder, flushed, moved into place and then committed by its record
file (:mod:`medaug.data.manifest`). A rerun after Ctrl-C, a kill or a full
disk skips committed samples and rewrites the others, so no sample is
duplicated or truncated.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from medaug.data.config import PipelineConfig, parse_config
from medaug.data.errors import GenerationError
from medaug.data.manifest import MANIFEST_NAME, STATE_FOLDER, read_records, record_path
from medaug.data.pipeline import Pipeline
from medaug.data.storage import checksum, fsync_tree, publish, to_jsonable, write_json_atomic

__all__ = ["generate_set", "generate_sample"]

logger = logging.getLogger(__name__)


class _Job:
    """Everything a worker needs to write samples: the pipeline, the writer, the set folder."""

    def __init__(self, config: PipelineConfig, out: Path) -> None:
        if config.writer is None:
            raise ValueError("the config has no `writer` section; add one (fastmri, nnunet or zarr)")
        self.config = config
        self.out = out
        self.pipeline = Pipeline.from_config(config)
        self.writer = config.writer.build(config.context)


# Per-process cache of jobs for pool and Dask workers, keyed by (config hash, folder).
_JOBS: dict[tuple[str, str], _Job] = {}
_JOBS_LOCK = threading.Lock()


def _job_for(config_data: dict[str, Any], base_dir: str, out: str) -> _Job:
    key = (str(sorted(config_data.items())), out)
    with _JOBS_LOCK:
        if key not in _JOBS:
            _JOBS[key] = _Job(parse_config(config_data, base_dir=base_dir), Path(out))
        return _JOBS[key]


def generate_sample(job: _Job, index: int) -> dict[str, Any]:
    """Make, write, publish and commit sample ``index``; return its record.

    Raises
    ------
    GenerationError
        If making or writing the sample fails (the staging folder is removed,
        published files of this sample stay uncommitted and are rewritten on resume).
    """
    staging = job.out / STATE_FOLDER / "staging" / f"{index:06d}-{os.getpid()}-{threading.get_ident()}"
    try:
        sample = job.pipeline(index)
        staging.mkdir(parents=True)
        job.writer.write(sample, index, staging)
        fsync_tree(staging)
        files = []
        for relative in job.writer.relative_paths(index):
            digest, size = checksum(staging / relative)
            files.append({"path": relative, "sha256": digest, "bytes": size})
        for relative in job.writer.relative_paths(index):
            publish(staging / relative, job.out / relative)
        record = {
            "index": int(index),
            "seed": job.config.seed,
            "spawn_key": [int(index)],
            "files": files,
            "parameters": to_jsonable({
                "history": sample.history_dicts(),
                "factors": sample.metadata.get("factors"),
                "source": sample.metadata.get("source"),
            }),
        }
        write_json_atomic(record, record_path(job.out, index))
        return record
    except (OSError, ValueError, TypeError, RuntimeError) as error:
        raise GenerationError(f"sample {index} failed: {type(error).__name__}: {error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _pool_task(config_data: dict[str, Any], base_dir: str, out: str, index: int) -> int:
    generate_sample(_job_for(config_data, base_dir, out), index)
    return index


def generate_set(
    config: PipelineConfig,
    out: str | os.PathLike[str],
    *,
    count: int | None = None,
    workers: int = 1,
    scheduler: Any = None,
    progress: bool = True,
) -> Path:
    """Write (or finish) the benchmark set of ``config`` in folder ``out``.

    Parameters
    ----------
    config : PipelineConfig
        Validated config with a ``writer`` section.
    out : path-like
        Set folder; created if missing. A folder written from another
        config (different hash) is rejected.
    count : int, optional
        Number of samples (default: ``config.size``).
    workers : int, default 1
        Local processes; 1 runs in this process.
    scheduler : str or distributed.Client, optional
        Dask scheduler address (``tcp://host:8786``) or a client; then the
        Dask workers write the samples (they must see ``out``).
    progress : bool, default True
        Show a tqdm progress bar on stderr.

    Returns
    -------
    Path
        The path of the written ``manifest.json``.

    Raises
    ------
    ValueError
        On a bad ``count`` or ``workers``, a config without writer, or a
        folder holding another config's set.
    GenerationError
        If a sample fails; committed samples are kept, and rerunning resumes.
    """
    count = config.size if count is None else count
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"`count` must be an int >= 1, got {count!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"`workers` must be an int >= 1, got {workers!r}")
    sampling = config.sampling
    if sampling is not None and getattr(sampling, "mode", None) == "stratified" and count != sampling.total_count():
        raise ValueError(
            f"`count` must equal the stratified sampling total {sampling.total_count()} so every stratum "
            f"gets its requested count, got {count}; set `size` or -n to {sampling.total_count()}"
        )
    out = Path(out)
    job = _Job(config, out)
    with _set_lock(out):
        _check_set_config(out, config, job.writer.layout)
        shutil.rmtree(out / STATE_FOLDER / "staging", ignore_errors=True)
        job.writer.prepare(out)
        todo = [i for i in range(count) if i not in read_records(out)]
        logger.info("writing %d of %d samples to %s (%d already done)", len(todo), count, out, count - len(todo))
        with _progress_bar(count, count - len(todo), progress) as bar:
            if scheduler is not None:
                _run_dask(job, todo, scheduler, bar)
            elif workers == 1:
                for index in todo:
                    generate_sample(job, index)
                    bar.update(1)
            else:
                _run_pool(job, todo, workers, bar)
        return _write_manifest(job, count)


def _run_pool(job: _Job, todo: list[int], workers: int, bar: Any) -> None:
    import multiprocessing

    args = (job.config.to_dict(), str(job.config.base_dir), str(job.out))
    context = multiprocessing.get_context("spawn")
    pending: set[Future[int]] = set()
    queue = list(reversed(todo))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as executor:
        try:
            while queue or pending:
                while queue and len(pending) < 2 * workers:
                    pending.add(executor.submit(_pool_task, *args, queue.pop()))
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    future.result()
                    bar.update(1)
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def _run_dask(job: _Job, todo: list[int], scheduler: Any, bar: Any) -> None:
    from distributed import Client, as_completed

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        args = (job.config.to_dict(), str(job.config.base_dir), str(job.out.resolve()))
        futures = [client.submit(_pool_task, *args, index, pure=False) for index in todo]
        try:
            for future in as_completed(futures):
                future.result()
                bar.update(1)
        except BaseException:
            client.cancel(futures)
            raise
    finally:
        if client is not scheduler:
            client.close()


def _write_manifest(job: _Job, count: int) -> Path:
    records = read_records(job.out)
    missing = [i for i in range(count) if i not in records]
    if missing:
        raise GenerationError(f"samples {missing[:10]} have no record after the run; rerun to finish the set")
    staging = job.out / STATE_FOLDER / "staging" / "set"
    try:
        staging.mkdir(parents=True)
        set_files = []
        for relative in job.writer.finalize(staging, count):
            fsync_tree(staging / relative)
            digest, size = checksum(staging / relative)
            publish(staging / relative, job.out / relative)
            set_files.append({"path": relative, "sha256": digest, "bytes": size})
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    manifest = {
        "format": "medaug-manifest",
        "version": 1,
        "name": job.config.name,
        "config_hash": job.config.config_hash(),
        "config": job.config.to_dict(),
        "layout": job.writer.layout,
        "count": count,
        "seed": job.config.seed,
        "samples": [records[i] for i in range(count)],
        "set_files": set_files,
    }
    path = job.out / MANIFEST_NAME
    write_json_atomic(manifest, path)
    logger.info("wrote %d samples and %s", count, path)
    return path


def _check_set_config(out: Path, config: PipelineConfig, layout: str) -> None:
    import json

    state = out / STATE_FOLDER / "config.json"
    current = {"config_hash": config.config_hash(), "layout": layout, "config": config.to_dict()}
    if state.is_file():
        previous = json.loads(state.read_text(encoding="utf-8"))
        if previous.get("config_hash") != current["config_hash"]:
            raise ValueError(
                f"{str(out)!r} contains a set written from another config (hash {previous.get('config_hash', '?')[:12]}, "
                f"this config {current['config_hash'][:12]}); choose a new --out or delete the folder"
            )
        return
    write_json_atomic(current, state)


@contextlib.contextmanager
def _set_lock(out: Path) -> Iterator[None]:
    import fcntl

    if out.exists() and not out.is_dir():
        raise ValueError(f"output path {str(out)!r} exists and is not a folder")
    (out / STATE_FOLDER).mkdir(parents=True, exist_ok=True)
    handle = open(out / STATE_FOLDER / "lock", "w")  # noqa: SIM115 - held for the whole run
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise GenerationError(f"another `medaug generate` is writing to {str(out)!r}; wait for it to finish") from None
        yield
    finally:
        handle.close()


@contextlib.contextmanager
def _progress_bar(total: int, initial: int, enabled: bool) -> Iterator[Any]:
    from tqdm import tqdm

    bar = tqdm(total=total, initial=initial, disable=not enabled, unit="sample", desc="generate", dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()
