"""Solve a planning problem with HiGHS (Pyomo's ``pyomo.contrib.solver.solvers.highs.Highs``).

Status labels and exit codes are those of :mod:`dss.optimize.solve` (optimal 0, infeasible
3, unbounded 4, error 5, time limit 6, feasible but not proven optimal 7). An infeasible
problem is explained by :func:`explain_infeasibility`: an elastic re-solve that minimises the
relative target shortfalls under the same hard constraints.
"""

from __future__ import annotations

import io
import logging
import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dss.errors import SolveError
from dss.optimize.solve import EXIT_CODES
from dss.planning.compile import Model, compile_problem
from dss.planning.reductions import fix_never_selected

if TYPE_CHECKING:  # pragma: no cover
    from dss.config.model import SolverConfig
    from dss.planning.problem import PlanningProblem

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class SolverOptions:
    """HiGHS options for planning problems.

    Attributes:
        time_limit: Wall-clock limit in seconds.
        gap: Relative MIP gap (0: prove optimality).
        abs_gap: Absolute MIP gap.
        threads: Solver threads (0: HiGHS chooses).
        presolve: Run HiGHS presolve.
        verbose: Echo the HiGHS log to the logger.
        highs: Extra HiGHS options by name (e.g. ``{"mip_heuristic_effort": 0.1}``).
    """

    time_limit: float = 300.0
    gap: float = 0.0
    abs_gap: float = 1e-6
    threads: int = 1
    presolve: bool = True
    verbose: bool = False
    highs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: SolverConfig, **extra: Any) -> SolverOptions:
        """Options from a model file's ``solver`` section."""
        return cls(time_limit=config.time_limit, gap=config.mip_gap, threads=config.threads,
                   presolve=config.presolve, verbose=config.log, **extra)


@dataclass
class PlanningResult:
    """Outcome of one planning solve.

    Attributes:
        problem: The problem solved.
        status: One of ``optimal``, ``feasible``, ``time_limit``, ``infeasible``,
            ``unbounded``, ``error``.
        termination: HiGHS's termination condition.
        objective: Objective value in its natural sense (cost for the minimum set, utility
            minus penalties for maximum utility, ...); None without a plan.
        bound: Best proven bound on the objective (same sense).
        gap: Relative gap between objective and bound.
        solution: Plan, shape (units, zones): 1 where a unit is in a zone (binary) or the
            share (proportions); None without a plan.
        terms: Value of each objective term (cost, utility, each penalty) at the plan.
        build_seconds: Time to compile.
        solve_seconds: Time in HiGHS.
        log: The HiGHS log.
        shortfalls: For an infeasible problem: each target and its least relative shortfall.
    """

    problem: PlanningProblem
    status: str
    termination: str
    objective: float | None
    bound: float | None
    gap: float | None
    solution: np.ndarray | None
    terms: dict[str, float]
    build_seconds: float
    solve_seconds: float
    log: str
    shortfalls: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def exit_code(self) -> int:
        """CLI exit code of the status."""
        return EXIT_CODES[self.status]

    @property
    def has_plan(self) -> bool:
        """Whether a plan is available."""
        return self.solution is not None

    def selected(self, zones: tuple[str, ...] | list[str] | None = None) -> np.ndarray:
        """:math:`y_i^G` of the plan for a zone group (default every zone)."""
        if self.solution is None:
            raise SolveError("no plan: the problem was not solved to a feasible plan")
        group = self.problem.data.zone_positions(zones)
        return self.solution[:, list(group)].sum(axis=1)

    def zone_of(self, unassigned: str = "") -> list[str]:
        """Zone of each unit in a binary plan (``unassigned`` where in none)."""
        if self.solution is None:
            raise SolveError("no plan: the problem was not solved to a feasible plan")
        zones = self.problem.data.zones
        out = []
        for row in self.solution:
            k = int(np.argmax(row))
            out.append(zones[k] if row[k] > 0.5 else unassigned)
        return out


def _highs() -> Any:
    try:
        from pyomo.contrib.solver.solvers.highs import Highs
    except ImportError as err:  # pragma: no cover - depends on the installed Pyomo
        raise SolveError(f"Pyomo's HiGHS interface is unavailable ({err}); install "
                         "pyomo>=6.8 and highspy") from None
    solver = Highs()
    if not solver.available():  # pragma: no cover
        raise SolveError("HiGHS is not available: install it with `pip install highspy`")
    return solver


def status_of(termination: str, has_solution: bool) -> str:
    """dss status label of a Pyomo termination condition."""
    name = termination.lower()
    if "convergencecriteriasatisfied" in name:
        return "optimal"
    if "infeasible" in name:
        return "infeasible"
    if "unbounded" in name:
        return "unbounded"
    if "maxtimelimit" in name:
        return "time_limit"
    return "feasible" if has_solution else "error"


def run(model: Model, options: SolverOptions) -> tuple[Any, float, str]:
    """Run HiGHS on a compiled model; returns (results, seconds, log)."""
    solver = _highs()
    log = io.StringIO()
    streams: list[Any] = [log]
    if options.verbose:
        streams.append(LOGGER)
    highs_options: dict[str, Any] = {"presolve": "on" if options.presolve else "off",
                                     "random_seed": 0, **options.highs}
    start = time.perf_counter()
    try:
        results = solver.solve(model.m, tee=streams, time_limit=options.time_limit,
                               rel_gap=options.gap, abs_gap=options.abs_gap,
                               threads=options.threads or None, load_solutions=False,
                               raise_exception_on_nonoptimal_result=False,
                               solver_options=highs_options)
    except Exception as err:  # noqa: BLE001 - any solver crash is a SolveError
        raise SolveError(f"HiGHS failed: {type(err).__name__}: {err}") from err
    return results, time.perf_counter() - start, log.getvalue()


def read_solution(model: Model) -> np.ndarray:
    """The loaded plan as an array (units, zones); binary plans are rounded."""
    values = np.array([v.value if v.value is not None else 0.0 for v in model.decisions],
                      dtype=float)
    values = values.reshape(model.n, model.nz)
    if model.binary:
        values = np.round(values)
    return np.clip(values, 0.0, 1.0) + 0.0  # + 0.0 turns -0.0 into 0.0


def solve_model(model: Model, options: SolverOptions) -> PlanningResult:
    """Solve a compiled model and read its plan, objective, bound and gap."""
    results, seconds, log = run(model, options)
    termination = str(results.termination_condition).split(".")[-1]
    sol_status = str(getattr(results, "solution_status", "")).lower()
    has_solution = ("optimal" in sol_status or "feasible" in sol_status) and \
        "infeasible" not in sol_status
    status = status_of(termination, has_solution)
    sense = -1.0 if model.problem.objective is not None and \
        model.problem.objective.sense == "max" else 1.0
    objective = bound = gap = None
    solution = None
    terms: dict[str, float] = {}
    if has_solution:
        results.solution_loader.load_vars()
        solution = read_solution(model)
        objective = sense * model.objective_value()
        terms = {t.label: t.value() for t in model.terms if t.role != "tie_breaker"}
    raw_bound = results.objective_bound
    if raw_bound is not None and math.isfinite(raw_bound):
        # the bound of the objective without prioritizr's tie-breaking cost term (<= 0.01)
        tie = model.objective_value(True) - model.objective_value() if has_solution else 0.0
        bound = sense * (float(raw_bound) - tie)
    if objective is not None and bound is not None:
        gap = abs(bound - objective) / max(abs(objective), 1.0)  # 1: no blow-up at 0
        if status == "optimal" and abs(bound - objective) <= max(options.abs_gap, 1e-9):
            gap = 0.0
    if status == "time_limit" and not has_solution:
        LOGGER.warning("time limit reached without a plan")
    LOGGER.info("planning solve: %s (%s) objective=%s bound=%s in %.2f s", status,
                termination, objective, bound, seconds)
    return PlanningResult(model.problem, status, termination, objective, bound, gap, solution,
                          terms, model.seconds, seconds, log)


def solve(problem: PlanningProblem, options: SolverOptions | None = None) -> PlanningResult:
    """Compile and solve a problem; explain an infeasible one (:func:`explain_infeasibility`).

    Raises:
        InputError: if the problem is incomplete or inconsistent (every problem at once).
        SolveError: if HiGHS fails.
    """
    options = options or SolverOptions()
    model = compile_problem(problem)
    fix_never_selected(model)  # exact: units no optimal plan needs (dss.planning.reductions)
    result = solve_model(model, options)
    if result.status == "infeasible":
        result.shortfalls = explain_infeasibility(problem, options)
    return result


def explain_infeasibility(problem: PlanningProblem, options: SolverOptions | None = None
                          ) -> pd.DataFrame:
    """Least relative target shortfalls that keep the other constraints (an elastic
    re-solve: the minimum-shortfall objective, with the original budget if any).

    Returns:
        One row per target: ``target``, ``feature``, ``zones``, ``target_amount``,
        ``available`` (the most any plan can hold, ignoring every other constraint),
        ``shortfall`` (least amount missing) and ``shortfall_share``; empty when the hard
        constraints (locks, rules, contiguity, budget) conflict by themselves.
    """
    from dss.planning.objectives import MinShortfallObjective

    columns = ["target", "feature", "zones", "target_amount", "available", "shortfall",
               "shortfall_share"]
    if not problem.targets:
        return pd.DataFrame(columns=columns)
    budget = getattr(problem.objective, "budget", None)
    elastic = replace(problem, objective=MinShortfallObjective(budget), penalties=())
    try:
        result = solve_model(compile_problem(elastic), replace(options or SolverOptions(),
                                                               time_limit=60.0))
    except Exception as err:  # noqa: BLE001 - an explanation is a bonus, never a failure
        LOGGER.warning("could not explain the infeasibility: %s", err)
        return pd.DataFrame(columns=columns)
    if result.solution is None:
        return pd.DataFrame(columns=columns)
    from dss.planning.evaluate import held_amounts

    data = problem.data
    held = held_amounts(problem, result.solution)
    # the most any plan holds: every unit in its best zone of the target's group
    available = [float(np.maximum(data.feature_matrix(t.feature)[:, list(t.zones)], 0.0)
                       .max(axis=1).sum()) for t in problem.targets]
    from dss.planning.targets import met

    is_met = met(problem.targets, held, 1e-7)
    rows = []
    for k, (label, t) in enumerate(zip(problem.target_labels(), problem.targets, strict=True)):
        short = 0.0 if is_met[k] else abs(t.amount - held[k])  # excess for an upper bound
        rows.append({"target": label, "feature": data.feature_ids[t.feature],
                     "zones": "+".join(data.zones[z] for z in t.zones),
                     "target_amount": t.amount, "available": available[k],
                     "shortfall": short,
                     "shortfall_share": short / t.amount if t.amount > 0 else 0.0})
    return pd.DataFrame(rows, columns=columns)
