"""Running transforms in DataLoader workers.

medaug draws nothing from global random state, so workers need no seeding:
a dataset derives each sample's generator from its index with
:func:`medaug.core.seeding.sample_rng`. What workers do need is one thread
each, or ``num_workers`` processes times the default thread count
oversubscribe the CPU.
"""

from __future__ import annotations

import os

import torch

__all__ = ["worker_init_fn"]


def worker_init_fn(worker_id: int, *, num_threads: int = 1) -> None:
    """Limit a DataLoader worker to ``num_threads`` torch threads (default one).

    Pass it as ``DataLoader(..., worker_init_fn=worker_init_fn)``. It also
    sets ``OMP_NUM_THREADS`` for libraries started later in the worker.

    Examples
    --------
    >>> worker_init_fn(0)
    >>> torch.get_num_threads()
    1
    """
    if num_threads < 1:
        raise ValueError(f"`num_threads` must be >= 1, got {num_threads}")
    torch.set_num_threads(num_threads)
    os.environ["OMP_NUM_THREADS"] = str(num_threads)
