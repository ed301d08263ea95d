"""Concurrent MIP search: several HiGHS branch-and-bound searches of one model at once,
sharing every improved plan, stopped when the first one finishes.

HiGHS searches a MIP's branch-and-bound tree with one worker, whatever its ``threads``
option (its threads serve the parallel simplex and symmetry detection; on the 1,751-unit
Tasmania Marxan project ``parallel=on threads=2`` explored the very same nodes). Its run
time on hard MIPs varies widely with the random seed: on that project, at dss's default
gap, from 30 s to over 200 s over seeds 0-6, and two searches took 27-53 s (README, "Speed
at scale"). With ``threads = k > 1`` dss instead runs
``k`` searches of the same model, each with one thread, in ``k`` threads of this process
(HiGHS gives every calling thread its own scheduler and ``highspy`` releases the GIL while
HiGHS runs):

- worker 0 is the model's own HiGHS instance with its own options and log;
- worker ``w > 0`` is a copy with ``random_seed + w`` and, on odd ``w``, a larger
  heuristic effort (:data:`FINDER_OPTIONS`): a portfolio of one search that proves and one
  that looks for plans, as in the concurrent MIP of commercial solvers and HiGHS's own
  prototype (ERGO-Code/HiGHS pull request 2441);
- a plan better than a worker's incumbent, found by any worker, is handed to it through
  HiGHS's user-solution callback, so every search prunes with the best plan known;
- the first search to finish (proven optimal or infeasible, or a limit) stops the others
  through HiGHS's interrupt callback, and its result is the result.

The plan returned is proven optimal within the gap like any other, but which of several
plans of (almost) equal objective it is can depend on timing: runs with ``threads: 1``
(the default) are the reproducible ones.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dss.errors import SolveError
from dss.optimize import highs as core

LOGGER = logging.getLogger(__name__)

FINDER_OPTIONS: dict[str, Any] = {"mip_heuristic_effort": 1.0}
"""Options of the odd workers, which look for plans (HiGHS's default effort is 0.05)."""


@dataclass
class _Shared:
    """The best plan found so far by any worker, and the stop signal."""

    objective: float = float("inf")
    x: np.ndarray | None = None
    version: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    first: int | None = None
    shared_plans: int = 0
    n_cols: int | None = None  # the model's columns: a plan of any other length is not shared


def worker_options(options: dict[str, Any], worker: int) -> dict[str, Any]:
    """HiGHS options of worker ``worker`` (0: the model's own) of a concurrent search."""
    settings = dict(options)
    settings["threads"] = 1
    settings["random_seed"] = int(options.get("random_seed", 0)) + worker
    if worker % 2 == 1:
        settings.update(FINDER_OPTIONS)
    return settings


def _attach(highs: Any, shared: _Shared, sense: float) -> None:
    """Share improved plans with the other workers and stop when told (HiGHS callbacks)."""
    seen = {"version": 0}

    def improving(event: Any) -> None:
        value = sense * float(event.data_out.objective_function_value)
        x = np.array(event.data_out.mip_solution, dtype=float)
        if shared.n_cols is not None and x.size != shared.n_cols:
            return
        with shared.lock:
            if value < shared.objective:
                shared.objective, shared.x = value, x
                shared.version += 1
                seen["version"] = shared.version

    def user_solution(event: Any) -> None:
        event.data_in.user_has_solution = False  # HiGHS keeps it between calls and runs
        with shared.lock:
            if shared.version == seen["version"] or shared.x is None:
                return
            seen["version"] = shared.version
            own = sense * float(event.data_out.mip_primal_bound)
            if shared.objective < own:
                event.data_in.setSolution(shared.x)
                shared.shared_plans += 1

    def interrupt(event: Any) -> None:
        # written every time: HiGHS keeps the flag between runs of the same instance
        event.data_in.user_interrupt = shared.stop.is_set()

    highs.cbMipImprovingSolution += improving
    highs.cbMipUserSolution += user_solution
    highs.cbMipInterrupt += interrupt


def run(highs: Any, options: dict[str, Any], is_mip: bool) -> tuple[Any, float]:
    """Run HiGHS on its loaded model: a MIP with ``threads = k > 1`` as ``k`` concurrent
    searches (:func:`search`), anything else alone (:func:`dss.optimize.highs.run`).
    Returns the instance holding the result and the wall-clock seconds."""
    workers = int(options.get("threads", 1) or 1)
    if not is_mip or workers < 2:
        return highs, core.run(highs)
    core.raise_if_interrupted()
    return search(highs, options, workers)


def search(main: Any, options: dict[str, Any], workers: int) -> tuple[Any, float]:
    """Run ``workers`` concurrent searches of the MIP loaded in ``main`` (see the module);
    returns the HiGHS instance whose result is the result, and the wall-clock seconds.

    Args:
        main: The HiGHS instance holding the model (worker 0); its options are set here to
            :func:`worker_options` of worker 0 for the run and restored after it.
        options: The model's HiGHS options by name.
        workers: Number of searches (at least 2).

    Raises:
        SolveError: if HiGHS fails in any worker.
    """
    start = time.perf_counter()
    hs = core.highspy_module()
    lp = main.getLp()
    sense = -1.0 if lp.sense_ == hs.ObjSense.kMaximize else 1.0
    instances = [main]
    for worker in range(1, workers):
        copy = core.new_highs()
        core.configure(copy, worker_options(options, worker))
        copy.setOptionValue("output_flag", False)
        core.load(copy, lp)
        instances.append(copy)
    del lp
    core.configure(main, worker_options(options, 0))
    shared = _Shared(n_cols=int(main.getNumCol()))
    for highs in instances:
        _attach(highs, shared, sense)
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            instances[worker].run()
        except BaseException as err:  # noqa: BLE001 - reported in the calling thread
            failures.append(err)
        finally:
            with shared.lock:
                if shared.first is None:
                    shared.first = worker
            shared.stop.set()

    threads = [threading.Thread(target=work, args=(w,), name=f"dss-mip-{w}")
               for w in range(workers)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():  # a timed join lets Ctrl+C through to this thread
                thread.join(0.25)
    finally:  # on Ctrl+C too: every search stopped before leaving
        shared.stop.set()
        for thread in threads:
            thread.join()
        for highs in instances:
            _detach(highs)
        core.configure(main, options)
    core.raise_if_interrupted()  # Ctrl+C that ended worker 0's run (its log callback)
    if any(isinstance(err, KeyboardInterrupt) for err in failures):
        raise KeyboardInterrupt
    if failures:
        raise SolveError(f"HiGHS failed: {type(failures[0]).__name__}: {failures[0]}")
    first = shared.first or 0
    winner = _result_of(instances, first)
    seconds = time.perf_counter() - start
    LOGGER.info("concurrent MIP search: %d workers; worker %d finished first (%s) in %.2f s, "
                "result of worker %d; %d plans handed between workers", workers, first,
                instances[first].getModelStatus(), seconds, winner, shared.shared_plans)
    return instances[winner], seconds


def _detach(highs: Any) -> None:
    """Remove this module's callbacks (the instance may be solved again alone)."""
    for event in (highs.cbMipImprovingSolution, highs.cbMipUserSolution,
                  highs.cbMipInterrupt):
        event.clear()


def _result_of(instances: list[Any], first: int) -> int:
    """The worker whose result is reported: the first to finish (its status and bound are
    the run's; it holds every plan the others found before), unless it stopped without a
    plan that another worker has."""
    if int(instances[first].getInfo().primal_solution_status) == 2:
        return first
    with_plan = [w for w, h in enumerate(instances)
                 if int(h.getInfo().primal_solution_status) == 2]
    return with_plan[0] if with_plan else first
