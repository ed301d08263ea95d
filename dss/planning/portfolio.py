"""Portfolios: several distinct near-optimal plans, and how often each unit is chosen.

:func:`portfolio` is prioritizr's cuts portfolio (``add_cuts_portfolio``) on HiGHS: after
each solve, a no-good cut excludes the plan just found,

.. math:: \\sum_{(i,z):\\, x^*_{iz} = 1} (1 - x_{iz}) + \\sum_{(i,z):\\, x^*_{iz} = 0} x_{iz}
   \\ge 1

(over the free binary decisions), and the problem is solved again. The plans come out in
order of objective: the k-th is the best plan differing from the first k-1. With ``gap``,
only plans within that relative distance of the optimum are kept (a gap portfolio). The
selection frequency of a unit is the share of plans that allocate it to each zone (Marxan's
summed solution ``_ssoln``, divided by the number of plans).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dss.errors import InputError, Issue
from dss.planning.compile import compile_problem
from dss.planning.problem import PlanningProblem
from dss.planning.solve import PlanningResult, SolverOptions, load, solve_model

LOGGER = logging.getLogger(__name__)


@dataclass
class Portfolio:
    """Distinct plans, best first."""

    problem: PlanningProblem
    results: list[PlanningResult]

    def plans(self) -> pd.DataFrame:
        """One row per plan: ``solution`` (1-based), objective, status, units per zone."""
        data = self.problem.data
        rows = []
        for k, r in enumerate(self.results, start=1):
            row = {"solution": k, "objective": r.objective, "status": r.status, "gap": r.gap}
            for z, zone in enumerate(data.zones):
                row[f"units_{zone}"] = float(r.solution[:, z].sum())
            rows.append(row)
        return pd.DataFrame(rows)

    def solutions(self) -> pd.DataFrame:
        """Tidy ``solution, unit, zone, value`` rows of every plan (non-zero values)."""
        data = self.problem.data
        rows = []
        for k, r in enumerate(self.results, start=1):
            for i, z in zip(*np.nonzero(r.solution > 0), strict=True):
                rows.append({"solution": k, "unit": data.unit_ids[i], "zone": data.zones[z],
                             "value": float(r.solution[i, z])})
        return pd.DataFrame(rows, columns=["solution", "unit", "zone", "value"])

    def frequency(self) -> pd.DataFrame:
        """Selection frequency: ``unit, zone, count, frequency`` (share of the plans)."""
        data = self.problem.data
        stack = np.array([r.solution for r in self.results]) if self.results else \
            np.zeros((0, data.n_units, data.n_zones))
        count = stack.sum(axis=0) if len(stack) else np.zeros((data.n_units, data.n_zones))
        rows = []
        for i, unit in enumerate(data.unit_ids):
            for z, zone in enumerate(data.zones):
                rows.append({"unit": unit, "zone": zone, "count": float(count[i, z]),
                             "frequency": float(count[i, z]) / max(len(self.results), 1)})
        return pd.DataFrame(rows)


def portfolio(problem: PlanningProblem, n: int, gap: float | None = None,
              options: SolverOptions | None = None) -> Portfolio:
    """Up to ``n`` distinct plans by no-good cuts (binary decisions only).

    Args:
        problem: The problem.
        n: Number of plans wanted.
        gap: Keep only plans whose objective is within this relative gap of the optimum
            (None: no limit).
        options: Solver options.

    Raises:
        InputError: for proportion decisions or ``n < 1``.
    """
    if not problem.binary:
        raise InputError([Issue("problem", "a cuts portfolio needs binary decisions", None,
                                "decisions")], "invalid portfolio")
    if n < 1:
        raise InputError([Issue("problem", f"n must be >= 1 (got {n})", None, "n")],
                         "invalid portfolio")
    options = options or SolverOptions()
    model = compile_problem(problem)
    loaded = load(model, options)  # held in HiGHS once; each cut is one more row
    free = [v for v in model.decisions if not v.fixed]
    results: list[PlanningResult] = []
    for _ in range(n):
        result = solve_model(model, options, loaded)
        if result.solution is None or result.status not in ("optimal", "feasible",
                                                             "time_limit"):
            break
        results.append(result)
        if len(results) == 1 and gap is not None:
            best = model.objective_value()
            loaded.core.add_row(loaded.core.linear(model.m.objective.expr), None,
                                best + gap * abs(best) + 1e-9)
        ones = [v for v in free if round(v.value or 0.0) == 1]
        zeros = [v for v in free if round(v.value or 0.0) == 0]
        if not free:
            break
        cut = model.linear([-1.0] * len(ones) + [1.0] * len(zeros), [*ones, *zeros])
        loaded.core.add_row(loaded.core.linear(cut), 1 - len(ones), None)
    LOGGER.info("portfolio: %d distinct plans", len(results))
    return Portfolio(problem, results)
