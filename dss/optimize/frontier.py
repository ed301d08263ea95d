"""Trade-off frontiers between two metrics by the ε-constraint method.

With metrics :math:`f_x, f_y` (:mod:`dss.optimize.metrics`) turned into ones to maximise,
:math:`g_x = s_x f_x`, :math:`g_y = s_y f_y` (:math:`s = -1` for ``cost``), and the
problem's feasible set :math:`X` (budget, land, zones, targets...):

1. **Endpoints** (payoff table, lexicographic so that both are non-dominated):

   .. math::
       g_x^* = \\max_{x \\in X} g_x, \\qquad
       A = \\arg\\max \\{ g_y(x) : x \\in X,\\; g_x(x) \\ge g_x^* - \\tau_x \\}

       g_y^* = \\max_{x \\in X} g_y, \\qquad
       B = \\arg\\max \\{ g_x(x) : x \\in X,\\; g_y(x) \\ge g_y^* - \\tau_y \\}

   with a tiny tolerance :math:`\\tau = 10^{-9} \\max(1, |g^*|)` so the second stage stays
   feasible after rounding.
2. **Grid**: :math:`\\varepsilon_i = g_x(B) + \\tfrac{i}{n-1}\\,(g_x(A) - g_x(B))`,
   :math:`i = 1, \\dots, n-2`, and for each

   .. math:: \\max \\{ g_y(x) : x \\in X,\\; g_x(x) \\ge \\varepsilon_i \\}

3. **Filter**: keep the points that no other point dominates (at least as good on both
   metrics and better on one, beyond a tolerance of :math:`10^{-6}` of the metric's
   magnitude), and drop repeats of the same point.

The model is built and loaded into HiGHS once (:class:`~dss.optimize.persistent.
PersistentModel`): the ε-constraint is one extra row whose bound changes, and the objective
is swapped by changing column costs.

A plan's no-regret actions are the (subunit, action) pairs with a positive amount in every
frontier plan: whatever the weight given to the two metrics, they are part of the plan.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dss.errors import InputError, Issue, SolveError
from dss.optimize.build import ProgressFn, compile_problem
from dss.optimize.metrics import Metric
from dss.optimize.persistent import LinearForm, PersistentModel, Solution, amounts_from
from dss.optimize.problem import Problem
from dss.optimize.solve import EXIT_CODES

LOGGER = logging.getLogger(__name__)

LEXICOGRAPHIC_TOLERANCE = 1e-9
"""Relative tolerance :math:`\\tau` by which the first objective may give way in the
lexicographic second stage at the endpoints."""

DOMINANCE_TOLERANCE = 1e-6
"""Relative tolerance (of each metric's range) below which two values count as equal."""

AMOUNT_TOLERANCE = 1e-6
"""Amounts at or below this share of the option's capacity (at least 1 unit) count as zero
in plans and the no-regret analysis (solver round-off)."""


@dataclass
class FrontierResult:
    """A computed frontier.

    Attributes:
        x, y: The two metrics.
        points: Every solved point (``role``: endpoint_y, interior, endpoint_x), with
            ``dominated`` flags; columns point, role, epsilon (the bound on x of an interior
            point; x itself at an endpoint), x, y, spend, status, gap.
        frontier: The non-dominated points only, from the y endpoint to the x endpoint
            (x improving, y worsening).
        plans: Amount of every option in each frontier plan (rows as ``frontier``).
        no_regret: (subunit, action) pairs positive in every frontier plan.
        options: The decision options (subunit_id, action_id, unit, capacity), one per
            column of plans.
        seconds: Wall-clock time.
    """

    x: Metric
    y: Metric
    points: pd.DataFrame
    frontier: pd.DataFrame
    plans: np.ndarray
    no_regret: pd.DataFrame
    options: pd.DataFrame
    currency: str = "CNY"
    seconds: float = 0.0
    units: dict[str, str] = field(default_factory=dict)


def _fix(pm: PersistentModel, row: int, form: LinearForm, metric: Metric, good: float
         ) -> None:
    """Constrain :math:`s f(x) \\ge` ``good`` on ``row``, the row of ``form`` (:math:`f`
    without its constant)."""
    if metric.maximize:
        pm.set_row_bounds(row, good - form.constant, None)
    else:
        pm.set_row_bounds(row, None, -good - form.constant)


def _tolerance(value: float) -> float:
    return LEXICOGRAPHIC_TOLERANCE * max(1.0, abs(value))


def frontier(problem: Problem, x: Metric, y: Metric, points: int = 11,
             progress: ProgressFn | None = None, warm_start: bool = True) -> FrontierResult:
    """Compute the x-y trade-off frontier of a problem (see the module docstring).

    Args:
        problem: The problem (its constraints bound every point; its objective is replaced).
        x: The metric constrained by ε.
        y: The metric maximised (minimised for ``cost``).
        points: Grid points including both endpoints (at least 2).
        progress: ``progress(stage, done, total)`` for ``build`` and ``solve``.
        warm_start: Keep HiGHS's basis and incumbent between solves.

    Raises:
        InputError: on unknown metric arguments, the same metric twice, or points < 2.
        SolveError: if an endpoint cannot be solved (infeasible, unbounded, solver error).
    """
    start = time.perf_counter()
    if points < 2:
        raise InputError([Issue("--points", f"{points} is too few (at least 2: the two "
                                            "endpoints)")], "invalid frontier")
    if x == y:
        raise InputError([Issue("--x/--y", f"both are {x.name}; choose two different "
                                           "metrics")], "invalid frontier")
    built = compile_problem(problem, progress=progress)
    issues = x.check(built) + y.check(built)
    if issues:
        raise InputError(issues, "invalid metric")
    pm = PersistentModel(built, warm_start=warm_start)
    fx, fy = pm.linear(x.expression(built)), pm.linear(y.expression(built))
    cost = pm.linear(built.model.cost)
    gx, gy = fx.scaled(x.sign), fy.scaled(y.sign)
    row_x = pm.add_row(fx, None, None)
    row_y = pm.add_row(fy, None, None)
    total = 4 + max(0, points - 2)
    step = 0

    def run(objective: LinearForm, what: str) -> Solution:
        nonlocal step
        pm.set_objective(objective, maximize=True)
        sol = pm.solve()
        step += 1
        if progress is not None:
            progress("solve", step, total)
        LOGGER.info("frontier %s: %s objective=%s", what, sol.status, sol.objective)
        return sol

    def need(sol: Solution, what: str) -> np.ndarray:
        if not sol.has_plan:
            err = SolveError(f"the frontier endpoint {what} could not be solved "
                             f"({sol.status}); check the model with `dss solve`")
            err.exit_code = EXIT_CODES.get(sol.status, 5)
            raise err
        return sol.x

    # endpoint A: best x, then best y with x held at its optimum
    best_x = gx(need(run(gx, f"max {x.name}"), x.name))
    _fix(pm, row_x, fx, x, best_x - _tolerance(best_x))
    sol_a = run(gy, f"{y.name} with {x.name} at its best")
    need(sol_a, f"{y.name} | {x.name}*")
    pm.set_row_bounds(row_x, None, None)
    # endpoint B: best y, then best x with y held at its optimum
    best_y = gy(need(run(gy, f"max {y.name}"), y.name))
    _fix(pm, row_y, fy, y, best_y - _tolerance(best_y))
    sol_b = run(gx, f"{x.name} with {y.name} at its best")
    need(sol_b, f"{x.name} | {y.name}*")
    pm.set_row_bounds(row_y, None, None)

    lo, hi = gx(sol_b.x), gx(sol_a.x)
    solved: list[tuple[str, float, Solution]] = [("endpoint_y", lo, sol_b)]
    for i in range(1, points - 1):
        eps = lo + (hi - lo) * i / (points - 1)
        _fix(pm, row_x, fx, x, eps)
        solved.append(("interior", eps, run(gy, f"max {y.name} s.t. {x.name} >= {eps:g}")))
    pm.set_row_bounds(row_x, None, None)
    solved.append(("endpoint_x", hi, sol_a))

    rows, plans = [], []
    for i, (role, eps, sol) in enumerate(solved):
        has = sol.has_plan
        rows.append({"point": i, "role": role, "epsilon": x.sign * eps + 0.0,
                     "x": fx(sol.x) if has else np.nan, "y": fy(sol.x) if has else np.nan,
                     "spend": cost(sol.x) if has else np.nan, "status": sol.status,
                     "gap": sol.gap if sol.gap is not None else np.nan})
        plans.append(amounts_from(pm, sol.x) if has else None)
    table = pd.DataFrame(rows)
    table["dominated"] = dominated(table, x, y)
    keep = ~table["dominated"].to_numpy() & table["x"].notna().to_numpy()
    front = table[keep].assign(_g=x.sign * table["x"]).sort_values("_g", kind="stable")
    front = front.drop(columns="_g")
    kept_plans = (np.array([plans[i] for i in front.index]) if len(front)
                  else np.zeros((0, built.ctx.n_options)))
    front = front.drop(columns="dominated").reset_index(drop=True)
    options = built.ctx.options[["subunit_id", "action_id", "unit", "capacity"]].reset_index(
        drop=True)
    result = FrontierResult(x, y, table, front, kept_plans,
                            no_regret_table(kept_plans, options, built.ctx.study.actions),
                            options, problem.config.settings.currency,
                            time.perf_counter() - start)
    cur = result.currency
    result.units = {"x": x.unit(cur), "y": y.unit(cur), "epsilon": x.unit(cur),
                    "spend": cur, "gap": "fraction"}
    LOGGER.info("frontier %s vs %s: %d points, %d non-dominated, %.2f s", x.name, y.name,
                len(table), len(front), result.seconds)
    return result


def dominated(table: pd.DataFrame, x: Metric, y: Metric) -> np.ndarray:
    """Flag points dominated by another point, and repeats of an earlier point.

    Point :math:`p` is dominated when some :math:`q` has :math:`g_x(q) \\ge g_x(p) - t_x`,
    :math:`g_y(q) \\ge g_y(p) - t_y` and is better by more than the tolerance on one of
    them; :math:`t` is :data:`DOMINANCE_TOLERANCE` times the metric's largest magnitude (at
    least 1).
    """
    gx = x.sign * table["x"].to_numpy(float)
    gy = y.sign * table["y"].to_numpy(float)
    ok = np.isfinite(gx) & np.isfinite(gy)
    if not ok.any():
        return ~ok
    tx = DOMINANCE_TOLERANCE * max(1.0, float(np.abs(gx[ok]).max()))
    ty = DOMINANCE_TOLERANCE * max(1.0, float(np.abs(gy[ok]).max()))
    out = ~ok
    for p in np.flatnonzero(ok):
        for q in np.flatnonzero(ok):
            if p == q:
                continue
            no_worse = gx[q] >= gx[p] - tx and gy[q] >= gy[p] - ty
            better = gx[q] > gx[p] + tx or gy[q] > gy[p] + ty
            same = abs(gx[q] - gx[p]) <= tx and abs(gy[q] - gy[p]) <= ty
            if no_worse and (better or (same and q < p)):
                out[p] = True
                break
    return out


def _threshold(options: pd.DataFrame) -> np.ndarray:
    """Per-option amount below which an amount counts as zero."""
    cap = options["capacity"].to_numpy(float) if "capacity" in options else np.ones(len(options))
    return AMOUNT_TOLERANCE * np.maximum(1.0, cap)


def no_regret_table(plans: np.ndarray, options: pd.DataFrame,
                    actions: pd.DataFrame | None = None) -> pd.DataFrame:
    """(subunit, action) pairs with a positive amount in every plan, with the least and
    largest amount across plans."""
    columns = ["subunit_id", "action_id", "action", "unit", "min_amount", "max_amount",
               "plans"]
    if len(plans) == 0:
        return pd.DataFrame(columns=columns)
    always = (plans > _threshold(options)).all(axis=0)
    idx = np.flatnonzero(always)
    names: Any = {}
    if actions is not None:
        names = dict(zip(actions["action_id"], actions["name"], strict=True))
    table = pd.DataFrame({
        "subunit_id": options["subunit_id"].to_numpy()[idx],
        "action_id": options["action_id"].to_numpy()[idx],
        "action": [names.get(a, "") for a in options["action_id"].to_numpy()[idx]],
        "unit": options["unit"].to_numpy()[idx],
        "min_amount": plans[:, idx].min(axis=0),
        "max_amount": plans[:, idx].max(axis=0),
        "plans": len(plans),
    }, columns=columns)
    return table.sort_values(["subunit_id", "action_id"], kind="stable").reset_index(drop=True)


def plans_table(result: FrontierResult) -> pd.DataFrame:
    """Long table of every frontier plan: point, subunit, action, amount (positive only)."""
    parts = []
    for i, plan in enumerate(result.plans):
        idx = np.flatnonzero(plan > _threshold(result.options))
        parts.append(pd.DataFrame({
            "point": int(result.frontier["point"].iat[i]),
            "subunit_id": result.options["subunit_id"].to_numpy()[idx],
            "action_id": result.options["action_id"].to_numpy()[idx],
            "amount": plan[idx], "unit": result.options["unit"].to_numpy()[idx]}))
    if not parts:
        return pd.DataFrame(columns=["point", "subunit_id", "action_id", "amount", "unit"])
    return pd.concat(parts, ignore_index=True)
