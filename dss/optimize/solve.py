"""Solve a compiled model with HiGHS (through Pyomo's highspy interface); map its status.

This is the only module that talks to a solver. Status labels and CLI exit codes:

========================  =========  ==================================================
status                    exit code  meaning
========================  =========  ==================================================
``optimal``               0          proven optimal (MIP: within the configured gap)
``feasible``              7          a plan was found but optimality was not proven
``time_limit``            6          stopped at the time limit; best plan kept, gap given
``infeasible``            3          no plan meets every requirement (explained)
``unbounded``             4          the objective can grow without limit (model error)
``error``                 5          the solver failed or is missing
========================  =========  ==================================================
"""

from __future__ import annotations

import io
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
from dss.optimize.model_file import write_requested
from dss.optimize.persistent import PersistentModel, amounts_from
from dss.optimize.problem import Problem

LOGGER = logging.getLogger(__name__)

EXIT_CODES = {"optimal": 0, "infeasible": 3, "unbounded": 4, "error": 5, "time_limit": 6,
              "feasible": 7}


DUAL_COLUMNS = ["component", "constraint", "index", "dual"]
"""Columns of ``duals.csv``."""


def empty_duals() -> pd.DataFrame:
    """A duals table without rows."""
    return pd.DataFrame(columns=DUAL_COLUMNS)


def in_background(compute: Callable[[], Any], name: str) -> Future:
    """Run ``compute`` in a worker thread and return its future.

    Used for work inside HiGHS, which releases Python's GIL while it solves: the fixed-MIP
    LP behind the duals solves while the result tables are made. The thread is joined at
    interpreter exit (a daemon thread still inside HiGHS then made the C++ runtime abort).
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
        duals: Marginal values of named constraints (LP, or MIP with integers fixed); may
            still be computing in the background when the result is returned (reading the
            attribute waits for them, see :func:`in_background`).
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
    _duals: pd.DataFrame | Future = field(default_factory=lambda: empty_duals(),
                                              repr=False)
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
    def duals(self) -> pd.DataFrame:
        """Marginal values of named constraints (waits for a background computation)."""
        if isinstance(self._duals, Future):
            self._duals = self._duals.result()
        return self._duals

    @duals.setter
    def duals(self, value: pd.DataFrame | Future) -> None:
        self._duals = value

    @property
    def has_plan(self) -> bool:
        """Whether a plan (allocation) is available."""
        return self.amounts is not None


def _highs():
    try:
        from pyomo.contrib.solver.solvers.highs import Highs
    except ImportError as err:  # pragma: no cover - depends on the installed Pyomo
        raise SolveError(f"Pyomo's HiGHS interface is unavailable ({err}); install "
                         "pyomo>=6.8 and highspy") from None
    solver = Highs()
    if not solver.available():
        raise SolveError("HiGHS is not available: install it with `pip install highspy`")
    return solver


def highs_options(cfg: Any) -> dict[str, Any]:
    """HiGHS options of a :class:`~dss.config.model.SolverConfig` (time limit and gap included).

    Also used by ``benchmarks/bench_perf.py`` so the direct-highspy reference solves with
    exactly the options dss uses.

    Defaults: ``method: choose`` (HiGHS picks; dual simplex on these models), presolve on.
    Measured on the synthetic basin (``dss.synth``, 8 actions, one thread, HiGHS 1.16, a quiet
    2-core machine, the same matrices ``dss solve`` hands HiGHS; seconds in ``run``):

    =====================  =======  ========  ======  =======
    variant                MIP 10k  MIP 100k  LP 10k  LP 100k
    =====================  =======  ========  ======  =======
    choose                 0.64     9.48      0.18    2.95
    simplex                0.61     8.67      0.19    3.08
    ipm                    0.62     9.41      0.48    8.63
    ipm, no crossover      0.60     8.90      10.15   -
    choose, no presolve    0.36     6.39      0.05    -
    ipm, no presolve       0.35     6.46      0.59    -
    =====================  =======  ========  ======  =======

    (MIP: 48,599 / 487,037 columns; LP: the same with integrality dropped.) Interior point
    does not pay here, unlike on models dominated by routing equalities: these rows are
    short and the LP relaxation is nearly integral, so dual simplex wins, and in a MIP the
    ``solver`` option only affects the root LP. Switching presolve off made the synthetic
    MIP 1.5-1.8 times faster; it stays on by default because presolve is what keeps harder
    MIPs (fixed costs, zone requirements, tight targets) tractable, and the choice changes
    which of several equally good plans is reported. Set ``solver.presolve: false`` in a
    large model file after measuring there (``python benchmarks/bench_perf.py``).
    """
    options: dict[str, Any] = {"presolve": "on" if cfg.presolve else "off",
                               "solver": cfg.method, "random_seed": 0,
                               "time_limit": float(cfg.time_limit),
                               "mip_rel_gap": float(cfg.mip_gap)}
    if cfg.threads:
        options["threads"] = cfg.threads
    return options


def run_highs(built: Built, log: io.StringIO, solver: Any = None) -> tuple[Any, float]:
    """Run HiGHS on a built model with the configured options (in ``solver`` if given, a
    fresh Pyomo HiGHS interface otherwise; the caller can then reuse its instance)."""
    cfg = built.problem.config.solver
    solver = _highs() if solver is None else solver
    options = {k: v for k, v in highs_options(cfg).items()
               if k not in ("time_limit", "mip_rel_gap")}
    streams: list[Any] = [log]
    if cfg.log:
        streams.append(LOGGER)
    start = time.perf_counter()
    try:
        results = solver.solve(built.model, tee=streams, time_limit=cfg.time_limit,
                               rel_gap=cfg.mip_gap, load_solutions=False,
                               raise_exception_on_nonoptimal_result=False,
                               solver_options=options)
    except Exception as err:  # noqa: BLE001 - report any solver crash as a SolveError
        raise SolveError(f"HiGHS failed: {type(err).__name__}: {err}") from err
    return results, time.perf_counter() - start


def _named_duals(built: Built, duals: dict[Any, float]) -> pd.DataFrame:
    """Marginal values of the constraints a planner asks about."""
    rows = []
    for comp in built.problem.components:
        block = built.blocks[comp.name]
        for con in block.component_objects(pyo.Constraint, descend_into=False):
            for index, data in con.items():
                if data in duals:
                    rows.append({"component": comp.name, "constraint": con.local_name,
                                 "index": "" if index is None else str(index),
                                 "dual": float(duals[data])})
    return pd.DataFrame(rows, columns=DUAL_COLUMNS)


def _duals_at(pm: PersistentModel, solution: Any) -> pd.DataFrame:
    """The named duals of a solved model (empty when HiGHS gives none)."""
    try:
        row_duals = pm.row_duals(solution)
        if row_duals is None:
            return empty_duals()
        return _named_duals(pm.built, {con: float(row_duals[row])
                                       for con, row in pm.matrix.con_row.items()})
    except Exception as err:  # noqa: BLE001 - duals are a bonus, never a failure
        LOGGER.warning("no duals available: %s", err)
        return empty_duals()


def solve_built(built: Built) -> Result:
    """Solve a compiled model: compile it to matrices, hand them to HiGHS, read the plan.

    The model goes to HiGHS through :class:`~dss.optimize.persistent.PersistentModel`
    (no Pyomo solver interface); the plan is loaded back into the Pyomo variables, so
    component reports can evaluate their expressions; duals are read from the same HiGHS
    instance (for a MIP, from its LP with the integer decisions fixed). The duals are
    computed in a background thread while the caller goes on (HiGHS releases the GIL), and
    :attr:`Result.duals` waits for them.
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
        pm.start_from_relaxation()
    solution = pm.solve()
    pm.drop_relaxation()  # one solve here: free it before the duals' copy is made
    if solution.method == "relaxation":
        log(f"LP relaxation solved in {solution.seconds:.2f} s; its optimum is integral, so "
            "it is the MIP's optimum (gap 0): the MIP was not run\n")
    amounts = None
    duals: pd.DataFrame | Future = empty_duals()
    if solution.has_plan:
        if solution.status == "optimal":
            duals = in_background(lambda: _duals_at(pm, solution), "dss-duals")
        x = solution.x
        for var, value in zip(pm.matrix.columns, x.tolist(), strict=True):
            if not var.fixed:
                var.set_value(value, skip_validation=True)
        amounts = amounts_from(pm, x)
    seconds = time.perf_counter() - start
    result = Result(status=solution.status, termination=solution.termination,
                    objective=solution.objective, bound=solution.bound, gap=solution.gap,
                    amounts=amounts, built=built, build_seconds=built.seconds,
                    solve_seconds=seconds, log="".join(lines),
                    warnings=list(built.warnings), method=solution.method)
    result.duals = duals
    LOGGER.info("solve: %s (%s) objective=%s in %.2f s (HiGHS %.2f s, %s)", solution.status,
                solution.termination, solution.objective, seconds, solution.seconds,
                solution.method)
    return result


SHORTFALL_COLUMNS = ["kind", "component", "requirement", "target", "unit", "shortfall",
                     "in_conflict", "note"]
"""Columns of ``shortfalls.csv``: one ``requirement`` row per elastic requirement, then one
``budget`` row (target = the budget, shortfall = how much more is needed)."""


def explain_infeasibility(problem: Problem) -> pd.DataFrame:
    """Explain an infeasible problem (see :mod:`dss.optimize.explain`).

    1. Re-solve with every requirement made elastic: the least shortfall of each.
    2. A deletion filter over the requirements: the smallest conflicting set found
       (``in_conflict``; none when the hard constraints conflict on their own).
    3. Re-solve minimising cost with the total budget removed and every requirement hard:
       the least budget that makes the problem feasible, or that none suffices.

    Returns:
        One row per requirement (kind ``requirement``: component, requirement, target,
        unit, shortfall = the least amount by which it must be relaxed given the other hard
        constraints such as the budget, in_conflict) and one ``budget`` row (target = the
        total budget, shortfall = the least increase that makes every requirement
        feasible, empty if no budget suffices; note = the explanation in words).
    """
    from dss.optimize.explain import conflict_set, least_budget

    elastic = compile_problem(problem, elastic=True)
    log = io.StringIO()
    results, _ = run_highs(elastic, log)
    parts = []
    if "convergencecriteriasatisfied" in str(results.termination_condition).lower():
        results.solution_loader.load_vars()
        for comp in problem.components:
            table = comp.report(elastic.blocks[comp.name], elastic.ctx, None).get(
                "requirements")
            if table is not None and len(table):
                parts.append(table)
    table = (pd.concat(parts, ignore_index=True) if parts else
             pd.DataFrame(columns=["component", "requirement", "target", "unit", "shortfall"]))
    table["shortfall"] = table["shortfall"].astype(float)
    table["shortfall"] = table["shortfall"].where(table["shortfall"] > 1e-7, 0.0)
    table.insert(0, "kind", "requirement")
    short = {(c, r): float(v) for c, r, v in zip(table["component"], table["requirement"],
                                                 table["shortfall"], strict=True)}
    conflict, finished = conflict_set(elastic, short)
    table["in_conflict"] = [(c, r) in set(conflict) for c, r in
                            zip(table["component"], table["requirement"], strict=True)]
    table["note"] = ""
    if conflict and not finished:
        table.loc[table["in_conflict"], "note"] = "conflicting (the search stopped early: " \
                                                  "perhaps not the smallest set)"
    need = least_budget(problem)
    extra = 0.0 if need.least is None or need.budget is None else max(
        0.0, need.least - need.budget)
    row = {"kind": "budget", "component": need.component or "budget",
           "requirement": "least total budget meeting every requirement",
           "target": need.budget if need.budget is not None else np.nan, "unit": "CNY",
           "shortfall": extra if need.least is not None else np.nan,
           "in_conflict": bool(need.least is not None and extra > 0), "note": need.note}
    table = pd.concat([table, pd.DataFrame([row])], ignore_index=True) if len(table) else \
        pd.DataFrame([row])
    return table[SHORTFALL_COLUMNS]


def solve_problem(problem: Problem) -> Result:
    """Compile and solve a problem; on infeasibility, attach the shortfall explanation."""
    built = compile_problem(problem)
    result = solve_built(built)
    if result.status == "infeasible":
        result.shortfalls = explain_infeasibility(problem)
    return result
