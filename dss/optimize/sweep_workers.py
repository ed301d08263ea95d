"""Running a sweep's points in parallel: worker processes on this machine or a Dask cluster,
with user errors carried back across processes (:mod:`dss.optimize.sweep`)."""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue as queue_mod
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

import numpy as np

from dss.errors import DssError
from dss.optimize.problem import Problem
from dss.optimize.sweep_points import Engine, Report, solve_points

LOGGER = logging.getLogger(__name__)


class WorkerError(DssError):
    """An error raised in a sweep worker (process or Dask), carried back with its exit
    code (user errors must pickle cleanly across processes)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def __reduce__(self):
        return (WorkerError, (str(self), self.exit_code))


class DependencyError(DssError):
    """An optional dependency needed by the requested feature is not installed."""

    exit_code = 2


_QUEUE: Any = None


def _init_worker(queue: Any) -> None:
    """Process-pool initializer: keep the queue that carries progress to the parent."""
    global _QUEUE
    _QUEUE = queue


def _chunk_job(problem: Problem, param: str, values: list[float], engine: Engine,
               warm_start: bool, reference: float | None) -> list[dict[str, Any]]:
    """One worker's chunk (processes and Dask); user errors come back as WorkerError."""
    def report(stage: str, done: int, total: int) -> None:
        if stage == "solve" and _QUEUE is not None:
            _QUEUE.put(1)

    try:
        return solve_points(problem, param, values, engine, warm_start, report, reference)
    except DssError as err:
        raise WorkerError(str(err), err.exit_code) from None


def chunks(values: Sequence[float], n: int) -> list[list[float]]:
    """Split values into at most ``n`` contiguous chunks of near-equal length."""
    n = max(1, min(n, len(values)))
    return [list(map(float, c)) for c in np.array_split(np.asarray(values, float), n)
            if len(c)]


def _run_processes(problem: Problem, param: str, parts: list[list[float]], engine: Engine,
                   warm_start: bool, progress: Report | None, reference: float | None
                   ) -> list[dict[str, Any]]:
    ctx = mp.get_context("spawn")  # never fork a process that may hold HiGHS threads
    progress_queue = ctx.Queue()
    total = sum(len(p) for p in parts)
    done = 0

    def drain() -> None:
        nonlocal done
        while True:
            try:
                done += progress_queue.get_nowait()
            except queue_mod.Empty:
                break
        if progress is not None:
            progress("solve", done, total)

    with ProcessPoolExecutor(max_workers=len(parts), mp_context=ctx,
                             initializer=_init_worker, initargs=(progress_queue,)) as pool:
        futures = [pool.submit(_chunk_job, problem, param, part, engine, warm_start,
                               reference)
                   for part in parts]
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            drain()
            failed = [f for f in finished if f.exception() is not None]
            if failed:  # stop at the first failure rather than finishing every chunk
                pool.shutdown(wait=True, cancel_futures=True)
                raise failed[0].exception()
        records = [rec for fut in futures for rec in fut.result()]
    done = total
    if progress is not None:
        progress("solve", done, total)
    return records


class ClusterError(DssError):
    """The Dask scheduler cannot be reached."""

    exit_code = 2


def _dask_client(dask: Any) -> tuple[Any, bool]:
    """A ``distributed.Client`` for an address (owned, to close) or the client given."""
    try:
        import distributed
    except ImportError:
        raise DependencyError("--dask needs Dask's distributed scheduler, which is not "
                              "installed: pip install 'dss[dask]' (or \"dask[distributed]\")"
                              ) from None
    if isinstance(dask, distributed.Client):
        return dask, False
    try:
        return distributed.Client(str(dask), timeout="20s"), True
    except OSError as err:
        raise ClusterError(f"cannot connect to the Dask scheduler at {dask} ({err}); start "
                           "one with `dask scheduler` and `dask worker ADDRESS`, or check "
                           "the address") from None


def _run_dask(dask: Any, problem: Problem, param: str, values: list[float], workers: int,
              engine: Engine, warm_start: bool, progress: Report | None,
              reference: float | None) -> tuple[list[dict[str, Any]], int]:
    """Solve the values on a Dask cluster in contiguous chunks: ``workers`` chunks if above
    1, else one per worker thread of the cluster. Returns the records and chunk count."""
    client, owned = _dask_client(dask)
    try:
        from distributed import as_completed

        n = workers if workers > 1 else max(1, sum(client.nthreads().values()))
        parts = chunks(values, n)
        shared = client.scatter(problem, broadcast=True)
        futures = [client.submit(_chunk_job, shared, param, part, engine, warm_start,
                                 reference, pure=False) for part in parts]
        sizes = {f.key: len(p) for f, p in zip(futures, parts, strict=True)}
        total = sum(sizes.values())
        done = 0
        for fut in as_completed(futures):
            if fut.status == "error":
                raise fut.exception()
            done += sizes[fut.key]
            if progress is not None:
                progress("solve", done, total)
        return [rec for part in client.gather(futures) for rec in part], len(parts)
    finally:
        if owned:
            client.close()
