"""Presolve checks with planning years: do the budgets cover the work that must be done?

With planning years a zone requirement or a locked-in amount binds a (subunit, action) pair's
starts over all the years together, so it sets no lower bound on any one option and the
one-year checks of :mod:`dss.optimize.presolve` see nothing. Here the required amount
:math:`r_p` of each pair :math:`p` is priced at its cheapest start:

- its whole cost (capital, fixed, annual to the benefit horizon :math:`E`) is at least
  :math:`r_p \\min_y c_{p,y} + f_p [r_p > 0]`, the latest start being the cheapest; the
  ``total``, ``per_agency`` and ``per_township`` budgets must cover it;
- the money it takes within the planning years is at least
  :math:`r_p (c^{cap}_p + c^{ann}_p) + f_p [r_p > 0]` (started in the last year, one year of
  annual cost); the sum of the yearly budgets (``per_year``, ``per_agency_year``,
  ``per_township_year``) must cover it, with or without carry-over.

A problem that fails is infeasible whatever the plan; each failure is reported at its
budget key with what the required work costs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from dss.errors import Issue
from dss.optimize.components.constraints import Budget, Locks, ZoneRules
from dss.optimize.context import BuildContext
from dss.optimize.problem import Problem

TOLERANCE = 1e-9


def required_by_pair(problem: Problem, ctx: BuildContext) -> tuple[np.ndarray, str]:
    """The amount each pair must start over the years (on each pair's first-year option,
    0 elsewhere), and the components that require it."""
    opts = ctx.options
    pairs = ctx.pairs()
    first = np.r_[True, pairs[1:] != pairs[:-1]]  # options are ordered by pair, then year
    cap = opts["capacity"].to_numpy(float)
    integer = opts["integer"].to_numpy(bool)
    need = np.zeros(len(opts))
    who: set[str] = set()
    for comp in problem.components:
        if isinstance(comp, ZoneRules):
            _permitted, required = comp.shares(ctx)
            amount = np.where(integer, np.ceil(cap * required - 1e-9), cap * required)
            if (amount[first] > 1e-12).any():
                who.add(comp.name)
            need = np.maximum(need, np.where(first, amount, 0.0))
        elif isinstance(comp, Locks):
            key, by_sub = ctx.option_index()
            for s, what in comp.params.locked_in.items():
                wanted = ({a: "all" for a in opts.loc[by_sub.get(s, []), "action_id"]}
                          if what == "all" else what)
                for a, amount in wanted.items():
                    if (s, a) in key:
                        k = key[(s, a)]  # the pair's first-year option
                        need[k] = max(need[k], cap[k] if amount == "all" else float(amount))
                        who.add(comp.name)
    return need, ", ".join(sorted(who))


def check_year_budgets(problem: Problem, ctx: BuildContext, errors: list[Issue]) -> None:
    """Append an issue for each budget below the least cost of the required work."""
    if ctx.phasing is None:
        return
    need, who = required_by_pair(problem, ctx)
    if not (need > 1e-12).any():
        return
    opts = ctx.options
    pairs = ctx.pairs()
    unit_cost = opts["unit_cost"].to_numpy(float)
    cheapest = pd.Series(unit_cost).groupby(pairs).min().reindex(pairs).to_numpy()
    fixed = np.where(need > 1e-12, opts["fixed_cost"].to_numpy(float), 0.0)
    whole = need * cheapest + fixed
    within = need * (ctx.phasing.capital + ctx.phasing.annual) + fixed
    columns = {"agency": opts["agency"].to_numpy(), "township": opts["township"].to_numpy()}

    def check(limit: float, cost: float, key: str, what: str) -> None:
        if cost > limit * (1 + TOLERANCE) + 1e-6:
            errors.append(Issue("model", f"{what} of {limit:,.10g} CNY is below the "
                                         f"{cost:,.10g} CNY that the work required by {who} "
                                         "costs at the least (started in the last planning "
                                         f"year): no plan fits (raise it to at least "
                                         f"{cost:,.10g} CNY, or require less)", None, key))

    def by_group(costs: np.ndarray, column: str) -> Callable[[str], float]:
        spent = pd.Series(costs).groupby(columns[column]).sum()
        return lambda g: float(spent.get(g, 0.0))

    for comp in problem.components:
        if not isinstance(comp, Budget):
            continue
        p, where = comp.params, f"components.{comp.name}"
        if p.total is not None:
            check(p.total, float(whole.sum()), f"{where}.total", "the budget")
        for field, column in (("per_agency", "agency"), ("per_township", "township")):
            spent = by_group(whole, column)
            for g, limit in getattr(p, field).items():
                check(limit, spent(g), f"{where}.{field}.{g}", f"the {column} budget of {g!r}")
        if p.per_year:
            check(sum(p.per_year.values()), float(within.sum()), f"{where}.per_year",
                  "the sum of the yearly budgets")
        for field, column in (("per_agency_year", "agency"),
                              ("per_township_year", "township")):
            spent = by_group(within, column)
            for g, by_year in getattr(p, field).items():
                check(sum(by_year.values()), spent(g), f"{where}.{field}.{g}",
                      f"the sum of the yearly budgets of {g!r}")
