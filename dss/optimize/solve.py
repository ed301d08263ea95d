"""Solve a compiled allocation model with HiGHS through the one core; report its status.

The model goes to HiGHS through :class:`~dss.optimize.persistent.PersistentModel` (the one
core, :mod:`dss.optimize.persistent`); status labels and CLI exit codes are those of
:mod:`dss.optimize.highs` (:data:`EXIT_CODES`: optimal 0, infeasible 3, unbounded 4, error
5, time limit 6, feasible but not proven optimal 7). An infeasible problem is explained by
:func:`~dss.optimize.explain.explain_infeasibility`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from dss.errors import DssError, SolveError
from dss.optimize.build import Built, compile_problem
from dss.optimize.explain import SHORTFALL_COLUMNS, explain_infeasibility
from dss.optimize.highs import EXIT_CODES, highs_options
from dss.optimize.model_file import write_requested
from dss.optimize.persistent import PersistentModel, amounts_from
from dss.optimize.problem import Problem

__all__ = ["EXIT_CODES", "SHORTFALL_COLUMNS", "Result", "explain_infeasibility",
           "highs_options", "solve_built", "solve_problem"]

LOGGER = logging.getLogger(__name__)

DUAL_COLUMNS = ["component", "constraint", "index", "dual"]
"""Columns of ``duals.csv``."""


def empty_duals() -> pd.DataFrame:
    """A duals table without rows."""
    return pd.DataFrame(columns=DUAL_COLUMNS)


def in_background(compute: Callable[[], Any], name: str) -> Future:
    """Run ``compute`` in a worker thread and return its future.

    Used for work inside HiGHS, which releases Python's GIL while it solves: the fixed-MIP
    LP behind the duals solves while the plan is written back into the Pyomo variables. The
    thread is joined at interpreter exit (a daemon thread still inside HiGHS then made the
    C++ runtime abort).
    """
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    future = executor.submit(compute)
    executor.shutdown(wait=False)  # the task still runs to the end
    return future


@dataclass
class Result:
    """Outcome of one solve.

    Attributes:
        status: One of :data:`EXIT_CODES`' keys.
        termination: The solver's own termination condition.
        objective: Objective value of the plan (None without a plan).
        bound: Best proven bound on the objective.
        gap: Relative gap between objective and bound (0 when proven optimal).
        amounts: Amount of every option (None without a plan).
        built: The compiled model and its context.
        build_seconds: Time to build the model.
        solve_seconds: Time in the solver.
        log: The HiGHS log.
        duals: Marginal values of named constraints (LP, or MIP with integers fixed).
        shortfalls: For an infeasible study: each requirement and its least shortfall,
            the smallest conflicting set and the least budget (see
            :func:`explain_infeasibility`).
        warnings: Presolve warnings about numerically risky data.
    """

    status: str
    termination: str
    objective: float | None
    bound: float | None
    gap: float | None
    amounts: np.ndarray | None
    built: Built
    build_seconds: float
    solve_seconds: float
    log: str
    duals: pd.DataFrame = field(default_factory=lambda: empty_duals(), repr=False)
    shortfalls: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: list = field(default_factory=list)
    """Presolve warnings (:class:`~dss.errors.Issue`) about numerically risky data."""
    method: str = ""
    """How HiGHS found the plan: ``lp``, ``mip``, or ``relaxation`` (a MIP whose LP
    relaxation had an integral optimum, ``solver.relaxation_first``)."""

    @property
    def exit_code(self) -> int:
        """CLI exit code for this status."""
        return EXIT_CODES[self.status]

    @property
    def has_plan(self) -> bool:
        """Whether a plan (allocation) is available."""
        return self.amounts is not None


def _named_duals(built: Built, con_row: dict[Any, int], row_duals: np.ndarray
                 ) -> pd.DataFrame:
    """Marginal values of the constraints a planner asks about: each named constraint of
    each component that holds a row (``con_row``), its dual taken from ``row_duals``."""
    frames = []
    for comp in built.problem.components:
        block = built.blocks[comp.name]
        for con in block.component_objects(pyo.Constraint, descend_into=False):
            indices, rows = [], []
            for index, data in con.items():
                row = con_row.get(data)
                if row is not None:
                    indices.append("" if index is None else str(index))
                    rows.append(row)
            if rows:
                frames.append(pd.DataFrame({
                    "component": comp.name, "constraint": con.local_name, "index": indices,
                    "dual": row_duals[np.asarray(rows, dtype=np.int64)].astype(float)},
                    columns=DUAL_COLUMNS))
    if not frames:
        return empty_duals()
    return pd.concat(frames, ignore_index=True)


def _duals_at(pm: PersistentModel, solution: Any) -> pd.DataFrame:
    """The named duals of a solved model (empty when HiGHS gives none)."""
    try:
        row_duals = pm.last_row_duals(solution)
        if row_duals is None:
            return empty_duals()
        return _named_duals(pm.built, pm.matrix.con_row, np.asarray(row_duals, dtype=float))
    except Exception as err:  # noqa: BLE001 - duals are a bonus, never a failure
        LOGGER.warning("no duals available: %s", err)
        return empty_duals()


def solve_built(built: Built) -> Result:
    """Solve a compiled model: compile it to matrices, hand them to HiGHS, read the plan.

    The model goes to HiGHS through :class:`~dss.optimize.persistent.PersistentModel`
    (no Pyomo solver interface); the plan is loaded back into the Pyomo variables, so
    component reports can evaluate their expressions; duals are read from the same HiGHS
    instance (for a MIP, from its LP with the integer decisions fixed, solved in a
    background thread while the plan is loaded back: HiGHS releases the GIL; for a plan from
    an integral LP relaxation, the relaxation's own duals, which are that LP's).

    One HiGHS instance holds the model throughout (the LP relaxation and the fixed-MIP LP
    run in it, :meth:`~dss.optimize.core.HighsModel.relax_in_place`,
    :meth:`~dss.optimize.core.HighsModel.last_row_duals`), and it is freed before the
    result tables are made: peak memory is the model's and one solver's, not two or three
    (100,000-subunit synthetic basin: 1,290 MB before, see ``benchmarks/bench_perf.py``).
    """
    cfg = built.problem.config.solver
    lines: list[str] = []

    def log(message: str) -> None:
        lines.append(message)
        if cfg.log:
            for line in message.rstrip("\n").splitlines():
                LOGGER.info("HiGHS: %s", line)

    start = time.perf_counter()
    try:
        pm = PersistentModel(built, log=log)
    except DssError:  # a located, user-facing error (a solver error, a refused component)
        raise
    except Exception as err:  # noqa: BLE001 - any hand-off failure is a solver error
        raise SolveError(f"HiGHS could not load the model: {type(err).__name__}: {err}"
                         ) from err
    write_requested(pm.highs)  # dss solve --write-model FILE
    if cfg.relaxation_first and pm.is_mip:
        pm.relax_in_place()
    if built.ctx.phasing is not None:
        pm.start_from_working_set()
    solution = pm.solve()
    if solution.method == "relaxation":
        log(f"LP relaxation solved in {solution.seconds:.2f} s; its optimum is integral, so "
            "it is the MIP's optimum (gap 0): the MIP was not run\n")
    amounts = None
    duals: pd.DataFrame | Future = empty_duals()
    if solution.has_plan:
        if solution.status == "optimal":
            duals = in_background(lambda: _duals_at(pm, solution), "dss-duals")
        pm.write_values(solution.x)
        amounts = amounts_from(pm, solution.x)
    seconds = time.perf_counter() - start
    if isinstance(duals, Future):
        duals = duals.result()
    pm.release()  # before the result tables are made: HiGHS's memory is not needed again
    result = Result(status=solution.status, termination=solution.termination,
                    objective=solution.objective, bound=solution.bound, gap=solution.gap,
                    amounts=amounts, built=built, build_seconds=built.seconds,
                    solve_seconds=seconds, log="".join(lines),
                    warnings=list(built.warnings), method=solution.method, duals=duals)
    LOGGER.info("solve: %s (%s) objective=%s in %.2f s (HiGHS %.2f s, %s)", solution.status,
                solution.termination, solution.objective, seconds, solution.seconds,
                solution.method)
    return result


def solve_problem(problem: Problem) -> Result:
    """Compile and solve a problem; on infeasibility, attach the shortfall explanation."""
    built = compile_problem(problem)
    result = solve_built(built)
    if result.status == "infeasible":
        result.shortfalls = explain_infeasibility(problem)
    return result
