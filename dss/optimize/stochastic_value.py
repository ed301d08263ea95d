"""The value of the stochastic solution and the expected value of perfect information of a
problem with a ``stochastic_benefit`` objective (maximisation; Birge and Louveaux).

- RP, the recourse problem: the stochastic problem's optimum (the measure of the benefit over
  the scenarios, minus the cost weight times the cost).
- EV plan: the same problem made deterministic on the expected inputs (every uncertain
  number at its probability-weighted mean, :func:`dss.uncertainty.scenarios.mean_study`):
  ``max_benefit`` instead of ``stochastic_benefit``, ``load_limits`` instead of
  ``chance_limits``.
- EEV: the EV plan judged on the scenarios: the stochastic problem solved with the decisions
  fixed at the EV plan (infeasible when the EV plan breaks a scenario's limits).
- VSS = RP - EEV >= 0: the EV plan is one of the plans RP chooses among.
- WS, wait and see: the measure, over the scenarios, of the best benefit of each scenario
  alone (each solved with its own numbers; robust limits kept for that scenario, chance
  limits below a share of 1 left out, so that RP's plan stays a candidate in every one).
- EVPI = WS - RP >= 0: every scenario's optimum is at least RP's plan's benefit in it, and
  the mean, CVaR and minimum are monotone and shift with a constant.

Every problem is solved through :meth:`Problem.solve` (the one solver path).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dss.errors import InputError, Issue
from dss.optimize.build import compile_problem
from dss.optimize.components.benefits import LoadLimits
from dss.optimize.components.objectives import MaxBenefit
from dss.optimize.components.scenario_data import option_map
from dss.optimize.components.stochastic import ChanceLimits, StochasticBenefit, risk_measure
from dss.optimize.problem import Problem
from dss.optimize.solve import Result, solve_built
from dss.uncertainty.scenarios import mean_study, scenario_set


def _objective(problem: Problem) -> StochasticBenefit:
    objective = problem.objective()
    if not isinstance(objective, StochasticBenefit):
        raise InputError([Issue(problem.source, "the value of the stochastic solution needs a "
                                                "stochastic_benefit objective", None,
                                "components")], "not a stochastic problem")
    return objective


def _with(problem: Problem, replacements: dict[str, object | None]) -> Problem:
    """The problem with components replaced (None: removed)."""
    comps = []
    for comp in problem.components:
        if comp.name not in replacements:
            comps.append(comp)
        elif replacements[comp.name] is not None:
            comps.append(replacements[comp.name])
    return Problem(problem.study, problem.config, tuple(comps), problem.model)


def expected_value_problem(problem: Problem) -> Problem:
    """The deterministic problem on the expected inputs (see the module docstring)."""
    objective = _objective(problem)
    p = objective.params
    scenarios = scenario_set(problem.study, p.scenarios, p.draws, p.seed)
    swap: dict[str, object | None] = {
        objective.name: MaxBenefit(objective.name, cost_weight=p.cost_weight)}
    for comp in problem.components:
        if isinstance(comp, ChanceLimits):
            q = comp.params
            swap[comp.name] = LoadLimits(comp.name, limits=q.limits, reductions=q.reductions,
                                         use_table_limits=q.use_table_limits)
    ev = _with(problem, swap)
    return Problem(mean_study(problem.study, scenarios), ev.config, ev.components, ev.model)


def wait_and_see_problem(problem: Problem, s: int) -> Problem:
    """The problem of scenario ``s`` alone (see the module docstring)."""
    swap: dict[str, object | None] = {}
    for comp in problem.components:
        if isinstance(comp, StochasticBenefit | ChanceLimits):
            keep = isinstance(comp, StochasticBenefit) or comp.params.share >= 1.0
            swap[comp.name] = type(comp)(comp.name, **{**comp.params.model_dump(),
                                                       "only": s}) if keep else None
    return _with(problem, swap)


def fixed_plan_value(problem: Problem, amounts_by_option: pd.DataFrame) -> float | None:
    """The problem's optimum with the decisions fixed at a plan (None if infeasible).

    Args:
        problem: The problem.
        amounts_by_option: Columns subunit_id, action_id, amount (other options: 0).
    """
    built = compile_problem(problem)
    where = option_map(built.ctx.options, amounts_by_option)
    x = np.where(where >= 0, np.append(amounts_by_option["amount"].to_numpy(float), 0.0)[where],
                 0.0)
    for var, value in zip(built.ctx.amount_vars, x.tolist(), strict=True):
        var.fix(value)
    result = solve_built(built)
    return float(result.objective) if result.status == "optimal" else None


def value_tables(result: Result) -> dict[str, pd.DataFrame]:
    """``stochastic_value.csv`` of a solve whose objective is a stochastic_benefit with
    ``value_of_information`` (and no ``only``), keyed by file stem; else no table."""
    problem = result.built.problem
    objective = problem.objective()
    if (not result.has_plan or not isinstance(objective, StochasticBenefit)
            or not objective.params.value_of_information or objective.params.only is not None):
        return {}
    return {"stochastic_value": value_table(problem, float(result.objective))}


def value_table(problem: Problem, rp: float) -> pd.DataFrame:
    """RP, EEV, VSS, WS and EVPI of a stochastic problem whose optimum is ``rp``."""
    objective = _objective(problem)
    p = objective.params
    scenarios = scenario_set(problem.study, p.scenarios, p.draws, p.seed)
    cur = problem.config.settings.currency
    ev = expected_value_problem(problem).solve()
    rows = [("recourse_problem", rp, cur, "RP: the stochastic plan's objective")]
    if ev.has_plan:
        opts = ev.built.ctx.options
        plan = pd.DataFrame({"subunit_id": opts["subunit_id"], "action_id": opts["action_id"],
                             "amount": ev.amounts})
        eev = fixed_plan_value(problem, plan)
        rows.append(("expected_value_plan_at_mean_inputs", float(ev.objective), cur,
                     "the plan made on the average numbers, judged on them"))
        rows.append(("expected_value_plan_on_scenarios", np.nan if eev is None else eev, cur,
                     "EEV: that plan judged on the scenarios" + (
                         "" if eev is not None else " (it breaks a scenario's limits)")))
        rows.append(("value_of_stochastic_solution", np.inf if eev is None else rp - eev, cur,
                     "VSS = RP - EEV"))
    else:
        rows.append(("expected_value_plan_at_mean_inputs", np.nan, cur,
                     f"no plan on the average numbers ({ev.status})"))
    values = []
    for s in range(len(scenarios)):
        alone = wait_and_see_problem(problem, s).solve()
        values.append(float(alone.objective) if alone.has_plan else np.nan)
    ws = risk_measure(np.asarray(values), scenarios.probabilities, p.measure, p.level)
    rows.append(("wait_and_see", ws, cur, "WS: each scenario planned with its own numbers"))
    rows.append(("expected_value_of_perfect_information", ws - rp, cur, "EVPI = WS - RP"))
    return pd.DataFrame(rows, columns=["metric", "value", "unit", "meaning"])
