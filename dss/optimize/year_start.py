"""A start for the LP of a phased model: the LP over a working set of options first.

With planning years every (subunit, action) pair :math:`p` is an option per start year,
sharing the pair's land: :math:`\\sum_y x_{p,y} \\le A_p`. HiGHS's dual simplex starts with
every profitable option at its upper bound, so every one of these rows starts violated and
is repaired one pivot at a time (10,000 subunits x 3 years: 9,600 pivots, against 380 for
the model without years, whose options are bounded by their variables alone).

The LP's optimum uses few pairs when a budget binds (1,029 of 44,519 there), and those are
the pairs whose benefit per unit of money is highest. So the LP is first solved over a
working set :math:`W` of options, the others fixed at 0 (HiGHS's presolve removes them), and
the full LP is then solved from that optimal basis, the others entering at 0. The second
solve is HiGHS's own, on the full model: the optimum is the LP's, whatever :math:`W` is; the
working set only decides how far the start is from it.

The working set (:func:`working_set`): with objective coefficients :math:`c_k` on the
amounts alone (benefits linear in them, maximised), each option's benefit per unit of
money at capacity is :math:`\\rho_k = c_k \\bar x_k / (c^{whole}_k \\bar x_k + f_k)` (whole
cost :math:`c^{whole}_k`, fixed cost :math:`f_k`); a pair is ranked by its best
:math:`\\rho_k` and costs at most :math:`m_p = \\max_k (c^{whole}_k \\bar x_k + f_k)`. The
best-ranked pairs enter, every start year of each, until their cost reaches
:data:`MONEY_FACTOR` times the study-wide budget :math:`B` (the budget's ``total``, or the
sum of ``per_year``), plus every option with a positive lower bound. Without such a budget,
without a maximised linear objective, or when the set would hold half of the options or
more, there is no working set and the LP is solved from scratch. A working set whose LP has
no optimum (e.g. a target it cannot meet) is dropped the same way.

Measured (``benchmarks/bench_years.py``, 10,000 subunits x 3 years, HiGHS 1.16, one thread):
the LP took 1.0 s from scratch (without presolve) and 0.43 s in two steps (working set
0.24 s, the full LP from its basis 0.18 s), reaching the same plan. :data:`MONEY_FACTOR`
1.5, 3 and 6 took 0.42, 0.47 and 0.91 s.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from dss.optimize import highs as core

LOGGER = logging.getLogger(__name__)

MONEY_FACTOR = 2.0
"""The working set's pairs may cost up to this many times the study-wide budget."""


def study_budget(problem: Any) -> float | None:
    """The study-wide budget :math:`B`: the least of each budget component's ``total`` and
    the sum of its ``per_year`` (None without either)."""
    limits = []
    for comp in problem.components:
        if comp.type_name != "budget":
            continue
        if comp.params.total is not None:
            limits.append(float(comp.params.total))
        if comp.params.per_year:
            limits.append(float(sum(comp.params.per_year.values())))
    return min(limits) if limits else None


def working_set(ctx: Any, cost: np.ndarray, maximize: bool, lower: np.ndarray,
                budget: float | None) -> np.ndarray | None:
    """Options of the working set (a mask over the options; see the module docstring), or
    None when the rule does not apply.

    Args:
        ctx: The phased model's build context.
        cost: Objective coefficient of every column (the options are columns 0 .. n-1).
        maximize: Whether the objective is maximised.
        lower: Lower bound of every column.
        budget: The study-wide budget :math:`B` (:func:`study_budget`).
    """
    n = ctx.n_options
    if ctx.phasing is None or not maximize or budget is None or n == 0:
        return None
    if np.any(cost[n:] != 0):  # benefits through other columns (curves, penalties)
        return None
    opts = ctx.options
    cap = opts["capacity"].to_numpy(float)
    money = opts["unit_cost"].to_numpy(float) * cap + opts["fixed_cost"].to_numpy(float)
    c = cost[:n]
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(money > 0, c * cap / money, np.inf)
    rho = np.where((c > 0) & (cap > 0), rho, -np.inf)
    pair = ctx.phasing.pair
    n_pairs = int(pair.max()) + 1
    score = np.full(n_pairs, -np.inf)
    np.maximum.at(score, pair, rho)
    most = np.zeros(n_pairs)
    np.maximum.at(most, pair, money)
    ranked = np.argsort(-score, kind="stable")
    ranked = ranked[score[ranked] > 0]
    if not len(ranked):
        return None
    within = int(np.searchsorted(np.cumsum(most[ranked]), MONEY_FACTOR * budget)) + 1
    chosen = np.zeros(n_pairs, bool)
    chosen[ranked[:within]] = True
    keep = chosen[pair] | (lower[:n] > 0)
    return keep if keep.sum() < n / 2 else None


def start_basis(highs: Any, keep: np.ndarray, col_lower: np.ndarray, col_upper: np.ndarray,
                presolve: str) -> Any | None:
    """Solve the LP held in ``highs`` with the options outside ``keep`` fixed at 0 (with
    ``presolve``), restore their bounds and return the optimal basis, those options at
    their lower bound (None, and the bounds restored, when that LP has no optimum)."""
    hs = core.highspy_module()
    out = np.flatnonzero(~keep).astype(np.int32)
    zeros = np.zeros(len(out))
    _status, saved = highs.getOptionValue("presolve")
    highs.changeColsBounds(len(out), out, zeros, zeros)
    highs.setOptionValue("presolve", presolve)
    try:
        highs.clearSolver()
        core.run(highs)
        basis = highs.getBasis() if core.is_optimal(highs) else None
    finally:
        highs.setOptionValue("presolve", saved)
        highs.changeColsBounds(len(out), out, col_lower[out], col_upper[out])
    if basis is None or not basis.valid:
        LOGGER.info("working set without an optimum: the LP starts from scratch")
        return None
    status = list(basis.col_status)
    for j in out.tolist():
        status[j] = hs.HighsBasisStatus.kLower
    basis.col_status = status
    LOGGER.info("LP started from its optimum over a working set of %d of %d options",
                int(keep.sum()), len(keep))
    return basis
