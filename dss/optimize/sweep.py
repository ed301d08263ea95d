"""Parameter sweeps: re-solve a problem over a list of values of one numeric parameter.

The budget comes first: the cost-effectiveness curve :math:`z^*(B)` (optimal objective as a
function of the budget :math:`B`) and its slope, the marginal benefit of one more unit of
currency. For each point :math:`B_i` (values sorted ascending) the sweep records the
status, objective :math:`z^*(B_i)`, spend :math:`C(x^*_i)`, gap, every benefit term
:math:`B_j(x^*_i)`, and two estimates of the marginal value:

.. math::
    m_i = \\frac{z^*(B_i) - z^*(B_{i-1})}{B_i - B_{i-1}} \\quad (i \\ge 1), \\qquad
    \\lambda_i = \\frac{\\partial z^*}{\\partial B}\\Big|_{B_i}

where :math:`\\lambda_i` is the dual of the ``budget.total`` row (LP), or of that row in the
LP with every integer decision fixed at the plan (MIP, "fixed-MIP" dual). For an LP,
:math:`z^*` is concave and piecewise linear in :math:`B`, so
:math:`\\lambda_i \\le m_i \\le \\lambda_{i-1}`; for a MIP the curve is a step function
and only :math:`m_i` is meaningful across steps.

Two engines:

``persistent``
    for parameters that only change one constraint's right-hand side
    (:data:`RHS_PARAMETERS`: ``budget`` ``total``, ``per_agency.<g>``,
    ``per_township.<g>``; ``carbon`` ``minimum``). The model is built and loaded into
    HiGHS once per worker (:class:`~dss.optimize.persistent.PersistentModel`); each point
    changes one row bound and re-runs HiGHS, LP relaxation first: when the relaxation's
    optimum is integral it is the MIP's optimum, reached in a few dual simplex pivots
    (:meth:`~dss.optimize.persistent.PersistentModel.start_from_relaxation`); otherwise the
    MIP is solved. A row's bound is
    :math:`\\text{value} - a_0` where :math:`a_0` is the constant of its body, measured at
    the value the model was built with (the chunk's first, or its last if the build's
    presolve rejects the first, e.g. a budget below what is locked in). Nothing is loaded
    back into Pyomo: objective, spend and benefit terms are linear forms evaluated on
    HiGHS's column values. On a 10,000-subunit synthetic basin a 20-point sweep takes
    about 1.4 times one full solve, every point through an integral LP relaxation
    (``benchmarks/bench_sweep.py``).
``rebuild``
    for any other parameter (an action's value, a solver option, the horizon...): each
    point overrides the parameter, rebuilds and solves the model from scratch
    (:func:`with_param`, :func:`dss.optimize.solve.solve_built`). A value at which the
    model cannot be built (presolve finds it infeasible) becomes an ``infeasible`` point
    with the reason in ``note``; the sweep stops only if no value can be built.

Points run serially, on local processes (``workers``: contiguous chunks, each worker builds
its own model; processes are spawned, so a script that sweeps with workers needs the usual
``if __name__ == "__main__":`` guard) or on a Dask cluster (``dask``: a scheduler address
or a ``distributed.Client``). With ``warm_start=False`` (the default) every LP or LP
relaxation starts from the same reference basis (the optimum at the sweep's middle value)
and every MIP from scratch, so the plans and objectives do not depend on how points are
split across workers; ``warm_start=True`` keeps HiGHS's basis and incumbent between
consecutive points of a chunk (with a MIP gap above 0 a point may then stop at another plan
within the gap). The fixed-MIP LP behind the duals is always
warm-started (see :meth:`~dss.optimize.persistent.PersistentModel.dual`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dss.errors import InputError, Issue
from dss.optimize.build import ProgressFn
from dss.optimize.components.constraints import Budget
from dss.optimize.problem import Problem
from dss.optimize.sweep_params import rhs_target, with_param
from dss.optimize.sweep_points import Engine, solve_points
from dss.optimize.sweep_workers import _run_dask, _run_processes, chunks

LOGGER = logging.getLogger(__name__)


# ------------------------------------------------------------------------------- the sweep
@dataclass
class SweepResult:
    """A finished sweep.

    Attributes:
        param: The swept parameter (dotted key).
        table: One row per value (see :func:`sweep_table`).
        engine: ``persistent`` or ``rebuild``.
        backend: ``serial``, ``processes`` or ``dask``.
        workers: Number of chunks solved in parallel.
        warm_start: Whether HiGHS kept its basis and incumbent between points.
        seconds: Wall-clock time of the whole sweep.
        units: Column -> unit.
    """

    param: str
    table: pd.DataFrame
    engine: Engine
    backend: str
    workers: int
    warm_start: bool
    seconds: float
    units: dict[str, str] = field(default_factory=dict)
    is_budget: bool = False
    """Whether the swept parameter is a budget limit (in currency)."""


def sweep(problem: Problem, param: str, values: Sequence[float], *, workers: int = 1,
          dask: Any = None, warm_start: bool = False, progress: ProgressFn | None = None,
          engine: Engine | None = None) -> SweepResult:
    """Solve ``problem`` at every value of ``param`` (sorted ascending, duplicates dropped).

    Args:
        problem: The base problem (scenarios already applied).
        param: Dotted parameter, e.g. ``components.budget.total``.
        values: The values.
        workers: Local worker processes (contiguous chunks; 1 = in this process).
        dask: A Dask scheduler address or ``distributed.Client``; chunks then run on the
            cluster (one per worker thread, or ``workers`` if above 1).
        warm_start: Keep HiGHS's basis and incumbent between points (persistent engine).
        progress: ``progress(stage, done, total)`` for ``build`` and ``solve``.
        engine: Force an engine (default: persistent when the parameter only changes a
            right-hand side, else rebuild).

    Raises:
        InputError: on an invalid parameter or value (every value is validated first).
        DependencyError: if ``dask`` is given and Dask is not installed.
    """
    start = time.perf_counter()
    ordered = sorted({float(v) for v in values})
    if not ordered:
        raise InputError([Issue("--values", "give at least one value")], "invalid sweep values")
    if len(ordered) != len(values):
        LOGGER.info("sweep values sorted ascending, duplicates dropped: %d points",
                    len(ordered))
    issues = []
    for v in ordered:
        try:
            with_param(problem, param, v)
        except InputError as err:
            issues.extend(Issue(i.file, f"{param}={v:g}: {i.message}", i.row, i.column)
                          for i in err.issues)
    if issues:
        raise InputError(issues, "invalid sweep values")
    if engine is None:
        engine = "persistent" if rhs_target(problem, param) is not None else "rebuild"
    reference = float(ordered[len(ordered) // 2])  # every chunk's LP start (persistent)
    if dask is not None:
        backend = "dask"
        records, n_chunks = _run_dask(dask, problem, param, ordered, workers, engine,
                                      warm_start, progress, reference)
    elif workers > 1 and len(ordered) > 1:
        parts = chunks(ordered, workers)
        backend, n_chunks = "processes", len(parts)
        records = _run_processes(problem, param, parts, engine, warm_start, progress,
                                 reference)
    else:
        backend, n_chunks = "serial", 1
        records = solve_points(problem, param, ordered, engine, warm_start, progress,
                               reference)
    currency = problem.config.settings.currency
    is_budget = _is_budget_param(problem, param)
    table, units = sweep_table(param, records, currency, is_budget)
    seconds = time.perf_counter() - start
    LOGGER.info("sweep of %s: %d points, %s engine, %s x%d, %.2f s", param, len(ordered),
                engine, backend, n_chunks, seconds)
    return SweepResult(param, table, engine, backend, n_chunks, warm_start, seconds, units,
                       is_budget)


def _is_budget_param(problem: Problem, param: str) -> bool:
    target = rhs_target(problem, param)
    return target is not None and isinstance(problem.component(target.component), Budget)


def marginal_column(currency: str, is_budget: bool) -> str:
    """Name of the finite-difference marginal column."""
    return (f"marginal_benefit_per_{currency.lower()}" if is_budget
            else "marginal_objective_per_unit")


def sweep_table(param: str, records: list[dict[str, Any]], currency: str = "CNY",
                is_budget: bool = True) -> tuple[pd.DataFrame, dict[str, str]]:
    """The tidy sweep table (one row per value, ascending) and the unit of each column.

    Columns: ``param``, ``value``, ``status``, ``objective``, ``spend_<cur>``, ``gap``,
    ``benefit <label>`` (one per benefit term, currency), the finite-difference marginal
    :math:`m_i` (``marginal_benefit_per_<cur>`` for a budget, else
    ``marginal_objective_per_unit``), ``budget_dual_per_<cur>`` (:math:`\\lambda_i`),
    ``solve_seconds``, ``method`` (``lp``; ``mip``; ``relaxation``: a MIP point whose LP
    relaxation had an integral optimum, hence optimal without branching) and ``note`` (why
    a point has no plan when the model could not even be built at that value).
    """
    cur = currency.lower()
    records = sorted(records, key=lambda r: r["value"])
    labels: list[str] = []
    for rec in records:
        for label in rec["benefits"]:
            if label not in labels:
                labels.append(label)
    rows = []
    for rec in records:
        row = {"param": param, "value": rec["value"], "status": rec["status"],
               "objective": _num(rec["objective"]), f"spend_{cur}": _num(rec["spend"]),
               "gap": _num(rec["gap"])}
        for label in labels:
            row[f"benefit {label}"] = _num(rec["benefits"].get(label))
        rows.append(row)
    table = pd.DataFrame(rows)
    value = table["value"].to_numpy(float)
    objective = table["objective"].to_numpy(float)
    marginal = np.full(len(table), np.nan)
    if len(table) > 1:
        dv = np.diff(value)
        dz = np.diff(objective)
        with np.errstate(divide="ignore", invalid="ignore"):
            marginal[1:] = np.where(dv > 0, dz / dv, np.nan)
    mcol = marginal_column(currency, is_budget)
    table[mcol] = marginal
    table[f"budget_dual_per_{cur}"] = [_num(r["budget_dual"]) for r in records]
    table["solve_seconds"] = [float(r["solve_seconds"]) for r in records]
    table["method"] = [r.get("method", "") for r in records]
    table["note"] = [r.get("note", "") for r in records]
    units = {"param": "-", "value": currency if is_budget else "parameter unit",
             "status": "-", "objective": currency, f"spend_{cur}": currency,
             "gap": "fraction", mcol: (f"{currency} of objective per {currency}" if is_budget
                                       else f"{currency} of objective per parameter unit"),
             f"budget_dual_per_{cur}": f"{currency} of objective per {currency} of budget",
             "solve_seconds": "s", "method": "-", "note": "-"}
    units.update({f"benefit {label}": currency for label in labels})
    return table, units


def _num(value: Any) -> float:
    return float(value) if value is not None else math.nan
