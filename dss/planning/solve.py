"""Solve a planning problem with HiGHS through the one core
(:class:`dss.optimize.core.HighsModel`: dss's own matrix compiler, then ``highspy``).

Status labels and exit codes are those of :mod:`dss.optimize.highs` (optimal 0, infeasible
3, unbounded 4, error 5, time limit 6, feasible but not proven optimal 7). An infeasible
problem is explained by :func:`explain_infeasibility`: the elastic re-solve both problem
families share (:mod:`dss.optimize.elastic`), minimising the relative target shortfalls under
the same hard constraints, and a deletion filter naming the targets in conflict.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dss.errors import DssError, SolveError
from dss.optimize.core import HighsModel
from dss.optimize.elastic import ElasticModel, Requirement
from dss.optimize.highs import EXIT_CODES
from dss.planning.compile import Model, compile_problem
from dss.planning.objectives import MinShortfallObjective
from dss.planning.penalties import Penalty
from dss.planning.plans import held_amounts
from dss.planning.reductions import fix_never_selected
from dss.planning.targets import met

if TYPE_CHECKING:  # pragma: no cover
    from dss.config.model import SolverConfig
    from dss.planning.problem import PlanningProblem

LOGGER = logging.getLogger(__name__)

SHORTFALL_COLUMNS = ["target", "feature", "zones", "target_amount", "available", "shortfall",
                     "shortfall_share", "in_conflict"]
"""Columns of a planning run's ``shortfalls.csv`` (:func:`explain_infeasibility`)."""


@dataclass(frozen=True)
class SolverOptions:
    """HiGHS options for planning problems.

    Attributes:
        time_limit: Wall-clock limit in seconds.
        gap: Relative MIP gap (0: prove optimality).
        abs_gap: Absolute MIP gap.
        threads: Solver threads (0: HiGHS chooses); a MIP with ``threads > 1`` runs as
            that many concurrent searches (:mod:`dss.optimize.concurrent`).
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


def highs_settings(options: SolverOptions) -> dict[str, Any]:
    """HiGHS options by name of a planning solve (extra ``highs`` options last)."""
    settings: dict[str, Any] = {"presolve": "on" if options.presolve else "off",
                                "random_seed": 0, "time_limit": float(options.time_limit),
                                "mip_rel_gap": float(options.gap),
                                "mip_abs_gap": float(options.abs_gap)}
    if options.threads:
        settings["threads"] = int(options.threads)
    settings.update(options.highs)
    return settings


@dataclass
class LoadedModel:
    """A compiled planning model held in HiGHS (the one core,
    :class:`~dss.optimize.persistent.HighsModel`), with the HiGHS log since the last solve."""

    core: HighsModel
    lines: list[str]

    def take_log(self) -> str:
        """The HiGHS log since the last call."""
        text = "".join(self.lines)
        self.lines.clear()
        return text


def load(model: Model, options: SolverOptions) -> LoadedModel:
    """Compile a planning model into HiGHS's matrices and load it (no solve yet).

    Raises:
        ComponentError: if a part added a component the compiler cannot translate.
        SolveError: if HiGHS refuses the model.
    """
    lines: list[str] = []

    def log(message: str) -> None:
        lines.append(message)
        if options.verbose:
            for line in message.rstrip("\n").splitlines():
                LOGGER.info("HiGHS: %s", line)

    try:
        core = HighsModel(model.m, highs_settings(options), log=log)
    except DssError:  # a located, user-facing error (a refused component, HiGHS's refusal)
        raise
    except Exception as err:  # noqa: BLE001 - any hand-off failure is a solver error
        raise SolveError(f"HiGHS could not load the model: {type(err).__name__}: {err}"
                         ) from err
    return LoadedModel(core, lines)


def read_solution(model: Model) -> np.ndarray:
    """The loaded plan as an array (units, zones); binary plans are rounded."""
    values = np.array([v.value if v.value is not None else 0.0 for v in model.decisions],
                      dtype=float)
    values = values.reshape(model.n, model.nz)
    if model.binary:
        values = np.round(values)
    return np.clip(values, 0.0, 1.0) + 0.0  # + 0.0 turns -0.0 into 0.0


def settle_penalties(model: Model, plan: np.ndarray, terms: dict[str, float]) -> float:
    """Set each penalty term of a binary plan to its value computed from the plan alone
    (:meth:`Penalty.value <dss.planning.penalties.Penalty.value>`); returns the change of the
    minimised objective.

    A penalty's auxiliary columns (:math:`z_{ij} \\ge |y_i - y_j|`, products
    :math:`w_{ij} \\le y_i, y_j`) equal their plan's values only where the objective pushes
    them there: a plan stopped at a limit, or accepted within the gap, may keep slack in
    them (an edge counted in the perimeter although both its units are in the plan), and
    the compiled term then overstates the plan's penalty. Not for proportions, where the
    product linearisation is not exact; a term without slack is left as compiled.
    """
    if not model.binary:
        return 0.0
    change = 0.0
    for penalty in model.problem.penalties:
        if not isinstance(penalty, Penalty) or penalty.name not in terms:
            continue
        exact, compiled = penalty.value(model.problem.data, plan), terms[penalty.name]
        if abs(exact - compiled) > 1e-9 * max(1.0, abs(compiled)):
            terms[penalty.name] = exact
            change += exact - compiled
    return change


def solve_model(model: Model, options: SolverOptions, loaded: LoadedModel | None = None
                ) -> PlanningResult:
    """Solve a compiled model and read its plan, objective, bound and gap.

    Args:
        model: The compiled model.
        options: Solver options.
        loaded: The model already held in HiGHS (:func:`load`; a portfolio adds its cuts
            there); None: compile and load it now.
    """
    start = time.perf_counter()
    loaded = loaded or load(model, options)
    solution = loaded.core.solve()
    seconds = time.perf_counter() - start
    termination, status = solution.termination, solution.status
    has_solution = solution.has_plan
    sense = -1.0 if model.problem.objective is not None and \
        model.problem.objective.sense == "max" else 1.0
    objective = bound = gap = None
    plan = None
    terms: dict[str, float] = {}
    if has_solution:
        loaded.core.write_values(solution.x)
        plan = read_solution(model)
        terms = {t.label: t.value() for t in model.terms if t.role != "tie_breaker"}
        objective = sense * (model.objective_value() + settle_penalties(model, plan, terms))
    raw_bound = solution.bound
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
    return PlanningResult(model.problem, status, termination, objective, bound, gap, plan,
                          terms, model.seconds, seconds, loaded.take_log())


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
    """Least relative target shortfalls that keep the other constraints, and the smallest
    set of targets in conflict: the elastic re-solve and deletion filter both problem
    families share (:class:`~dss.optimize.elastic.ElasticModel`), on the minimum-shortfall
    model (the original budget if any, penalties dropped).

    Returns:
        One row per target: ``target``, ``feature``, ``zones``, ``target_amount``,
        ``available`` (the most any plan can hold, ignoring every other constraint),
        ``shortfall`` (least amount missing), ``shortfall_share`` and ``in_conflict`` (in
        the smallest conflicting set found: relaxing any one of them makes room for the
        others); empty when the hard constraints (locks, rules, contiguity, budget) conflict
        by themselves.
    """
    if not problem.targets:
        return pd.DataFrame(columns=SHORTFALL_COLUMNS)
    budget = getattr(problem.objective, "budget", None)
    elastic = replace(problem, objective=MinShortfallObjective(budget), penalties=())
    settings = highs_settings(replace(options or SolverOptions(), time_limit=60.0))
    try:
        model = compile_problem(elastic)
        block = next(b for part, b in zip(elastic.parts(), model.blocks.values(), strict=True)
                     if part is elastic.objective)
        labels = problem.target_labels()
        reqs = [Requirement("targets", labels[k], block.shortfall[k])
                for k in block.shortfall]
        held_model = ElasticModel(model.m, reqs, settings)
        found = held_model.least_shortfalls(any_plan=True)
        if found is None:
            return pd.DataFrame(columns=SHORTFALL_COLUMNS)
        plan = read_solution(model)
        conflict, _finished = held_model.conflict_set(
            {key: value for key, value in found.items() if value > 1e-7})
    except Exception as err:  # noqa: BLE001 - an explanation is a bonus, never a failure
        LOGGER.warning("could not explain the infeasibility: %s", err)
        return pd.DataFrame(columns=SHORTFALL_COLUMNS)
    data = problem.data
    held = held_amounts(problem, plan)
    # the most any plan holds: every unit in its best zone of the target's group
    available = [float(np.maximum(data.feature_matrix(t.feature)[:, list(t.zones)], 0.0)
                       .max(axis=1).sum()) for t in problem.targets]
    is_met = met(problem.targets, held, 1e-7)
    in_conflict = {label for _owner, label in conflict}
    rows = []
    for k, (label, t) in enumerate(zip(labels, problem.targets, strict=True)):
        short = 0.0 if is_met[k] else abs(t.amount - held[k])  # excess for an upper bound
        rows.append({"target": label, "feature": data.feature_ids[t.feature],
                     "zones": "+".join(data.zones[z] for z in t.zones),
                     "target_amount": t.amount, "available": available[k],
                     "shortfall": short,
                     "shortfall_share": short / t.amount if t.amount > 0 else 0.0,
                     "in_conflict": label in in_conflict})
    return pd.DataFrame(rows, columns=SHORTFALL_COLUMNS)
