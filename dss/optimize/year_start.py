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
best-ranked pairs enter, every start year of each, until their cost reaches :math:`F`
(:data:`MONEY_FACTOR`) times the study-wide budget :math:`B` (the budget's ``total``, or
the sum of ``per_year``), plus every option with a positive lower bound. The set must hold
the margin of the plan: when the working set's plan uses more than half of its ranked pairs,
:math:`F` grows by :data:`GROWTH` once (:func:`phased_start`). Without such a budget,
without a maximised linear objective, when the set would hold half of the options or more,
or when its LP has no optimum (e.g. a target it cannot meet), the LP is solved from scratch.

The working set's LP is made of the options kept, their fixed-cost flags and every other
column; the flags of the options left out stay at 0 with them.

Measured (``benchmarks/bench_years.py``, 10,000 subunits x 3 years, HiGHS 1.16, one thread,
on a 2-core machine shared with other work, load 2 to 4, so the times are rough): from
scratch (without presolve) the LP took 1.0 s, 9,675 pivots. With :math:`F` = 2, 4 and 8 the
working set held 1,868, 3,514 and 6,811 pairs (the plan uses 1,029), its LP took 0.12,
0.20 and 0.39 s, and the full LP from its basis 2,976, 1,998 and 137 pivots (0.19, 0.15 to
0.27 and 0.10 to 0.2 s), the same plan each time. With :math:`F` = 1 the set barely held
the plan and the full LP became a 2.8 s primal simplex: the rule above grows such a set
(at :math:`F` = 1 and 2 the plan used more than half of the set's pairs).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from dss.optimize import highs as core

LOGGER = logging.getLogger(__name__)

MONEY_FACTOR = 4.0
"""The working set's pairs may cost up to this many times the study-wide budget."""

GROWTH = 4.0
"""How much :data:`MONEY_FACTOR` grows when the working set's plan uses more than half of
its pairs."""


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
                budget: float | None, factor: float = MONEY_FACTOR) -> np.ndarray | None:
    """Options of the working set (a mask over the options; see the module docstring), or
    None when the rule does not apply.

    Args:
        ctx: The phased model's build context.
        cost: Objective coefficient of every column (the options are columns 0 .. n-1).
        maximize: Whether the objective is maximised.
        lower: Lower bound of every column.
        budget: The study-wide budget :math:`B` (:func:`study_budget`).
        factor: :math:`F`.
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
    within = int(np.searchsorted(np.cumsum(most[ranked]), factor * budget)) + 1
    chosen = np.zeros(n_pairs, bool)
    chosen[ranked[:within]] = True
    keep = chosen[pair] | (lower[:n] > 0)
    return keep if keep.sum() < n / 2 else None


def phased_start(highs: Any, matrix: Any, ctx: Any, budget: float | None,
                 options: dict[str, Any]) -> Any | None:
    """The basis to start the phased LP held in ``highs`` from (None: from scratch): the
    optimum over the working set, grown once when its plan uses more than half of its
    ranked pairs (see the module docstring)."""
    lower = matrix.col_lower
    flags = np.full(ctx.n_options, -1, dtype=np.int64)
    for k, var in ctx.used_vars.items():
        flags[k] = matrix.var_col.get(id(var), -1)
    for factor in (MONEY_FACTOR, MONEY_FACTOR * GROWTH):
        keep = working_set(ctx, matrix.cost, matrix.maximize, lower, budget, factor)
        if keep is None:
            return None
        found = start_basis(highs, matrix, keep, options, flags)
        if found is None:
            return None
        basis, used = found
        pair = ctx.phasing.pair
        ranked = np.unique(pair[keep & ~(lower[:len(keep)] > 0)])
        if np.unique(pair[used]).size <= ranked.size / 2:
            LOGGER.info("the LP starts from its optimum over the working set")
            return basis
    LOGGER.info("the working set holds too little of the plan: the LP starts from scratch")
    return None


def start_basis(highs: Any, matrix: Any, keep: np.ndarray, options: dict[str, Any],
                flags: np.ndarray | None = None) -> tuple[Any, np.ndarray] | None:
    """The optimal basis of the LP relaxation of ``matrix`` over the options in ``keep``
    (every other column kept, but the fixed-cost flags of the options left out: ``flags``
    gives each option's flag column, -1 for none), as a basis of the whole LP held in
    ``highs``: the columns left out at their lower bound 0 and the rows they alone fill
    with their slack basic; and the options its plan uses (a mask).

    The working set's LP is its own HiGHS instance (with ``options``, e.g. presolve), made
    from the columns of ``matrix`` it keeps. None when that LP has no optimum, when a row
    left without columns cannot hold at 0, or when ``highs`` no longer holds ``matrix``'s
    shape (rows added since).
    """
    hs = core.highspy_module()
    n = len(keep)
    if highs.getNumRow() != matrix.n_rows or highs.getNumCol() != matrix.n_cols:
        return None
    others = np.ones(matrix.n_cols - n, bool)
    if flags is not None:
        out = flags[~keep & (flags >= n)]
        others[out[matrix.col_lower[out] == 0] - n] = False
    cols = np.concatenate([np.flatnonzero(keep), n + np.flatnonzero(others)])
    first, length = matrix.start[cols], np.diff(matrix.start)[cols]
    offset = np.cumsum(length) - length
    entry = np.repeat(first - offset, length) + np.arange(int(length.sum()))
    rows, index = np.unique(matrix.index[entry], return_inverse=True)
    empty = np.ones(matrix.n_rows, bool)
    empty[rows] = False
    if np.any(matrix.row_lower[empty] > 0) or np.any(matrix.row_upper[empty] < 0):
        return None  # a row only the options left out can fill
    lp = hs.HighsLp()
    lp.num_col_, lp.num_row_ = len(cols), len(rows)
    lp.col_cost_, lp.offset_ = matrix.cost[cols], matrix.offset
    lp.col_lower_, lp.col_upper_ = matrix.col_lower[cols], matrix.col_upper[cols]
    lp.row_lower_, lp.row_upper_ = matrix.row_lower[rows], matrix.row_upper[rows]
    lp.sense_ = hs.ObjSense.kMaximize if matrix.maximize else hs.ObjSense.kMinimize
    lp.a_matrix_.format_ = hs.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = len(cols), len(rows)
    lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum(length)]).astype(np.int32)
    lp.a_matrix_.index_ = index.astype(np.int32)
    lp.a_matrix_.value_ = matrix.value[entry]
    part = core.new_highs()
    core.configure(part, options)
    core.load(part, lp)
    seconds = core.run(part)
    if not core.is_optimal(part):
        LOGGER.info("the working set's LP has no optimum: the LP starts from scratch")
        return None
    found = part.getBasis()
    if not found.valid:
        return None
    col_status = np.full(matrix.n_cols, hs.HighsBasisStatus.kLower, dtype=object)
    col_status[cols] = np.asarray(list(found.col_status), dtype=object)
    row_status = np.full(matrix.n_rows, hs.HighsBasisStatus.kBasic, dtype=object)
    row_status[rows] = np.asarray(list(found.row_status), dtype=object)
    basis = hs.HighsBasis()
    basis.col_status, basis.row_status = col_status.tolist(), row_status.tolist()
    basis.valid = True
    used = np.zeros(n, bool)
    x = np.asarray(part.getSolution().col_value, dtype=float)
    options_in = cols < n
    used[cols[options_in]] = x[options_in] > 1e-9
    LOGGER.info("the working set's LP: %d of %d options, %.2f s", int(keep.sum()), n, seconds)
    return basis, used
