"""Scenario evaluations in parallel: contiguous chunks of scenarios on local processes
(``--workers``) or on a Dask cluster (``--dask``), as budget sweeps do.

Scenarios are made in the parent (from the seed) before any chunk runs, and chunks come
back in order, so the outcomes do not depend on how many workers evaluate them.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from dss.errors import DssError
from dss.optimize.problem import Problem
from dss.optimize.sweep_workers import WorkerError, _dask_client, chunks
from dss.uncertainty.evaluate import Outcomes, evaluate_plan
from dss.uncertainty.scenarios import ScenarioSet

Report = Callable[[str, int, int], None]


def _chunk(problem: Problem, amounts: np.ndarray, scenarios: ScenarioSet,
           which: list[int]) -> Outcomes:
    """One worker's scenarios; user errors come back as a picklable WorkerError."""
    try:
        return evaluate_plan(problem, amounts, scenarios, which)
    except DssError as err:
        raise WorkerError(str(err), err.exit_code) from None


def evaluate_parallel(problem: Problem, amounts: np.ndarray, scenarios: ScenarioSet,
                      workers: int = 1, dask: Any = None,
                      progress: Report | None = None) -> tuple[Outcomes, str]:
    """:func:`evaluate_plan` over all scenarios, split in chunks.

    Returns:
        The outcomes (scenario order) and the backend used (``serial``, ``processes`` or
        ``dask``).
    """
    n = len(scenarios)
    total = n
    if dask is None and workers <= 1:
        done = 0

        def step(k: int) -> None:
            nonlocal done
            done += k
            if progress is not None:
                progress("evaluate", done, total)

        return evaluate_plan(problem, amounts, scenarios, progress=step), "serial"
    if dask is not None:
        client, owned = _dask_client(dask)
        try:
            k = workers if workers > 1 else max(1, sum(client.nthreads().values()))
            parts = [list(map(int, c)) for c in chunks(list(range(n)), k)]
            futures = [client.submit(_chunk, problem, amounts, scenarios, part, pure=False)
                       for part in parts]
            results = client.gather(futures)
        finally:
            if owned:
                client.close()
        if progress is not None:
            progress("evaluate", total, total)
        return Outcomes.join(results), "dask"

    parts = [list(map(int, c)) for c in chunks(list(range(n)), workers)]
    done = 0
    with ProcessPoolExecutor(max_workers=len(parts),
                             mp_context=mp.get_context("spawn")) as pool:
        futures = [pool.submit(_chunk, problem, amounts, scenarios, part) for part in parts]
        results = []
        for fut, part in zip(futures, parts, strict=True):
            results.append(fut.result())
            done += len(part)
            if progress is not None:
                progress("evaluate", done, total)
    return Outcomes.join(results), "processes"
