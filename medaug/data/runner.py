"""Write a benchmark set: local processes or a Dask cluster, atomic samples, resume.

Sample *i* depends only on the config and *i*, so the files do not depend
on which process or machine wrote them: one worker, several, and a Dask
cluster give byte-identical sets. Each sample is written in a private
staging folder, flushed, moved into place and then committed by its record
file (:mod:`medaug.data.manifest`). A rerun after Ctrl-C, a kill or a full
disk skips committed samples and rewrites the others, so no sample is
duplicated or truncated. The first missing sample is made before the set
folder is created, so a config that fails on every sample writes nothing,
and an error in a step names the step and its config key.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from medaug.core.sample import Sample
from medaug.data.config import PipelineConfig, parse_config
from medaug.data.errors import GenerationError
from medaug.data.manifest import MANIFEST_NAME, STATE_FOLDER, read_records, record_path
from medaug.data.pipeline import Pipeline
from medaug.data.registry import SpecError, StepConfig
from medaug.data.storage import checksum, fsync_tree, publish, to_jsonable, write_json_atomic
from medaug.data.yaml_lines import YamlDocument

__all__ = ["generate_set", "generate_sample"]

logger = logging.getLogger(__name__)


class _Job:
    """Everything a worker needs to write samples: the pipeline, the writer, the set folder."""

    def __init__(self, config: PipelineConfig, out: Path) -> None:
        if config.writer is None:
            raise ValueError("the config has no `writer` section; add one (fastmri, nnunet or zarr)")
        self.config = config
        self.out = out
        self.pipeline = _located_pipeline(config)
        self.writer = config.writer.build(config.context)


class _StepFailure(Exception):
    """A pipeline step raised; ``where`` names the step and the config key (with its YAML line)."""

    def __init__(self, where: str, error: BaseException) -> None:
        # A SpecError's message already names the option; other errors keep their type for the reader.
        super().__init__(f"{where}: {error}" if isinstance(error, SpecError) else f"{where}: {type(error).__name__}: {error}")
        self.where = where
        self.error = error


def _locate_step(config: PipelineConfig, path: tuple[str | int, ...], step: StepConfig, error: BaseException) -> str:
    """Describe where a step failed: ``file:line: `key` (type)``, down to the option a SpecError names."""
    key = getattr(error, "key", ()) if isinstance(error, SpecError) else ()
    return f"{config.locate((*path, *key))} ({step.type})"


def _located(function: Callable[..., Any], config: PipelineConfig, path: tuple[str | int, ...],
             step: StepConfig) -> Callable[..., Any]:
    """Wrap a built step so that its errors name the step and the config key."""

    def run(*args: Any) -> Any:
        try:
            return function(*args)
        except (OSError, ValueError, TypeError, RuntimeError, ArithmeticError) as error:
            raise _StepFailure(_locate_step(config, path, step, error), error) from error

    return run


def _located_pipeline(config: PipelineConfig) -> Pipeline:
    """Build the pipeline of ``config`` with every step wrapped by :func:`_located`."""
    context = config.context

    def build(step: StepConfig, path: tuple[str | int, ...]) -> Callable[..., Any]:
        return _located(step.build(context), config, path, step)

    pipeline = Pipeline(
        build(config.source, ("source",)),
        simulation=[build(step, ("simulation", i)) for i, step in enumerate(config.simulation)],
        augmentation=[build(step, ("augmentation", i)) for i, step in enumerate(config.augmentation)],
        seed=config.seed,
        outputs=config.outputs,
        sampling=config.sampling,
    )
    pipeline.config = config
    return pipeline


# Per-process cache of jobs for pool and Dask workers, keyed by (config data, folder).
_JOBS: dict[tuple[str, str], _Job] = {}
_JOBS_LOCK = threading.Lock()


def _job_for(config_data: dict[str, Any], base_dir: str, out: str, source: str | None,
             lines: dict[tuple[str | int, ...], int]) -> _Job:
    key = (str(sorted(config_data.items())), out)
    with _JOBS_LOCK:
        if key not in _JOBS:
            # The YAML lines travel with the data, so a worker's errors name the same lines as the main process.
            data: Any = YamlDocument(config_data, lines, source) if source is not None else config_data
            _JOBS[key] = _Job(parse_config(data, base_dir=base_dir), Path(out))
        return _JOBS[key]


def _make_sample(job: _Job, index: int) -> Sample:
    """Run the pipeline for sample ``index``; raise GenerationError naming the failing step."""
    try:
        return job.pipeline(index)
    except _StepFailure as failure:
        retry = isinstance(failure.error, OSError)
        raise GenerationError(f"sample {index} failed in {failure}", index=index, retry=retry) from failure.error
    except (OSError, ValueError, TypeError, RuntimeError) as error:
        raise GenerationError(f"sample {index} failed: {type(error).__name__}: {error}", index=index,
                              retry=isinstance(error, OSError)) from error


def generate_sample(job: _Job, index: int, *, sample: Sample | None = None) -> dict[str, Any]:
    """Make, write, publish and commit sample ``index``; return its record.

    Parameters
    ----------
    job : _Job
        The pipeline, writer and set folder.
    index : int
        The sample index.
    sample : Sample, optional
        Sample ``index`` if it was already made (the run's first sample,
        made before the set folder exists); made here when None.

    Raises
    ------
    GenerationError
        If making or writing the sample fails (the staging folder is removed,
        published files of this sample stay uncommitted and are rewritten on resume).
    """
    if sample is None:
        sample = _make_sample(job, index)
    staging = job.out / STATE_FOLDER / "staging" / f"{index:06d}-{os.getpid()}-{threading.get_ident()}"
    try:
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
    except OSError as error:
        raise GenerationError(f"sample {index} failed: {type(error).__name__}: {error}", index=index) from error
    except (ValueError, TypeError, RuntimeError) as error:
        where = job.config.locate(("writer",))
        raise GenerationError(f"sample {index} failed in {where} ({job.config.writer.type}): "
                              f"{type(error).__name__}: {error}", index=index, retry=False) from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _pool_task(config_data: dict[str, Any], base_dir: str, out: str, source: str | None,
               lines: dict[tuple[str | int, ...], int], index: int) -> int:
    generate_sample(_job_for(config_data, base_dir, out, source, lines), index)
    return index


def _task_arguments(job: _Job, out: Path) -> tuple[Any, ...]:
    config = job.config
    return (config.to_dict(), str(config.base_dir), str(out), config.source_file, config.key_lines)


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
        Set folder; created if missing. A folder with finished samples of
        another config (different hash) is rejected; a folder without a
        finished sample takes any config.
    count : int, optional
        Number of samples (default: ``config.size``). It must cover every
        finished sample in ``out``: a set is extended, never shrunk.
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
        On a bad ``count`` or ``workers``, a config without writer, a
        folder holding another config's set, or a ``count`` below the
        finished samples in ``out``.
    GenerationError
        If a sample fails. Its message names the sample, the step and the
        config key; committed samples are kept, and ``retry`` tells whether
        rerunning the same call can finish the set. The first missing sample
        is made before ``out`` is created, and a folder created by this call
        is removed again when no sample was finished.
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
    _check_folder(out, config, count)
    created = not out.exists()
    try:
        # Make the first missing sample before the folder exists, so that a config whose samples
        # all fail leaves nothing behind.
        todo = [i for i in range(count) if i not in read_records(out)]
        first = (todo[0], _make_sample(job, todo[0])) if todo else None
        with _set_lock(out):
            try:
                present = _write_samples(job, count, workers, scheduler, progress, first)
                path = _write_manifest(job, count)
            except GenerationError:
                # Remove a folder that this call created and that holds no finished sample (the lock is ours).
                if created and not read_records(out):
                    shutil.rmtree(out, ignore_errors=True)
                raise
    except GenerationError as error:
        error.finished = len(read_records(out))
        raise
    _log_end(path, count, present)
    return path


def _write_samples(job: _Job, count: int, workers: int, scheduler: Any, progress: bool,
                   first: tuple[int, Sample] | None) -> int:
    """Write the missing samples of a locked set folder; return how many were present before."""
    out = job.out
    _check_folder(out, job.config, count)
    _write_state(out, job.config, job.writer.layout)
    shutil.rmtree(out / STATE_FOLDER / "staging", ignore_errors=True)
    job.writer.prepare(out)
    todo = [i for i in range(count) if i not in read_records(out)]
    present = count - len(todo)
    _log_start(out, count, present)
    with _progress_bar(count, present, progress) as bar:
        if first is not None and todo and todo[0] == first[0]:
            generate_sample(job, todo.pop(0), sample=first[1])
            bar.update(1)
        _run(job, todo, workers, scheduler, bar)
    return present


def _run(job: _Job, todo: list[int], workers: int, scheduler: Any, bar: Any) -> None:
    if not todo:
        return
    if scheduler is not None:
        _run_dask(job, todo, scheduler, bar)
    elif workers == 1:
        for index in todo:
            generate_sample(job, index)
            bar.update(1)
    else:
        _run_pool(job, todo, workers, bar)


def _run_pool(job: _Job, todo: list[int], workers: int, bar: Any) -> None:
    import multiprocessing

    args = _task_arguments(job, job.out)
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
        args = _task_arguments(job, job.out.resolve())
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
    return path


def _samples(count: int, adjective: str = "") -> str:
    noun = "sample" if count == 1 else "samples"
    return f"{count} {adjective} {noun}" if adjective else f"{count} {noun}"


def _log_start(out: Path, count: int, present: int) -> None:
    if present == count:
        logger.info("all %s are already written in %s; rewriting the manifest", _samples(count), out)
    elif present:
        logger.info("writing %s to %s (%d of %d already present)", _samples(count - present, "new"), out, present, count)
    else:
        logger.info("writing %s to %s", _samples(count), out)


def _log_end(manifest: Path, count: int, present: int) -> None:
    if present == count:
        logger.info("rewrote the manifest %s", manifest)
    elif present:
        logger.info("wrote %s, %d already present; manifest %s", _samples(count - present, "new"), present, manifest)
    else:
        logger.info("wrote %s; manifest %s", _samples(count), manifest)


def _check_folder(out: Path, config: PipelineConfig, count: int) -> None:
    """Check, without writing, that ``out`` can hold ``count`` samples of ``config``.

    A folder locks to the config of its finished samples. A folder without a
    finished sample (a run that failed on its first sample) takes any config.

    Raises
    ------
    ValueError
        If ``out`` is a file, holds finished samples of another config, or
        holds finished samples at indices ``>= count``.
    """
    import json

    if out.exists() and not out.is_dir():
        raise ValueError(f"output path {str(out)!r} exists and is not a folder")
    records = read_records(out)
    state = out / STATE_FOLDER / "config.json"
    if (records or (out / MANIFEST_NAME).is_file()) and state.is_file():
        previous = json.loads(state.read_text(encoding="utf-8")).get("config_hash", "?")
        if previous != config.config_hash():
            raise ValueError(
                f"{str(out)!r} contains a set written from another config (hash {previous[:12]}, "
                f"this config {config.config_hash()[:12]}); choose a new --out or delete the folder"
            )
    beyond = max(records, default=-1) + 1
    if beyond > count:
        raise ValueError(
            f"{str(out)!r} already contains {len(records)} finished samples (indices up to {beyond - 1}), "
            f"but `count` (-n/--count) is {count}; a smaller count would drop finished samples from the "
            f"manifest. Pass -n {beyond} to keep the set as it is or a larger count to extend it, "
            "or choose a new --out"
        )


def _write_state(out: Path, config: PipelineConfig, layout: str) -> None:
    """Record the config that the set's samples are written from (replacing one with no finished sample)."""
    state = out / STATE_FOLDER / "config.json"
    current = {"config_hash": config.config_hash(), "layout": layout, "config": config.to_dict()}
    write_json_atomic(current, state)


@contextlib.contextmanager
def _set_lock(out: Path) -> Iterator[None]:
    import fcntl

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
